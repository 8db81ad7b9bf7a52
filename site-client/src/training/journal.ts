import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { TwinfedError, sha256Hex } from '@twinfed/shared';
import { fsyncDir, readJsonIfExists, writeFileAtomic } from '../fs-atomic';

/** File name of the journal inside the data directory. */
export const JOURNAL_FILE = 'rounds.json';
/**
 * File name of the journal's append-only log (beside {@link JOURNAL_FILE}): what every round adds (secure-aggregation
 * records, the acknowledged upload, the accepted evaluation, newly pinned peers), one JSON line each, appended and
 * fsync'd, folded into the journal file by its next full write.
 */
export const JOURNAL_LOG_FILE = 'rounds.log';
/** A log longer than this is folded into the journal file instead of growing (a secure round appends ≈ 40–60 KB at k = 108). */
const LOG_FOLD_BYTES = 1 << 20;
/** Directory (inside the data directory) of masked update envelopes stored before they are sent. */
const SECAGG_ENVELOPES_DIR = 'secagg';

const UploadEntrySchema = z.object({
  federationId: z.string(),
  round: z.number().int(),
  baseVersionId: z.string(),
  digest: z.string(),
  status: z.enum(['accepted', 'duplicate']),
  receivedAt: z.string(),
});
/** `metrics` (the values the site reported) is absent in journals written before it was recorded. */
const EvaluationEntrySchema = z.object({
  federationId: z.string(),
  versionId: z.string(),
  n: z.number().int(),
  metrics: z.record(z.string(), z.number()).optional(),
  at: z.string(),
});
/** The digest of the signed plan the site first accepted for a federation (absent in journals written before plans were signed). */
const PlanEntrySchema = z.object({
  federationId: z.string(),
  planSha256: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string(),
});
/** A peer's identity keys as first seen in the coordinator-signed site directory (base64). */
const PeerEntrySchema = z.object({
  siteId: z.string(),
  signPublicKey: z.string(),
  boxPublicKey: z.string(),
  pinnedAt: z.string(),
});
/**
 * What this site did in one secure-aggregation round, each field written once and durably *before* the message it
 * describes is sent: the round as it saw it when it shared (base version, cohort S, threshold t), the exact share
 * message, U2 with the mask keys it masked with, the digest of the masked envelope (its bytes in a file beside), the
 * U3 it signed (and the statement's digest), and what it revealed. A later view that differs is refused.
 */
const SecaggEntrySchema = z.object({
  federationId: z.string(),
  round: z.number().int(),
  baseVersionId: z.string().optional(),
  cohort: z.array(z.string()).optional(),
  threshold: z.number().int().optional(),
  /** The JSON body of the key-share message, re-sent verbatim (dropped once the round closed). */
  shares: z.string().optional(),
  /** U2 with the mask public keys this site was shown (its neighbours' at least; all of U2's with the full view). */
  u2: z.array(z.object({ siteId: z.string(), maskPublicKey: z.string().optional() })).optional(),
  maskedSha256: z.string().optional(),
  consistency: z.object({ u3: z.array(z.string()), digest: z.string() }).optional(),
  /** Whose seed share and whose mask-key share were revealed; the body (re-sent verbatim) is dropped once the round closed. */
  reveal: z
    .object({ seedOf: z.array(z.string()), maskKeyOf: z.array(z.string()), body: z.string().optional() })
    .optional(),
  closed: z.boolean().optional(),
});
/**
 * One line of the log: fields of a secure round's entry, or its closing; an acknowledged upload, an accepted
 * evaluation, or peers pinned for the first time.
 */
const LogRecordSchema = z.union([
  z.object({
    federationId: z.string(),
    round: z.number().int(),
    fields: SecaggEntrySchema.omit({ federationId: true, round: true, closed: true }),
  }),
  z.object({ federationId: z.string(), round: z.number().int(), close: z.literal(true) }),
  z.object({ upload: UploadEntrySchema }),
  z.object({ evaluation: EvaluationEntrySchema }),
  z.object({ peers: z.array(PeerEntrySchema) }),
]);
type LogRecord = z.infer<typeof LogRecordSchema>;
/** The masked statistics contribution of a federation (base64), stored before it is sent and only ever re-sent. */
const StatsEntrySchema = z.object({ federationId: z.string(), masked: z.string(), at: z.string() });
/** The masked baseline contribution of a Cox federation (base64) for its final version, recorded before it is sent. */
const BaselineEntrySchema = z.object({
  federationId: z.string(),
  versionId: z.string(),
  masked: z.string(),
  at: z.string(),
});
const JournalSchema = z.object({
  version: z.literal(1),
  uploads: z.array(UploadEntrySchema),
  evaluations: z.array(EvaluationEntrySchema),
  plans: z.array(PlanEntrySchema).default([]),
  peers: z.array(PeerEntrySchema).default([]),
  secagg: z.array(SecaggEntrySchema).default([]),
  stats: z.array(StatsEntrySchema).default([]),
  /** Masked recalibration histograms sent, one per federation (the same shape as `stats`). */
  recalibration: z.array(StatsEntrySchema).default([]),
  baseline: z.array(BaselineEntrySchema).default([]),
});

/** An acknowledged upload, as recorded. */
export type UploadEntry = z.infer<typeof UploadEntrySchema>;
/** A posted evaluation, as recorded. */
type EvaluationEntry = z.infer<typeof EvaluationEntrySchema>;
/** A federation's pinned plan digest, as recorded. */
type PlanEntry = z.infer<typeof PlanEntrySchema>;
/** The journal's content. */
type JournalData = z.infer<typeof JournalSchema>;
/** A pinned peer. */
type PeerEntry = z.infer<typeof PeerEntrySchema>;
/** This site's record of one secure-aggregation round. */
type SecaggEntry = z.infer<typeof SecaggEntrySchema>;
/** `T` read-only all the way down (plain data: objects and arrays). */
type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;
/** The set-once fields of a {@link SecaggEntry}. */
type SecaggFields = Omit<SecaggEntry, 'federationId' | 'round' | 'closed'>;

/**
 * Equality of two recorded values (JSON data). A list of strings — the cohort S, recorded again at every step of a
 * secure round — is compared element by element instead of as two JSON texts of every id.
 */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b) && a.every((x) => typeof x === 'string'))
    return a.length === b.length && a.every((x, i) => x === b[i]);
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A closed round's entry: the message bodies kept for re-sending dropped, the sets and digests kept. */
function closedEntry(e: SecaggEntry): SecaggEntry {
  const { shares: _shares, ...rest } = e;
  return {
    ...rest,
    closed: true,
    ...(e.reveal ? { reveal: { seedOf: e.reveal.seedOf, maskKeyOf: e.reveal.maskKeyOf } } : {}),
  };
}

/**
 * Replays the log's records onto `data`, in order, each secure-round field set only where it is unset, an upload,
 * evaluation or peer added only where none is recorded for its round, version or site: replaying records the journal
 * file already holds (a crash between a full write and emptying the log) leaves it as it was.
 */
function replay(data: JournalData, records: readonly LogRecord[]): void {
  for (const r of records) {
    if ('upload' in r) {
      const u = r.upload;
      if (!data.uploads.some((x) => x.federationId === u.federationId && x.round === u.round)) data.uploads.push(u);
      continue;
    }
    if ('evaluation' in r) {
      const e = r.evaluation;
      if (!data.evaluations.some((x) => x.versionId === e.versionId)) data.evaluations.push(e);
      continue;
    }
    if ('peers' in r) {
      const pinned = new Set(data.peers.map((p) => p.siteId));
      for (const p of r.peers) {
        if (pinned.has(p.siteId)) continue;
        data.peers.push(p);
        pinned.add(p.siteId);
      }
      continue;
    }
    const i = data.secagg.findIndex((x) => x.federationId === r.federationId && x.round === r.round);
    const current: SecaggEntry = i >= 0 ? data.secagg[i]! : { federationId: r.federationId, round: r.round };
    let next: SecaggEntry;
    if ('close' in r) next = closedEntry(current);
    else {
      const merged: Record<string, unknown> = { ...current };
      for (const [k, v] of Object.entries(r.fields)) if (v !== undefined && merged[k] === undefined) merged[k] = v;
      next = merged as SecaggEntry;
    }
    if (i >= 0) data.secagg[i] = next;
    else data.secagg.push(next);
  }
}

/**
 * The log's complete records and the length they span. The bytes after the last newline are a record torn by a
 * crash while appending (never fsync'd, so never acted on): ignored, as is a last line that does not parse; a damaged
 * line before another one is corruption (`CONFIG_INVALID`).
 */
function readLog(file: string): { records: LogRecord[]; good: number; size: number } {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], good: 0, size: 0 };
    throw e;
  }
  const records: LogRecord[] = [];
  let start = 0;
  for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
    let record: LogRecord | undefined;
    try {
      const parsed = LogRecordSchema.safeParse(JSON.parse(buf.toString('utf8', start, nl)));
      if (parsed.success) record = parsed.data;
    } catch {
      // judged below
    }
    if (!record) {
      if (buf.indexOf(10, nl + 1) < 0) break; // the last line: torn
      throw new TwinfedError('CONFIG_INVALID', `The journal log ${file} has a damaged record before its last one.`);
    }
    records.push(record);
    start = nl + 1;
  }
  return { records, good: start, size: buf.byteLength };
}

/**
 * The site's small local journal (`rounds.json`): the uploads the coordinator acknowledged, the evaluations it
 * accepted and the plan digest the site accepted per federation (written after each acknowledgement, so a restarted
 * site never uploads twice for the same round nor re-posts an evaluation, and refuses a changed plan); and what must
 * hold against a lying coordinator (written *before* sending): the peers' pinned identity keys, each
 * secure-aggregation round's views and messages, the statistics contribution. Every write is atomic and fsync'd; what
 * each round adds (secure-round records, upload, evaluation, new peers) is appended to the log ({@link JOURNAL_LOG_FILE})
 * instead of rewriting the whole file, which grows with every round.
 */
export class Journal {
  private data: JournalData;
  private readonly logFile: string;
  /** Bytes of the log that hold complete records, and its size on disk (larger when its last record is torn). */
  private log: { good: number; size: number };
  /** {@link peer}'s index of the peers list it was built from. */
  private peerIndex: { of: readonly PeerEntry[]; bySite: Map<string, PeerEntry> } | undefined;

  private constructor(
    private readonly file: string,
    data: JournalData,
    log: { good: number; size: number },
  ) {
    this.data = data;
    this.logFile = path.join(path.dirname(file), JOURNAL_LOG_FILE);
    this.log = log;
  }

  /** Opens (or starts) the journal in `dataDir`. Throws `CONFIG_INVALID` when the file is corrupt. */
  static open(dataDir: string): Journal {
    const file = path.join(dataDir, JOURNAL_FILE);
    let raw: unknown;
    try {
      raw = readJsonIfExists(file);
    } catch (e) {
      throw new TwinfedError('CONFIG_INVALID', `The journal ${file} is not valid JSON.`, { cause: e });
    }
    let data: JournalData;
    if (raw === undefined)
      data = {
        version: 1,
        uploads: [],
        evaluations: [],
        plans: [],
        peers: [],
        secagg: [],
        stats: [],
        recalibration: [],
        baseline: [],
      };
    else {
      const parsed = JournalSchema.safeParse(raw);
      if (!parsed.success) throw new TwinfedError('CONFIG_INVALID', `The journal ${file} is malformed.`);
      data = parsed.data;
    }
    const log = readLog(path.join(dataDir, JOURNAL_LOG_FILE));
    replay(data, log.records);
    return new Journal(file, data, { good: log.good, size: log.size });
  }

  /** Path of the journal file. */
  get path(): string {
    return this.file;
  }

  /** The acknowledged upload of `round`, if any. */
  upload(federationId: string, round: number): UploadEntry | undefined {
    return this.data.uploads.find((u) => u.federationId === federationId && u.round === round);
  }

  /** Records an acknowledged upload (durably, before returning). Recording the same round again is a no-op. */
  recordUpload(entry: UploadEntry): void {
    if (this.upload(entry.federationId, entry.round)) return;
    const upload = UploadEntrySchema.parse(entry);
    this.append({ upload }, { ...this.data, uploads: [...this.data.uploads, upload] });
  }

  /** True when the evaluation of `versionId` was already accepted. */
  hasEvaluation(versionId: string): boolean {
    return this.data.evaluations.some((e) => e.versionId === versionId);
  }

  /** Records an accepted evaluation (durably). */
  recordEvaluation(entry: EvaluationEntry): void {
    if (this.hasEvaluation(entry.versionId)) return;
    const evaluation = EvaluationEntrySchema.parse(entry);
    this.append({ evaluation }, { ...this.data, evaluations: [...this.data.evaluations, evaluation] });
  }

  /** The plan digest pinned for a federation (the first signed plan this site accepted for it), if any. */
  pinnedPlan(federationId: string): PlanEntry | undefined {
    return this.data.plans.find((p) => p.federationId === federationId);
  }

  /**
   * Pins a federation's plan digest (durably, before returning). A federation already pinned keeps its digest, unless
   * this site has not taken part in it yet ({@link tookPart}): a plan amended before its first round is pinned anew.
   */
  pinPlan(entry: PlanEntry): void {
    const pinned = this.pinnedPlan(entry.federationId);
    if (pinned && (pinned.planSha256 === entry.planSha256 || this.tookPart(entry.federationId))) return;
    const others = this.data.plans.filter((p) => p.federationId !== entry.federationId);
    this.save({ ...this.data, plans: [...others, PlanEntrySchema.parse(entry)] });
  }

  /**
   * True once this site contributed to the federation something computed under its plan that it cannot take back: an
   * update (acknowledged, or masked for secure aggregation) or its normalisation statistics. From then on the plan it
   * pinned is the only one it works with (an evaluation of the initial model does not count).
   */
  tookPart(federationId: string): boolean {
    return (
      this.data.uploads.some((u) => u.federationId === federationId) ||
      this.data.secagg.some((s) => s.federationId === federationId) ||
      this.data.stats.some((s) => s.federationId === federationId)
    );
  }

  /** The pinned keys of peer `siteId`, if it was ever seen. */
  peer(siteId: string): PeerEntry | undefined {
    // Indexed per peers list (a list is never changed in place: pinning replaces it): a secure round looks up each
    // of its k + 1 sites at every step, among up to every site of the federation.
    if (this.peerIndex?.of !== this.data.peers) {
      const bySite = new Map<string, PeerEntry>();
      for (const p of this.data.peers) if (!bySite.has(p.siteId)) bySite.set(p.siteId, p);
      this.peerIndex = { of: this.data.peers, bySite };
    }
    return this.peerIndex.bySite.get(siteId);
  }

  /**
   * Pins peers' keys the first time they are seen (one durable write for all new ones). Throws `SECAGG_UNTRUSTED_KEY`,
   * pinning nothing, when a key differs from the one pinned before.
   */
  pinPeers(entries: ReadonlyArray<Omit<PeerEntry, 'pinnedAt'>>, at = new Date().toISOString()): void {
    // Looked up in the pinned peers' index ({@link peer}) and among the ones new in this call: a secure round pins its
    // k + 1 sites at every step, and a map of every pinned peer (up to all sites of the federation) was built each time.
    const fresh = new Map<string, PeerEntry>();
    for (const e of entries) {
      const known = this.peer(e.siteId) ?? fresh.get(e.siteId);
      if (!known) {
        const entry = { siteId: e.siteId, signPublicKey: e.signPublicKey, boxPublicKey: e.boxPublicKey, pinnedAt: at };
        fresh.set(e.siteId, entry);
      } else if (known.signPublicKey !== e.signPublicKey || known.boxPublicKey !== e.boxPublicKey) {
        throw new TwinfedError(
          'SECAGG_UNTRUSTED_KEY',
          `The coordinator now lists other keys for site ${e.siteId} than the ones this site pinned on ${known.pinnedAt}.`,
        );
      }
    }
    if (fresh.size === 0) return;
    const added = [...fresh.values()];
    this.append({ peers: added }, { ...this.data, peers: [...this.data.peers, ...added] });
  }

  /**
   * This site's record of secure-aggregation round `round` of `federationId` — the journal's own (never changed in
   * place: each record replaces the entry with a parsed copy), read-only, not a copy: a secure round reads it several
   * times per step, and a copy of its cohort, U2 and share message each time was a measurable part of the round.
   */
  secagg(federationId: string, round: number): DeepReadonly<SecaggEntry> | undefined {
    return this.data.secagg.find((x) => x.federationId === federationId && x.round === round);
  }

  /**
   * Records fields of a secure-aggregation round, durably, before the message they describe is sent. Each field is
   * set once: the same value again is a no-op; another value throws `SECAGG_INCONSISTENT` (the coordinator showed
   * this site another round than before) and writes nothing.
   */
  recordSecagg(federationId: string, round: number, fields: Partial<SecaggFields>): void {
    const current = this.data.secagg.find((x) => x.federationId === federationId && x.round === round) ?? {
      federationId,
      round,
    };
    const fresh = !this.data.secagg.includes(current);
    const set: Record<string, unknown> = {};
    let changed = false;
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      const before = (current as Record<string, unknown>)[k];
      if (before === undefined) {
        set[k] = v;
        changed = true;
      } else if (!same(before, v)) {
        throw new TwinfedError(
          'SECAGG_INCONSISTENT',
          `Secure aggregation, ${federationId} round ${round}: this site already recorded another ${k} (${JSON.stringify(before).slice(0, 200)}); the coordinator now shows ${JSON.stringify(v).slice(0, 200)}.`,
        );
      }
    }
    if (!changed && !fresh) return;
    // Only the fields set now are parsed (a copy, checked): the entry's others were, when they were set. Parsing the
    // whole entry again at every record re-copied S, U2 and U3 (≈ 1,500 ids at 500 sites) about seven times a round.
    const { federationId: _f, round: _r, ...added } = SecaggEntrySchema.parse({ federationId, round, ...set });
    this.append({ federationId, round, fields: set }, this.withSecagg({ ...current, ...added }));
  }

  /** The journal's content with `entry` in place of its round's entry. */
  private withSecagg(entry: SecaggEntry): JournalData {
    return {
      ...this.data,
      secagg: [
        ...this.data.secagg.filter((x) => !(x.federationId === entry.federationId && x.round === entry.round)),
        entry,
      ],
    };
  }

  /**
   * Makes one record durable — appended to the log and fsync'd (the journal file is not rewritten) — and then takes
   * `next` (the content with the record applied) as the journal's content in memory. A log past {@link LOG_FOLD_BYTES}
   * is folded by a full write instead.
   */
  private append(record: LogRecord, next: JournalData): void {
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    if (this.log.good + line.byteLength > LOG_FOLD_BYTES) return this.save(next);
    const created = this.log.size === 0 && !fs.existsSync(this.logFile);
    if (created) fs.mkdirSync(path.dirname(this.logFile), { recursive: true, mode: 0o700 });
    const fd = fs.openSync(this.logFile, 'a', 0o600);
    try {
      if (this.log.size !== this.log.good) fs.ftruncateSync(fd, this.log.good); // drop a torn record first
      fs.writeSync(fd, line);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (created) fsyncDir(path.dirname(this.logFile));
    this.log = { good: this.log.good + line.byteLength, size: this.log.good + line.byteLength };
    this.data = next;
  }

  /**
   * Marks a secure-aggregation round closed: the message bodies kept for re-sending are dropped (nothing is sent for
   * a closed round), the sets and digests that refusals rely on stay.
   */
  closeSecagg(federationId: string, round: number): void {
    const e = this.data.secagg.find((x) => x.federationId === federationId && x.round === round);
    if (!e || e.closed) return;
    this.append({ federationId, round, close: true }, this.withSecagg(closedEntry(e)));
    this.dropMaskedEnvelope(federationId, round);
  }

  private envelopeFile(federationId: string, round: number): string {
    return path.join(
      path.dirname(this.file),
      SECAGG_ENVELOPES_DIR,
      `${sha256Hex(`${federationId}\n${round}`).slice(0, 32)}.envelope`,
    );
  }

  /**
   * Stores the masked update envelope of a secure round (file 0600, fsync'd) and records its digest, both before it is
   * sent. Throws `SECAGG_MASK_REUSE` when another envelope was recorded for the round: the same masks never cover a
   * second vector.
   */
  storeMaskedEnvelope(federationId: string, round: number, envelope: Uint8Array): void {
    const digest = sha256Hex(envelope);
    const known = this.secagg(federationId, round)?.maskedSha256;
    if (known !== undefined && known !== digest)
      throw new TwinfedError(
        'SECAGG_MASK_REUSE',
        `The masks of ${federationId} round ${round} already cover another update; only that one may be sent.`,
      );
    writeFileAtomic(this.envelopeFile(federationId, round), envelope, { mode: 0o600 });
    this.recordSecagg(federationId, round, { maskedSha256: digest });
  }

  /**
   * The stored masked envelope of a secure round, if one was recorded. Throws `SECAGG_MASK_REUSE` when it was
   * recorded but its bytes are gone or altered: the round's masks are spent and nothing else may be sent.
   */
  maskedEnvelope(federationId: string, round: number): Uint8Array | undefined {
    const entry = this.secagg(federationId, round);
    if (!entry?.maskedSha256) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(fs.readFileSync(this.envelopeFile(federationId, round)));
    } catch {
      throw new TwinfedError(
        'SECAGG_MASK_REUSE',
        `The masked update of ${federationId} round ${round} was recorded but its stored bytes are gone; its masks cannot cover another one.`,
      );
    }
    if (sha256Hex(bytes) !== entry.maskedSha256)
      throw new TwinfedError(
        'SECAGG_MASK_REUSE',
        `The stored masked update of ${federationId} round ${round} does not match its recorded digest.`,
      );
    return bytes;
  }

  /** Deletes the stored envelope of a round once acknowledged or closed (its digest stays recorded). */
  dropMaskedEnvelope(federationId: string, round: number): void {
    fs.rmSync(this.envelopeFile(federationId, round), { force: true });
  }

  /** The masked statistics contribution of `federationId` (base64), if one was recorded. */
  statsContribution(federationId: string): string | undefined {
    return this.data.stats.find((s) => s.federationId === federationId)?.masked;
  }

  /** Records the masked statistics contribution before it is sent; another one for the federation throws `SECAGG_MASK_REUSE`. */
  recordStatsContribution(federationId: string, masked: string, at = new Date().toISOString()): void {
    const known = this.statsContribution(federationId);
    if (known === masked) return;
    if (known !== undefined)
      throw new TwinfedError(
        'SECAGG_MASK_REUSE',
        `A statistics contribution for ${federationId} was already recorded; only it may be sent again.`,
      );
    this.save({ ...this.data, stats: [...this.data.stats, StatsEntrySchema.parse({ federationId, masked, at })] });
  }

  /** The masked recalibration histogram recorded for the federation, if any. */
  recalibrationContribution(federationId: string): string | undefined {
    return this.data.recalibration.find((s) => s.federationId === federationId)?.masked;
  }

  /** Records the masked recalibration histogram before it is sent; another one for the federation throws `SECAGG_MASK_REUSE`. */
  recordRecalibrationContribution(federationId: string, masked: string, at = new Date().toISOString()): void {
    const known = this.recalibrationContribution(federationId);
    if (known === masked) return;
    if (known !== undefined)
      throw new TwinfedError(
        'SECAGG_MASK_REUSE',
        `A recalibration histogram for ${federationId} was already recorded; only it may be sent again.`,
      );
    const entry = StatsEntrySchema.parse({ federationId, masked, at });
    this.save({ ...this.data, recalibration: [...this.data.recalibration, entry] });
  }

  /** The masked baseline contribution recorded for a federation's final version, if any. */
  baselineContribution(federationId: string, versionId: string): string | undefined {
    return this.data.baseline.find((s) => s.federationId === federationId && s.versionId === versionId)?.masked;
  }

  /** Records the masked baseline contribution before it is sent; another one for the same version throws `SECAGG_MASK_REUSE`. */
  recordBaselineContribution(federationId: string, versionId: string, masked: string): void {
    const known = this.baselineContribution(federationId, versionId);
    if (known === masked) return;
    if (known !== undefined)
      throw new TwinfedError(
        'SECAGG_MASK_REUSE',
        `A baseline contribution for ${versionId} was already recorded; only it may be sent again.`,
      );
    const entry = BaselineEntrySchema.parse({ federationId, versionId, masked, at: new Date().toISOString() });
    this.save({ ...this.data, baseline: [...this.data.baseline, entry] });
  }

  /** A copy of the journal's content (for `status`). */
  snapshot(): JournalData {
    return structuredClone(this.data);
  }

  /** A full write (atomic, fsync'd) of the journal file, which folds the log into it: the log is emptied after. */
  private save(next: JournalData): void {
    writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    this.data = next;
    if (this.log.size > 0) {
      fs.truncateSync(this.logFile, 0);
      this.log = { good: 0, size: 0 };
    }
  }
}
