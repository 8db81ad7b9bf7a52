import {
  TwinfedError,
  assertSecaggCohort,
  cryptoUniform,
  encodeDdpUpdate,
  fingerprint,
  fromB64,
  SECAGG_HEADER_EXAMPLES,
  SECAGG_STATE_SECTIONS,
  SECAGG_VERSION,
  encodeRing64,
  encodeSecaggInput,
  maskKeyPair,
  maskRing64,
  neighbourhoodDirectoryDigest,
  openShares,
  ringToBytes64,
  sealMaskedUpdate,
  secaggCohortDigest,
  secaggConsistencyMac,
  secaggNeighbourhoodDigest,
  secaggConsistencyDigest,
  secaggNeighbourhoodStatement,
  secaggGraph,
  secaggThreshold,
  selfMaskCommitment,
  selfMaskSeed,
  shareBoxesDigest,
  shareSecrets,
  signSecaggConsistency,
  signSecaggKeys,
  signSecaggNeighbourhood,
  toB64,
  verifyNeighbourhoodDirectory,
  verifySecaggConsistencyMac,
  verifySecaggDigest,
  type Ring64,
  type SecaggGraph,
  type SecaggGraphOptions,
  type SecaggConsistency,
  type SecaggReveal,
  type SecaggRound,
  type SecaggPhaseEvent,
  type SecaggShares,
  type SecaggState,
  type SecaggStateSection,
  type DdpParameters,
  type EvaluationReport,
  type UpdateHeaderInput,
  type WeightSet,
  type Logger,
} from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import type { SiteApi } from '../transport/coordinator-client';
import type { Journal } from './journal';
import { trustedPeers, type TrustedPeer } from './peer-directory';
import type { PushSource } from './runner-options';

/** Options of {@link SecureRound}. */
interface SecureRoundOptions {
  api: SiteApi;
  enrollment: Enrollment;
  /** Where the site records, before sending, every view and message of a round (see {@link Journal.recordSecagg}). */
  journal: Journal;
  federationId: string;
  /** The plan's `minSites` (the threshold is computed here from it and the cohort, never taken from the coordinator). */
  minSites: number;
  /** The plan's graph options (`planSecaggGraph`): the round's graph is computed here from them and the cohort. */
  graph: SecaggGraphOptions;
  logger: Logger;
  signal: AbortSignal;
  /**
   * Push events: a `secagg:phase` of the round wakes a wait at once, and while the channel is up the site polls only
   * every {@link PUSH_SAFETY_POLL_MS}. Without them (or while they are down) it polls.
   */
  events?: Pick<PushSource, 'on' | 'connected'>;
  /**
   * How often to ask the coordinator whether the next step may start without push (default 500 ms): the first wait,
   * growing 1.5× per unanswered poll up to 8× this.
   */
  pollMs?: number;
  /**
   * Distributed DP (`planDdpParameters` of the plan): mask the clipped, scaled delta with this site's share of Skellam
   * noise (ddp-codec in shared) instead of the example-weighted weights.
   */
  ddp?: DdpParameters;
}

/** A round of a federation and the version it trains from (both bind the round's secrets). */
interface SecureRoundRef {
  round: number;
  baseVersionId: string;
}

/**
 * While push events arrive, a wait still looks again this often (an event lost on the way costs at most this) — and
 * at least {@link PUSH_SAFETY_POLL_MS_PER_SITE} per site of the round's cohort, so the coordinator serves the whole
 * cohort's safety polls at a bounded rate (25 reads/s) whatever its size: 10 s up to 250 sites, 20 s at 500.
 */
const PUSH_SAFETY_POLL_MS = 10_000;
const PUSH_SAFETY_POLL_MS_PER_SITE = 40;

type SecaggPhase = SecaggPhaseEvent['phase'];
/** A neighbour's shares of its seed and mask key, from its box to this site. */
type OpenedShares = ReturnType<typeof openShares>;

const sorted = (ids: readonly string[]): string[] => [...ids].sort();
const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  if (a.length !== b.length) return false;
  const sb = sorted(b);
  return sorted(a).every((x, i) => x === sb[i]);
};
const inconsistent = (message: string) => new TwinfedError('SECAGG_INCONSISTENT', message);

/** A member of U2 as shown to this site: its mask public key where the view carries it (this site's neighbours at least). */
type ShownSurvivor = { siteId: string; maskPublicKey?: string };

/** A round's cohort as this site checked it ({@link SecureRound.cohort}). */
interface CheckedCohort {
  peers: Map<string, TrustedPeer>;
  ids: string[];
  t: number;
  graph: SecaggGraph;
  near: Set<string>;
}

/**
 * What this site checked of the fixed sections of a round (memory only, the round it is in): its later reads of the
 * round name them in `have`, the coordinator leaves them out, and the site goes on using these.
 */
interface Held {
  key: string;
  directory?: CheckedCohort;
  survivors?: ShownSurvivor[];
  maskedBy?: string[];
}

/** U2 as a state shows it, sorted: every id (the neighbourhood view's `survivorIds`), with the keys it lists. */
function shownSurvivors(s: SecaggState): ShownSurvivor[] {
  const keys = new Map((s.survivors ?? []).map((m) => [m.siteId, m.maskPublicKey]));
  return sorted(s.survivorIds ?? [...keys.keys()]).map((siteId) => {
    const maskPublicKey = keys.get(siteId);
    return maskPublicKey === undefined ? { siteId } : { siteId, maskPublicKey };
  });
}

/**
 * What a site masks and what stays in the clear: the example count and the training loss go into the masked vector
 * (`encodeSecaggInput`), so the coordinator learns them only summed over U3; the clear header carries the fixed
 * count {@link SECAGG_HEADER_EXAMPLES} and no metrics (`steps` would tell n too). Throws `EXAMPLES_OUT_OF_RANGE` for a
 * count that could wrap the sums.
 */
function maskedInput(opts: { header: UpdateHeaderInput; weights: WeightSet }): {
  encoded: Ring64;
  header: UpdateHeaderInput;
} {
  const loss = opts.header.metrics.trainLoss;
  const encoded = encodeSecaggInput({
    weights: opts.weights.data,
    numExamples: opts.header.numExamples,
    ...(typeof loss === 'number' ? { trainLoss: loss } : {}),
  });
  return { encoded, header: { ...opts.header, numExamples: SECAGG_HEADER_EXAMPLES, metrics: {} } };
}

/**
 * A site's side of secure aggregation (crypto/secagg in shared), holding against a coordinator that lies: it takes
 * its peers' identity keys only from the coordinator-signed directory (pinned), computes the threshold itself
 * (t > 2n/3, cohort ≥ 3), signs its round keys and checks every peer's, records every view and message in its journal
 * before sending (never a second share message, masked vector or reveal for a round), and reveals only after t
 * members of U3 signed the very round it signed — never both shares of one peer, never for another U3. Every refusal
 * is a {@link TwinfedError} with a `SECAGG_*` code.
 */
export class SecureRound {
  private readonly coordinatorFingerprint: string;
  /** Directory entries whose coordinator signature this site already checked, with their keys (each entry is checked once). */
  private readonly verifiedEntries = new Map<string, TrustedPeer>();
  /** Peers' keys taken on a checked neighbourhood signature (by site and keys), decoded once. */
  private readonly vouchedEntries = new Map<string, TrustedPeer>();
  /** The neighbourhood signatures this site checked, with the round and entries they are over (the last few). */
  private readonly vouchedLists = new Set<string>();
  /** The size of the cohort in the last state read (sets the safety poll while push is up). */
  private cohortSize = 0;
  /** The graph of the round this site last dealt with. */
  private graphs: { key: string; graph: SecaggGraph } | undefined;
  /**
   * The share boxes this site opened to authenticate its neighbours' mask keys (per recent round: at most two), with
   * the key each opened under: the reveal takes its shares from here instead of opening the boxes again. Memory only.
   */
  private readonly opened = new Map<string, Map<string, { maskPublicKey: string; shares: OpenedShares }>>();
  /** The `secagg:phase` pushes received, per recent round of this federation. */
  private readonly pushed = new Map<number, Set<SecaggPhase>>();
  /** False once the coordinator refused key shares for the evaluation they carried (one from before the field). */
  private carryEvaluations = true;
  /** The fixed sections of the current round this site checked already (not read again: see {@link state}). */
  private held: Held | undefined;
  /** True once the coordinator refused `have` (one from before it): every read asks for the whole state then. */
  private haveRefused = false;

  constructor(private readonly o: SecureRoundOptions) {
    this.coordinatorFingerprint = fingerprint(o.enrollment.coordinator);
    o.events?.on('secagg:phase', (e) => {
      if (e.federationId !== o.federationId) return;
      let phases = this.pushed.get(e.round);
      if (!phases) {
        if (this.pushed.size >= 8) this.pushed.delete(Math.min(...this.pushed.keys()));
        this.pushed.set(e.round, (phases = new Set()));
      }
      phases.add(e.phase);
    });
  }

  private api() {
    const { api } = this.o;
    if (!api.secaggState || !api.secaggShares || !api.secaggConsistency || !api.secaggReveal)
      throw new TwinfedError('CONFIG_INVALID', 'This coordinator client cannot do secure aggregation.');
    return {
      state: api.secaggState.bind(api),
      shares: api.secaggShares.bind(api),
      consistency: api.secaggConsistency.bind(api),
      reveal: api.secaggReveal.bind(api),
    };
  }

  private rd(r: SecureRoundRef): SecaggRound {
    return {
      federationId: this.o.federationId,
      round: r.round,
      baseVersionId: r.baseVersionId,
      coordinatorFingerprint: this.coordinatorFingerprint,
    };
  }

  private ctx(r: SecureRoundRef) {
    return { ...this.rd(r), boxSecretKey: this.o.enrollment.identity.box.secretKey };
  }

  private get siteId(): string {
    return this.o.enrollment.state.siteId;
  }

  private entry(round: number): ReturnType<Journal['secagg']> {
    return this.o.journal.secagg(this.o.federationId, round);
  }

  private record(round: number, fields: Parameters<Journal['recordSecagg']>[2]): void {
    this.o.journal.recordSecagg(this.o.federationId, round, fields);
  }

  /**
   * Reads the round's state: only this site's closed neighbourhood's keys (a sparse graph; the complete one and older
   * coordinators answer with the full view), O(k) keys per read instead of O(n), and without the fixed sections this
   * site already checked in an earlier read of the round (`have`; its directory, U2 with its boxes, U3): those it
   * keeps using as it checked them. A coordinator from before `have` refuses it (`VALIDATION_FAILED`: its query
   * schema is strict) and is then asked for everything; one that leaves out a section this site did not name is
   * refused (`SECAGG_INCONSISTENT`).
   */
  private async state(r: SecureRoundRef): Promise<SecaggState> {
    const held = this.haveRefused ? undefined : this.heldFor(r);
    const key = this.roundKey(r);
    const have = SECAGG_STATE_SECTIONS.filter(
      (x) => held?.[x] !== undefined && (x !== 'survivors' || this.opened.has(key)),
    );
    const read = (sections: readonly SecaggStateSection[]) =>
      this.api().state({
        federationId: this.o.federationId,
        round: r.round,
        view: 'neighbourhood',
        ...(sections.length > 0 ? { have: sections } : {}),
        signal: this.o.signal,
      });
    let s: SecaggState;
    try {
      s = await read(have);
    } catch (e) {
      if (!(e instanceof TwinfedError) || e.code !== 'VALIDATION_FAILED' || have.length === 0) throw e;
      this.haveRefused = true;
      this.o.logger.warn({ round: r.round }, 'secure aggregation: the coordinator takes no `have`; whole state reads');
      s = await read([]);
    }
    for (const x of s.omitted ?? [])
      if (!have.includes(x))
        throw inconsistent(
          `The coordinator left the round's ${x} out of its answer; this site did not say it holds it.`,
        );
    const directory = s.omitted?.includes('directory') ? held?.directory : undefined;
    this.cohortSize = directory ? directory.ids.length : (s.cohortIds ?? s.cohort).length;
    return s;
  }

  private heldFor(r: SecureRoundRef): Held | undefined {
    return this.held?.key === this.roundKey(r) ? this.held : undefined;
  }

  /** Keeps a section of round `r` as this site checked it (what it held of another round is dropped). */
  private hold<K extends SecaggStateSection>(r: SecureRoundRef, section: K, value: NonNullable<Held[K]>): void {
    const key = this.roundKey(r);
    if (this.held?.key !== key) this.held = { key };
    this.held[section] = value;
  }

  /** What this site holds of a section the coordinator left out (state() let through only sections it named). */
  private omitted<K extends SecaggStateSection>(s: SecaggState, r: SecureRoundRef, section: K): Held[K] {
    if (!s.omitted?.includes(section)) return undefined;
    const value = this.heldFor(r)?.[section];
    if (value === undefined)
      throw inconsistent(`The coordinator left the round's ${section} out of its answer; this site does not hold it.`);
    return value;
  }

  /**
   * The cohort S as far as it can be trusted (signed directory, pinned keys, this site in it, at least 3 sites) and
   * the threshold computed here; both recorded, so a later view of another S or t is refused.
   */
  private cohort(s: SecaggState, r: SecureRoundRef): CheckedCohort {
    const held = this.omitted(s, r, 'directory');
    if (held) {
      if (s.threshold !== held.t) throw this.otherThreshold(s.threshold, held.ids.length, held.t);
      return held;
    }
    const ids = sorted(s.cohortIds ?? s.cohort.map((m) => m.siteId));
    for (let i = 1; i < ids.length; i++)
      if (ids[i] === ids[i - 1]) throw inconsistent(`The coordinator lists site ${ids[i]} twice in the cohort.`);
    const inCohort = new Set(ids);
    for (const m of s.cohort)
      if (!inCohort.has(m.siteId))
        throw inconsistent(`The coordinator lists keys of site ${m.siteId}, who is not in the round's cohort.`);
    if (!ids.includes(this.siteId))
      throw new TwinfedError('SITE_NOT_SELECTED', "This site is not in the round's cohort.");
    assertSecaggCohort(ids.length);
    const t = secaggThreshold(ids.length, this.o.minSites);
    if (s.threshold !== t) throw this.otherThreshold(s.threshold, ids.length, t);
    this.record(r.round, { baseVersionId: r.baseVersionId, cohort: ids, threshold: t });
    const graph = this.graphOf(r, ids);
    // This site and its neighbours: the only sites it shares with, masks against, reveals for and checks the
    // signatures of — so the only ones whose directory entries it checks and whose keys it pins.
    const near = new Set([this.siteId, ...graph.neighbours(this.siteId)]);
    const members = s.cohort.filter((m) => near.has(m.siteId));
    const listed = new Set(members.map((m) => m.siteId));
    for (const id of near)
      if (!listed.has(id)) throw inconsistent(`The coordinator lists no keys of site ${id}, a neighbour of this site.`);
    const peers = trustedPeers({
      members,
      enrollment: this.o.enrollment,
      journal: this.o.journal,
      verified: this.verifiedEntries,
      ...(this.vouched(s, r) ? { vouched: this.vouchedEntries } : {}),
    });
    const checked = { peers, ids, t, graph, near };
    this.hold(r, 'directory', checked);
    return checked;
  }

  private otherThreshold(announced: number, sites: number, t: number): TwinfedError {
    return inconsistent(
      `The coordinator announces the threshold t = ${announced}; from the plan and the ${sites} sites of the round this site computes t = ${t}.`,
    );
  }

  /**
   * True when the view carries the coordinator's signature over the entries it lists, for this site and round
   * (envelope/neighbourhood-directory), and it verifies under the coordinator key pinned at enrollment: those entries
   * need no check one by one. False without one (an older coordinator, the full view): each entry is checked.
   * Throws `SECAGG_UNTRUSTED_KEY` when it does not verify. Checked once per round: a later read listing the same
   * entries under the same signature is found among the checked ones.
   */
  private vouched(s: SecaggState, r: SecureRoundRef): boolean {
    const signature = s.neighbourhoodSignature;
    if (signature === undefined) return false;
    // What the signature is over, as listed (a quarter of the digest's cost: the canonical text is not built again).
    const key = JSON.stringify([
      this.rd(r),
      this.siteId,
      signature,
      s.cohort.map((m) => [m.siteId, m.signPublicKey, m.boxPublicKey]),
    ]);
    if (this.vouchedLists.has(key)) return true;
    const digest = neighbourhoodDirectoryDigest({ ...this.rd(r), siteId: this.siteId, entries: s.cohort });
    if (!verifyNeighbourhoodDirectory(digest, signature, this.o.enrollment.coordinator.signPublicKey))
      throw new TwinfedError(
        'SECAGG_UNTRUSTED_KEY',
        "The coordinator's signature over this site's neighbourhood does not verify under the coordinator key this site pinned at enrollment.",
      );
    if (this.vouchedLists.size >= 4) this.vouchedLists.delete(this.vouchedLists.values().next().value!);
    this.vouchedLists.add(key);
    return true;
  }

  /** The round's graph over S (a pure function of the round, S and the plan: computed once per round, not per step). */
  private graphOf(r: SecureRoundRef, ids: string[]): SecaggGraph {
    const key = `${r.round}\n${r.baseVersionId}\n${ids.join(',')}`;
    if (this.graphs?.key !== key) {
      const graph = secaggGraph({
        ...this.rd(r),
        cohort: ids,
        minSites: this.o.minSites,
        options: this.o.graph,
        distributedDp: this.o.ddp !== undefined,
      });
      this.graphs = { key, graph };
    }
    return this.graphs.graph;
  }

  /**
   * Step 1: sends this site's signed mask public key and a share box for every cohort member — once: the message is
   * recorded before it is sent, and only ever re-sent verbatim. Throws `SITE_NOT_SELECTED` when the key shares closed
   * before this site sent its own (it need not train), `SECAGG_*` when the coordinator's view cannot be trusted.
   * `evaluate` (the site's evaluation of the round's base version) is asked for only when the message is about to be
   * sent for the first time, and travels on that sending only, never recorded (a re-sent message goes without it);
   * answers whether the coordinator took it with the shares.
   */
  async share(r: SecureRoundRef, evaluate?: () => Promise<EvaluationReport | undefined>): Promise<boolean> {
    const s = await this.state(r);
    const recorded = this.entry(r.round)?.shares;
    if (recorded !== undefined) {
      if (!s.shared && s.phase === 'sharing')
        await this.sendShares(r.round, JSON.parse(recorded) as SecaggShares, 'resent');
      return false;
    }
    if (s.shared) return false;
    if (s.phase !== 'sharing')
      throw new TwinfedError('SITE_NOT_SELECTED', 'The key shares of this round closed before this site sent its own.');
    const { peers, graph, near } = this.cohort(s, r);
    // Only now (the site will send its shares): a site too late for the round neither downloads nor evaluates here.
    const baseEvaluation = this.carryEvaluations ? await evaluate?.() : undefined;
    const cohort = [...peers.values()]
      .filter((p) => near.has(p.siteId))
      .map((p) => ({ siteId: p.siteId, boxPublicKey: p.boxPublicKey }));
    const shares = await shareSecrets({ ...this.ctx(r), siteId: this.siteId, cohort, threshold: graph.threshold });
    const maskPublicKey = toB64(maskKeyPair(this.ctx(r)).publicKey);
    const signature = signSecaggKeys(
      { ...this.rd(r), siteId: this.siteId, maskPublicKey, boxesSha256: shareBoxesDigest(shares) },
      this.o.enrollment.identity.sign.secretKey,
    );
    const body: SecaggShares = { maskPublicKey, shares, signature };
    this.record(r.round, { shares: JSON.stringify(body) });
    if (baseEvaluation) {
      try {
        await this.sendShares(r.round, { ...body, baseEvaluation }, 'sent with the evaluation of the base version');
        return true;
      } catch (e) {
        // A coordinator from before the field (its strict schema: VALIDATION_FAILED), or one refusing this report: the
        // same shares without it (the evaluation then goes on its own). Anything else is the shares' own failure.
        if (!(e instanceof TwinfedError) || (e.code !== 'VALIDATION_FAILED' && e.code !== 'INVALID_BASE_EVALUATION'))
          throw e;
        if (e.code === 'VALIDATION_FAILED') this.carryEvaluations = false;
        this.o.logger.warn(
          { round: r.round, code: e.code },
          'the coordinator refused the evaluation carried with the key shares: sending them without it',
        );
      }
    }
    await this.sendShares(r.round, body, 'sent');
    return false;
  }

  private async sendShares(round: number, body: SecaggShares, what: string): Promise<void> {
    const ack = await this.api().shares({ federationId: this.o.federationId, round, body, signal: this.o.signal });
    this.o.logger.info(
      { round, status: ack.status, cohort: body.shares.length },
      `secure aggregation: key shares ${what}`,
    );
  }

  /** The masked envelope already recorded for `round`, to be re-sent as it is (`SECAGG_MASK_REUSE` when its bytes are lost). */
  storedEnvelope(round: number): Uint8Array | undefined {
    return this.o.journal.maskedEnvelope(this.o.federationId, round);
  }

  /** The coordinator acknowledged the masked update of `round`: its stored bytes are no longer needed. */
  acknowledged(round: number): void {
    this.o.journal.dropMaskedEnvelope(this.o.federationId, round);
  }

  /**
   * U2 as far as it can be trusted: within S, this site in it, at least t sites, every mask key signed by its owner's
   * pinned identity key; recorded, so a later view of another U2 or other keys is refused.
   */
  private survivors(
    s: SecaggState,
    r: SecureRoundRef,
    c: { peers: Map<string, TrustedPeer>; ids: readonly string[]; t: number; near: ReadonlySet<string> },
  ): ShownSurvivor[] {
    const held = this.omitted(s, r, 'survivors');
    if (held) return held;
    const { peers, t, near } = c;
    const inCohort = new Set(c.ids);
    const list = s.survivors ?? [];
    const ids = s.survivorIds ?? list.map((m) => m.siteId);
    if (!ids.includes(this.siteId))
      throw new TwinfedError('SITE_NOT_SELECTED', "This site's key shares were not taken for the round.");
    if (new Set(ids).size !== ids.length || new Set(list.map((m) => m.siteId)).size !== list.length)
      throw inconsistent('The coordinator lists a survivor twice.');
    if (ids.length < t)
      throw inconsistent(`The coordinator lists ${ids.length} survivors, fewer than the threshold t = ${t}.`);
    for (const id of ids)
      if (!inCohort.has(id))
        throw inconsistent(`The coordinator lists survivor ${id}, who is not in the round's cohort.`);
    const inU2 = new Set(ids);
    const keyed = new Set(list.map((m) => m.siteId));
    for (const id of ids)
      if (near.has(id) && !keyed.has(id))
        throw inconsistent(`The coordinator lists no mask key of survivor ${id}, a neighbour of this site.`);
    for (const m of list)
      if (!inU2.has(m.siteId))
        throw inconsistent(`The coordinator lists the mask key of ${m.siteId}, who is not a survivor.`);
    this.openNeighbourBoxes(s, r, peers, near);
    const u2 = shownSurvivors(s);
    this.record(r.round, { u2 });
    this.hold(r, 'survivors', u2);
    return u2;
  }

  /**
   * Authenticates the mask keys this site uses — its neighbours' in U2 (and its own) — by opening each one's share box
   * addressed to it: the box u → v is sealed with the static X25519 agreement of u's and v's pinned identity keys, over
   * AAD = label ‖ C ‖ u ‖ v ‖ M_u, so it opens with the M_u the coordinator lists only if u sealed it with that very
   * key (docs/decisions.md, "Mask keys authenticated by the share boxes"). This replaces checking each neighbour's
   * Ed25519 signature over its key; a box that is missing or does not open is `SECAGG_UNTRUSTED_KEY`, as a bad
   * signature was. The opened shares stay in memory (never journalled) for this round's reveal.
   */
  private openNeighbourBoxes(
    s: SecaggState,
    r: SecureRoundRef,
    peers: ReadonlyMap<string, TrustedPeer>,
    near: ReadonlySet<string>,
  ): void {
    const boxes = new Map(s.sharesForMe.map((b) => [b.from, b]));
    const opened = new Map<string, { maskPublicKey: string; shares: OpenedShares }>();
    for (const m of s.survivors ?? []) {
      const peer = near.has(m.siteId) ? peers.get(m.siteId) : undefined;
      if (!peer) continue;
      const box = boxes.get(m.siteId);
      try {
        if (!box) throw new TwinfedError('DECRYPT_FAILED');
        const shares = openShares({
          ...this.ctx(r),
          share: { ...box, to: this.siteId },
          from: { siteId: m.siteId, boxPublicKey: peer.boxPublicKey },
          fromMaskPublicKey: fromB64(m.maskPublicKey, 'DECRYPT_FAILED'),
          siteId: this.siteId,
        });
        opened.set(m.siteId, { maskPublicKey: m.maskPublicKey, shares });
      } catch (e) {
        if (!(e instanceof TwinfedError)) throw e;
        throw new TwinfedError(
          'SECAGG_UNTRUSTED_KEY',
          `The mask public key listed for ${m.siteId} is not the one its share box for this site was sealed with by its enrolled identity key for this round under ${SECAGG_VERSION} (or the box is missing, or that site runs another secure-aggregation version).`,
        );
      }
    }
    if (this.opened.size >= 2) this.opened.delete(this.opened.keys().next().value as string);
    this.opened.set(this.roundKey(r), opened);
  }

  private roundKey(r: SecureRoundRef): string {
    return `${r.round}\n${r.baseVersionId}`;
  }

  /**
   * Step 2: waits until the key shares closed, checks U2, masks and seals this site's update, and stores the envelope
   * durably before returning it. Throws `SECAGG_MASK_REUSE` when an envelope was already recorded for the round (the
   * caller re-sends {@link storedEnvelope} instead), `ROUND_CLOSED` when the round ended first, `SITE_NOT_SELECTED`
   * when this site's shares did not make it into the round.
   */
  async sealMasked(opts: { header: UpdateHeaderInput; weights: WeightSet; base?: WeightSet }): Promise<Uint8Array> {
    const r = { round: opts.header.round, baseVersionId: opts.header.baseVersionId };
    if (this.entry(r.round)?.maskedSha256 !== undefined)
      throw new TwinfedError(
        'SECAGG_MASK_REUSE',
        `This site already masked an update for round ${r.round}; it never masks a second one.`,
      );
    const s = await this.waitFor(r, (x) => x.phase !== 'sharing', 'masking');
    if (s.phase !== 'masking')
      throw new TwinfedError('ROUND_CLOSED', 'The round stopped taking updates before its key shares closed.');
    const c = this.cohort(s, r);
    const { t, near } = c;
    const u2 = this.survivors(s, r, c);
    const survivors = u2
      .filter((m) => near.has(m.siteId))
      .map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.maskPublicKey!) })); // checked: every neighbour's is listed
    const { encoded, header } = this.maskedInput(opts, t);
    const masked = maskRing64({ ...this.ctx(r), encoded, siteId: this.siteId, survivors });
    const commitment = selfMaskCommitment({ ...this.rd(r), seed: selfMaskSeed(this.ctx(r)), siteId: this.siteId });
    const envelope = sealMaskedUpdate({
      header: { ...header, secagg: { commitment } },
      masked: ringToBytes64(masked),
      identity: this.o.enrollment.identity,
      coordinatorBoxPublicKey: this.o.enrollment.coordinator.boxPublicKey,
    });
    this.o.journal.storeMaskedEnvelope(this.o.federationId, r.round, envelope);
    return envelope;
  }

  /**
   * What this site masks: its example-weighted weights with n and the loss inside the vector ({@link maskedInput}),
   * or with distributed DP only its clipped delta in integer units plus Sk(μ/t) from the OS CSPRNG (t: the threshold
   * computed here, so any t survivors carry at least Sk(μ)) — no n, no loss: ε does not cover them. The header then
   * carries neither.
   */
  private maskedInput(
    opts: { header: UpdateHeaderInput; weights: WeightSet; base?: WeightSet },
    t: number,
  ): { encoded: Ring64; header: UpdateHeaderInput } {
    const { ddp } = this.o;
    if (!ddp) return maskedInput(opts);
    if (!opts.base) throw new TwinfedError('INTERNAL', "Distributed DP needs the round's base weights.");
    const noised = encodeDdpUpdate({
      trained: opts.weights.data,
      base: opts.base.data,
      params: ddp,
      threshold: t,
      uniform: cryptoUniform(),
    });
    this.o.logger.info(
      { round: opts.header.round, clipped: noised.clipped },
      'distributed DP: update clipped, scaled and noised',
    );
    return {
      encoded: encodeRing64(noised.values, 0),
      header: { ...opts.header, numExamples: SECAGG_HEADER_EXAMPLES, metrics: {} },
    };
  }

  /**
   * Steps 3 and 4: once the round stopped taking updates, signs the round as it saw it (S, t, U2, U3), waits for t
   * members of U3 to have signed the same, then reveals its share of each survivor's seed and of each dropped site's
   * mask key — only when this site is a survivor and at least t survived. Everything is recorded before it is sent;
   * a U3 other than the one signed is refused (`SECAGG_INCONSISTENT`), and a recorded reveal is only ever re-sent.
   */
  async reveal(r: SecureRoundRef): Promise<void> {
    let s = await this.waitFor(r, (x) => x.phase === 'unmasking' || x.phase === 'closed', 'unmasking');
    const entry = this.entry(r.round);
    if (s.phase === 'closed') return this.close(r.round);
    const u3 = this.omitted(s, r, 'maskedBy') ?? sorted(s.maskedBy ?? []);
    if (entry?.consistency && !sameSet(entry.consistency.u3, u3)) {
      throw inconsistent(
        `This site signed U3 = {${entry.consistency.u3.join(', ')}} for round ${r.round}; the coordinator now announces {${u3.join(', ')}}. It reveals for one U3 only.`,
      );
    }
    if (entry?.reveal) {
      if (!s.revealed && entry.reveal.body !== undefined)
        await this.sendReveal(r.round, JSON.parse(entry.reveal.body) as SecaggReveal, 'resent');
      return;
    }
    if (!u3.includes(this.siteId)) return;
    const { peers, ids, t, graph, near } = this.cohort(s, r);
    const u2 = entry?.u2;
    if (!u2)
      throw inconsistent(
        `The coordinator lists this site in U3 of round ${r.round}, but it has no record of masking an update in it.`,
      );
    // The same U2 and, for this site's neighbours (the only keys it uses), the same mask keys as it masked with
    // (unless left out: this site then uses only what it recorded).
    const nearKeys = (list: readonly ShownSurvivor[]) =>
      JSON.stringify(list.map((m) => (near.has(m.siteId) ? m : { siteId: m.siteId })));
    if (!this.omitted(s, r, 'survivors') && nearKeys(shownSurvivors(s)) !== nearKeys(u2))
      throw inconsistent(
        'The coordinator now shows other survivors (U2) or mask keys than the ones this site masked with.',
      );
    const u2ids = u2.map((m) => m.siteId);
    const inU2 = new Set(u2ids);
    if (!u3.every((id) => inU2.has(id)))
      throw inconsistent("The coordinator lists a masked update from outside the round's survivors.");
    if (u3.length < t) return; // too few survivors: revealing could only help unmask someone

    const check = this.consistencyCheck(r, { graph, ids, t, u2: u2ids, u3, peers });
    this.record(r.round, { consistency: { u3, digest: check.digest } });
    this.hold(r, 'maskedBy', u3);
    if (!s.consistency.some((c) => c.siteId === this.siteId)) await this.sendConsistency(r.round, check.body());
    // `check.needed` signers the check accepts, each over the signer's statement as this site's view has it. Every
    // relayed signature must come from a signer the check takes; of those, only the first `check.needed` distinct
    // signers are checked (a coordinator could always have relayed just those: the ones after them add nothing a site
    // may rely on — docs/decisions.md, "Only the consistency signatures a site needs"). A signature that fails is a
    // refusal; a neighbour's MAC that fails (sparse graph) is not counted, and more than c of them are a refusal
    // (docs/decisions.md, "Neighbours' consistency by pairwise MACs").
    const verified = new Set<string>();
    const badMacs = new Set<string>();
    for (;;) {
      if (s.phase === 'closed') return this.close(r.round);
      if (!this.omitted(s, r, 'maskedBy') && !sameSet(s.maskedBy ?? [], u3))
        throw inconsistent('The coordinator changed U3 while this site waited for the consistency signatures.');
      for (const c of s.consistency) {
        const peer = peers.get(c.siteId);
        if (!peer || !check.signers.has(c.siteId))
          throw inconsistent(
            `The coordinator relays a consistency signature from ${c.siteId}, who is not in U3${graph.kind === 'sparse' ? ' among this site and its neighbours' : ''}.`,
          );
        if (verified.size >= check.needed || verified.has(c.siteId) || badMacs.has(c.siteId)) continue;
        const outcome = check.verify(c, peer);
        if (outcome === 'bad-mac') {
          badMacs.add(c.siteId);
          if (badMacs.size > graph.corruptNeighbours)
            throw inconsistent(
              `${badMacs.size} of this site's neighbours' consistency MACs (more than the c = ${graph.corruptNeighbours} corrupt neighbours the graph allows) do not verify over round ${r.round} as this site saw it: the coordinator showed the sites different survivor sets.`,
            );
          continue;
        }
        if (outcome === 'bad') {
          throw inconsistent(
            `Site ${c.siteId} signed another view of round ${r.round} than this site: the coordinator showed the sites different survivor sets.`,
          );
        }
        verified.add(c.siteId);
      }
      if (verified.size >= check.needed) break;
      if (this.o.signal.aborted)
        throw new TwinfedError('ROUND_CLOSED', 'Stopped while waiting for the consistency signatures.');
      const seen = s.consistency.length;
      s = await this.waitFor(r, (x) => x.consistency.length > seen || x.phase === 'closed', 'revealing');
    }

    const inU3 = new Set(u3);
    const dropped = u2ids.filter((id) => !inU3.has(id));
    const maskKeys = new Map(
      u2.flatMap((m) => (m.maskPublicKey ? [[m.siteId, fromB64(m.maskPublicKey)] as const] : [])),
    );
    const kept = this.opened.get(this.roundKey(r));
    const recordedKeys = new Map(u2.map((m) => [m.siteId, m.maskPublicKey]));
    const open = (from: string): OpenedShares => {
      const key = recordedKeys.get(from);
      const hit = kept?.get(from);
      if (hit && key !== undefined && hit.maskPublicKey === key) return hit.shares;
      const share = s.sharesForMe.find((x) => x.from === from);
      const peer = peers.get(from);
      if (!share || !peer || !maskKeys.has(from)) throw inconsistent(`No key share from ${from} for this site.`);
      return openShares({
        ...this.ctx(r),
        share: { ...share, to: this.siteId },
        from: { siteId: from, boxPublicKey: peer.boxPublicKey },
        fromMaskPublicKey: maskKeys.get(from)!,
        siteId: this.siteId,
      });
    };
    const seedOf = u3.filter((of) => near.has(of));
    const maskKeyOf = dropped.filter((of) => near.has(of));
    const body: SecaggReveal = {
      seedShares: seedOf.map((of) => ({ of, share: toB64(open(of).seed) })),
      maskKeyShares: maskKeyOf.map((of) => ({ of, share: toB64(open(of).maskKey) })),
    };
    if (seedOf.some((id) => maskKeyOf.includes(id)))
      throw inconsistent('A site cannot be both a survivor and dropped.'); // never both shares of one site
    this.record(r.round, { reveal: { seedOf, maskKeyOf, body: JSON.stringify(body) } });
    await this.sendReveal(r.round, body, 'sent');
  }

  /**
   * What this site signs before revealing and whose signatures it needs. The complete graph (Bonawitz): the round
   * (S, t, U2, U3) — the same statement for everyone — signed by t members of U3. A sparse graph (SecAgg+): each site
   * signs its closed neighbourhood N[u] restricted to U2 and U3 (V3) and sends each neighbour in U3 a pairwise MAC over
   * that statement (crypto/secagg-mac: keyed by the static agreement of the two sites' pinned identity keys, which the
   * coordinator cannot compute); this site takes signers only from N[u] ∩ U3, checks each neighbour's MAC for it (its
   * signature when relayed without one: a site from before the MACs) against its own view of the signer's
   * neighbourhood, and needs the graph's threshold of them. Safety against a split view of one neighbour rests on the
   * graph's threshold (secagg-graph: 2t > k + 1 + c); the check makes a coordinator that shows neighbours different
   * survivor sets visible before any share leaves.
   */
  private consistencyCheck(
    r: SecureRoundRef,
    o: {
      graph: SecaggGraph;
      ids: string[];
      t: number;
      u2: string[];
      u3: string[];
      peers: ReadonlyMap<string, TrustedPeer>;
    },
  ): {
    digest: string;
    signers: ReadonlySet<string>;
    needed: number;
    body: () => SecaggConsistency;
    /** `ok`, `bad` (a signature that fails, or another one under this site's name), `bad-mac` (a MAC that fails). */
    verify: (c: SecaggState['consistency'][number], peer: TrustedPeer) => 'ok' | 'bad' | 'bad-mac';
  } {
    const key = this.o.enrollment.identity.sign.secretKey;
    if (o.graph.kind === 'complete') {
      const statement = { ...this.rd(r), threshold: o.t, cohort: o.ids, u2: o.u2, u3: o.u3 };
      const digest = secaggConsistencyDigest(statement); // one statement for all: hashed once, not per signature
      return {
        digest: toB64(digest),
        signers: new Set(o.u3),
        needed: o.t,
        body: () => ({ signature: signSecaggConsistency(statement, key) }),
        verify: (c, peer) => (verifySecaggDigest(digest, c.signature, peer.signPublicKey) ? 'ok' : 'bad'),
      };
    }
    const { graph } = o;
    const u2 = new Set(o.u2);
    const u3 = new Set(o.u3);
    const cohortSha256 = secaggCohortDigest(o.ids);
    const statementOf = (siteId: string) =>
      secaggNeighbourhoodStatement({
        ...this.rd(r),
        cohortSha256,
        degree: graph.degree,
        threshold: graph.threshold,
        siteId,
        neighbours: graph.neighbours(siteId),
        u2,
        u3,
      });
    const digestOf = (siteId: string) => secaggNeighbourhoodDigest(statementOf(siteId));
    const statement = statementOf(this.siteId);
    const mine = secaggNeighbourhoodDigest(statement);
    const signers = new Set(statement.u3);
    let signature: string | undefined;
    const sign = () => (signature ??= signSecaggNeighbourhood(statement, key));
    const ends = (from: string, to: string, peer: TrustedPeer) => ({
      ...this.ctx(r),
      from,
      to,
      peerBoxPublicKey: peer.boxPublicKey,
    });
    return {
      digest: toB64(mine),
      signers,
      needed: graph.threshold,
      body: () => ({
        signature: sign(),
        macs: [...signers]
          .filter((id) => id !== this.siteId)
          .map((to) => {
            const mac = secaggConsistencyMac({ ...ends(this.siteId, to, o.peers.get(to)!), digest: mine });
            if (mac === null)
              throw new TwinfedError('SECAGG_UNTRUSTED_KEY', `Site ${to}'s identity box key is unusable.`);
            return { to, mac };
          }),
      }),
      verify: (c, peer) => {
        // Its own: the coordinator relays back what this site sent (Ed25519 is deterministic).
        if (c.siteId === this.siteId) return c.signature === sign() ? 'ok' : 'bad';
        if (c.mac !== undefined)
          return verifySecaggConsistencyMac({
            ...ends(c.siteId, this.siteId, peer),
            digest: digestOf(c.siteId),
            mac: c.mac,
          })
            ? 'ok'
            : 'bad-mac';
        return verifySecaggDigest(digestOf(c.siteId), c.signature, peer.signPublicKey) ? 'ok' : 'bad';
      },
    };
  }

  /**
   * Posts this site's consistency message. A coordinator from before the MACs refuses the field (`VALIDATION_FAILED`:
   * its schema is strict): the signature alone is sent then, and the neighbours check it instead. A current one says
   * `VALIDATION_FAILED` only when the MACs do not go to exactly the neighbours in U3 its signature covers, which this
   * site never sends — so without them the message is what it signed either way.
   */
  private async sendConsistency(round: number, body: SecaggConsistency): Promise<void> {
    const send = (b: SecaggConsistency) =>
      this.api().consistency({ federationId: this.o.federationId, round, body: b, signal: this.o.signal });
    try {
      await send(body);
    } catch (e) {
      if (!(e instanceof TwinfedError) || e.code !== 'VALIDATION_FAILED' || body.macs === undefined) throw e;
      this.o.logger.warn({ round }, 'secure aggregation: the coordinator takes no consistency MACs; signature only');
      await send({ signature: body.signature });
    }
  }

  private async sendReveal(round: number, body: SecaggReveal, what: string): Promise<void> {
    const ack = await this.api().reveal({ federationId: this.o.federationId, round, body, signal: this.o.signal });
    this.o.logger.info(
      { round, status: ack.status, survivors: body.seedShares.length, dropped: body.maskKeyShares.length },
      `secure aggregation: reveal ${what}`,
    );
  }

  private close(round: number): void {
    for (const key of [...this.opened.keys()]) if (key.startsWith(`${round}\n`)) this.opened.delete(key);
    if (this.held?.key.startsWith(`${round}\n`)) this.held = undefined;
    if (this.entry(round)) this.o.journal.closeSecagg(this.o.federationId, round);
  }

  /**
   * Reads the round's state until `done` holds or the round closed (bounded by the round's own deadlines). Between
   * reads it waits for a `secagg:phase` push of this round (subscribed before each read, so a push that arrives while
   * reading is not lost) or for the poll timer: {@link PUSH_SAFETY_POLL_MS} (or 40 ms per cohort site) while push is up, otherwise `pollMs`
   * growing 1.5× per read up to 8× `pollMs`. While push is up and the phase that would end the wait (`announced`)
   * was not pushed yet, it waits before its first read too: one read per phase and site instead of two.
   */
  private async waitFor(
    r: SecureRoundRef,
    done: (s: SecaggState) => boolean,
    announced: SecaggPhase,
  ): Promise<SecaggState> {
    const { round } = r;
    const base = this.o.pollMs ?? 500;
    for (let attempt = 0; ; attempt++) {
      const wake = this.wakeOnPush(round);
      try {
        // With push up and the awaited phase not announced yet, the first read would only find it not reached.
        const early = attempt === 0 && this.o.events?.connected === true && !this.pushed.get(round)?.has(announced);
        const s = early ? undefined : await this.state(r);
        if (s && (done(s) || s.phase === 'closed')) return s;
        if (this.o.signal.aborted) throw new TwinfedError('ROUND_CLOSED', 'Stopped while waiting for the round.');
        const polling = Math.min(base * 1.5 ** attempt, base * 8);
        const safety = Math.max(PUSH_SAFETY_POLL_MS, this.cohortSize * PUSH_SAFETY_POLL_MS_PER_SITE);
        await wake.wait(this.o.events?.connected === true ? Math.max(polling, safety) : polling);
      } finally {
        wake.off();
      }
    }
  }

  /** A wait that ends on the first `secagg:phase` push of `round` since this call, after `ms`, or on abort. */
  private wakeOnPush(round: number): { wait: (ms: number) => Promise<void>; off: () => void } {
    let pushed = false;
    let wakeUp: (() => void) | undefined;
    const unsubscribe = this.o.events?.on('secagg:phase', (e) => {
      if (e.federationId !== this.o.federationId || e.round !== round) return;
      pushed = true;
      wakeUp?.();
    });
    return {
      wait: (ms) =>
        pushed
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const done = () => {
                clearTimeout(timer);
                this.o.signal.removeEventListener('abort', done);
                resolve();
              };
              const timer = setTimeout(done, ms);
              this.o.signal.addEventListener('abort', done, { once: true });
              wakeUp = done;
            }),
      off: () => unsubscribe?.(),
    };
  }
}
