/**
 * The site's cohort answers (`cohort-answers.json` in the data directory, mode 0600): every answer is written here
 * before it is sent and, until the coordinator acknowledged it, re-sent verbatim. So a retry, a crash or a second
 * `stats answer` never computes a second table — in particular never a second Laplace draw of the same counts — and a
 * query is answered once. Each acknowledged answer is appended to the site's audit chain with its digest.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { CohortAnswerSchema, TwinfedError, canonicalJson, sha256Hex, type CohortAnswer } from '@twinfed/shared';
import type { SiteAuditLog } from '../audit/site-audit';
import { readJsonIfExists, writeFileAtomic } from '../fs-atomic';

/** File of the cohort answers inside the site data dir. */
export const COHORT_OUTBOX_FILE = 'cohort-answers.json';

const EntrySchema = z.object({
  queryId: z.string(),
  answer: CohortAnswerSchema,
  /** sha256 of the answer's canonical JSON (the coordinator computes the same). */
  digest: z.string(),
  preparedAt: z.string(),
  /** Who at the site decided (`--by`), kept here and in the site's audit chain only. */
  by: z.string().nullable(),
  sentAt: z.string().nullable(),
  /**
   * Secure pooling only: the site's [n, Σx, Σx²] per cell and feature (never sent in the clear), then the masked
   * vector and the cohort it was masked for (recorded before it is sent, re-sent verbatim), and when it was acknowledged.
   */
  pool: z
    .object({
      values: z.array(z.number()),
      masked: z.string().nullable(),
      cohort: z.array(z.string()).nullable(),
      sentAt: z.string().nullable(),
    })
    .optional(),
});
export type CohortOutboxEntry = z.infer<typeof EntrySchema>;
const FileSchema = z.object({ version: z.literal(1), entries: z.array(EntrySchema) });

/** The digest of an answer: sha256 of its canonical JSON. */
export function answerDigest(answer: CohortAnswer): string {
  return sha256Hex(canonicalJson(answer));
}

/** The cohort answers of one site (see the module comment). */
export class CohortOutbox {
  private constructor(
    private readonly file: string,
    private entries: CohortOutboxEntry[],
  ) {}

  /** Opens (or starts) the outbox in `dataDir`; CONFIG_INVALID when the file is damaged. */
  static open(dataDir: string): CohortOutbox {
    const file = path.join(dataDir, COHORT_OUTBOX_FILE);
    let raw: unknown;
    try {
      raw = readJsonIfExists(file);
    } catch {
      raw = null;
    }
    if (raw === undefined) return new CohortOutbox(file, []);
    const parsed = FileSchema.safeParse(raw);
    if (!parsed.success) throw new TwinfedError('CONFIG_INVALID', `The cohort answers file ${file} is damaged.`);
    return new CohortOutbox(file, parsed.data.entries);
  }

  get(queryId: string): CohortOutboxEntry | undefined {
    return this.entries.find((e) => e.queryId === queryId);
  }

  /**
   * Records `answer` (and, under secure pooling, the site's pool values) for `queryId` durably unless one is already
   * there; returns the entry to send.
   */
  stage(
    queryId: string,
    answer: CohortAnswer,
    opts: { at: string; by?: string | undefined; poolValues?: readonly number[] | undefined },
  ): CohortOutboxEntry {
    const existing = this.get(queryId);
    if (existing) return existing;
    const entry: CohortOutboxEntry = {
      queryId,
      answer,
      digest: answerDigest(answer),
      preparedAt: opts.at,
      by: opts.by ?? null,
      sentAt: null,
      ...(opts.poolValues ? { pool: { values: [...opts.poolValues], masked: null, cohort: null, sentAt: null } } : {}),
    };
    this.entries = [...this.entries, entry];
    this.save();
    return entry;
  }

  /** The entries whose pool vector has not been acknowledged yet (secure pooling). */
  unpooled(): CohortOutboxEntry[] {
    return this.entries.filter((e) => e.pool !== undefined && e.pool.sentAt === null && e.sentAt !== null);
  }

  /** Records the masked pool vector and its cohort (before sending); never replaces one recorded before. */
  recordPoolMasked(queryId: string, masked: string, cohort: readonly string[]): void {
    this.updatePool(queryId, (p) => (p.masked === null ? { ...p, masked, cohort: [...cohort] } : p));
  }

  markPoolSent(queryId: string, at: string): void {
    this.updatePool(queryId, (p) => (p.sentAt === null ? { ...p, sentAt: at } : p));
  }

  private updatePool(
    queryId: string,
    f: (p: NonNullable<CohortOutboxEntry['pool']>) => NonNullable<CohortOutboxEntry['pool']>,
  ): void {
    this.entries = this.entries.map((e) => (e.queryId === queryId && e.pool ? { ...e, pool: f(e.pool) } : e));
    this.save();
  }

  markSent(queryId: string, at: string): void {
    this.entries = this.entries.map((e) => (e.queryId === queryId && e.sentAt === null ? { ...e, sentAt: at } : e));
    this.save();
  }

  private save(): void {
    writeFileAtomic(this.file, `${JSON.stringify({ version: 1, entries: this.entries })}\n`, { mode: 0o600 });
  }
}

/** What {@link sendCohortAnswer} needs from the coordinator. */
export interface CohortAnswerApi {
  answerCohortQuery(
    queryId: string,
    answer: CohortAnswer,
  ): Promise<{ status: 'accepted' | 'duplicate'; digest: string }>;
}

/** The outcome of sending one answer. */
export interface SentCohortAnswer {
  entry: CohortOutboxEntry;
  /** The coordinator stored it now, or had it already. */
  status: 'accepted' | 'duplicate';
  /** An answer prepared earlier was sent instead of the one given (a query is answered once). */
  earlier: boolean;
}

/**
 * Stages `answer` (or takes the one staged before), sends it, marks it sent and, the first time it is acknowledged,
 * appends `cohort.answered` / `cohort.refused` to the site's audit chain with the query id and the digest.
 */
export async function sendCohortAnswer(args: {
  outbox: CohortOutbox;
  api: CohortAnswerApi;
  audit: SiteAuditLog;
  queryId: string;
  answer: CohortAnswer;
  /** Secure pooling: the site's pool values, kept here for `stats pool` (never sent in the clear). */
  poolValues?: readonly number[] | undefined;
  by?: string | undefined;
  now: () => string;
}): Promise<SentCohortAnswer> {
  const { outbox, queryId } = args;
  const before = outbox.get(queryId);
  const entry = outbox.stage(queryId, args.answer, { at: args.now(), by: args.by, poolValues: args.poolValues });
  const ack = await args.api.answerCohortQuery(queryId, entry.answer);
  if (ack.digest !== entry.digest)
    throw new TwinfedError('INTERNAL', 'The coordinator acknowledged another answer than the one this site sent.');
  if (entry.sentAt === null) {
    // The chain first: a crash before `markSent` re-sends (a duplicate) and may record twice, never not at all.
    const at = args.now();
    const a = entry.answer;
    args.audit.append({
      action: a.kind === 'table' ? 'cohort.answered' : 'cohort.refused',
      subject: queryId,
      at,
      detail:
        a.kind === 'table'
          ? {
              digest: entry.digest,
              k: a.table.k,
              epsilon: a.table.epsilon,
              cells: a.table.cells.length,
              suppressedCells: a.table.suppressedCells,
              ...(entry.by ? { by: entry.by } : {}),
            }
          : { digest: entry.digest, reason: a.reason, ...(entry.by ? { by: entry.by } : {}) },
    });
    outbox.markSent(queryId, at);
  }
  const earlier = before !== undefined && before.digest !== answerDigest(args.answer);
  return { entry: outbox.get(queryId)!, status: ack.status, earlier };
}
