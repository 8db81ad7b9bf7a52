/**
 * The coordinator's side of secure aggregation (crypto/secagg in shared). It relays signed keys and sealed share
 * boxes it cannot read, fixes U2 (the sites that shared), takes masked updates only from U2, and once the round stops
 * taking updates (U3 = who uploaded) relays the sites' consistency signatures, waits for t reveals, then removes the
 * masks from the sum and hands the strategy the example-weighted mean — never a single site's weights. It checks every
 * signature a site sends against the site's enrolled key, but the sites do not rely on that: each checks everything
 * itself. Everything lives in the store, so a restart resumes it.
 */
import {
  SECAGG_VERSION,
  TwinfedError,
  Ring64Sum,
  assertSecaggCohort,
  decodeSecaggSum,
  fingerprint,
  fromB64,
  fromBytesRing64,
  maxExamplesPerSite,
  planSecaggGraph,
  publicPart,
  recoverMaskSecretKey,
  recoverSelfMaskSeed,
  secaggCohortDigest,
  secaggGraph,
  secaggNeighbourhoodStatement,
  secaggPairKey,
  secaggThreshold,
  secaggVectorLength,
  shareBoxesDigest,
  unmaskSum,
  verifySecaggConsistency,
  verifySecaggKeys,
  verifySecaggNeighbourhood,
  type CohortMember,
  type Plan,
  type SecaggAck,
  type SecaggGraph,
  type SecaggConsistency,
  type SecaggReveal,
  type SecaggRound,
  type SecaggShares,
  type SecaggSum,
  type SecaggState,
  type SecaggStateView,
  type SecaggStateSection,
  SECAGG_STATE_SECTIONS,
  type UpdateHeader,
} from '@twinfed/shared';
import type { SiteDirectory } from '../registry/site-directory';
import type { Round, SecaggCohortRecord, SecaggKind } from '../store';
import type { MeanDelta } from '../strategies';
import type { EngineCore, Loaded } from './core';
import { ddpMean } from './ddp';
import { rememberRound } from './round-cache';
import { buildSecaggRelay, type SecaggRelay } from './secagg-relay';
import { RevealTally } from './secagg-reveal-tally';
import { KnownSenders } from './secagg-senders';
import type { UpdateOpener } from './update-opener';
import { baseEvaluationRecord } from './upload-check';

const SHARE_BYTES = 33;

/** When sharing ends and when unmasking must be done: a third of the round before, half of it after, its deadline. */
export function secaggDeadlines(round: Round): { sharesAt: number; unmaskAt: number } {
  const opened = Date.parse(round.openedAt);
  const deadline = Date.parse(round.deadlineAt);
  const span = Math.max(0, deadline - opened);
  return { sharesAt: opened + span / 3, unmaskAt: deadline + span / 2 };
}

/** The outcome of an unmasking attempt. */
export type Unmasked =
  | { status: 'pending'; unmaskAt: number; revealed: number; threshold: number }
  | { status: 'done'; mean: MeanDelta; contributors: Array<{ siteId: string }> };

/**
 * The round metrics a secure sum yields: Σn (as `examples` and `numExamples`) and the example-weighted training loss
 * of the sites that sent one — aggregates over U3, never one site's (those stay inside the masked vectors).
 */
function securedMetrics(sum: SecaggSum): Record<string, number> {
  return {
    ...(sum.lossExamples > 0 ? { trainLoss: sum.lossSum / sum.lossExamples } : {}),
    numExamples: sum.examples,
    examples: sum.examples,
  };
}

const phaseError = (message: string) => new TwinfedError('SECAGG_PHASE', message);

/** A round's cohort S: its signed directory entries and their sorted ids. */
interface CohortDirectory {
  entries: readonly CohortMember[];
  ids: readonly string[];
}
type RelayedSignature = SecaggState['consistency'][number];
/** A stored consistency message as relayed: the signature to everyone, each MAC only to the site it is for. */
interface RelayedConsistency {
  readonly siteId: string;
  readonly signature: string;
  readonly macs: ReadonlyMap<string, string>;
  readonly to: Map<string, RelayedSignature>;
}
type Survivor = NonNullable<SecaggState['survivors']>[number];
type SecaggSets = {
  u2: readonly string[];
  u3: readonly string[];
  dropped: readonly string[];
  /** U2 and U3 as sets (built once with them: every read, signature and reveal asks who is in them). */
  inU2: ReadonlySet<string>;
  inU3: ReadonlySet<string>;
};

/** Secure-aggregation rounds of the engine. */
export class SecureAggregation {
  private readonly coordinatorFingerprint: string;
  /** The graphs of recent rounds (a pure function of the plan, the context and the cohort; a few per federation). */
  private readonly graphs = new Map<string, SecaggGraph>();
  /** The parsed share messages of U2 of recent rounds (immutable once U2 is fixed; see secagg-relay). */
  private readonly relays = new Map<string, Promise<SecaggRelay>>();
  /** Recent rounds whose cohort was told that t consistency signatures are in. */
  private readonly revealing = new Map<string, true>();
  /** Per recent round of a sparse graph: the sites told that t_g of their closed neighbourhood signed. */
  private readonly revealingSites = new Map<string, Set<string>>();
  /** U2, U3 and the dropped sites of recent rounds that stopped taking updates (see {@link sets}). */
  private readonly fixedSets = new Map<string, Promise<SecaggSets>>();
  /**
   * Per recent round (and opening): the fixing of U2 this process started. Share messages that land in one group
   * commit all find U2 complete at once; they share one fix, so the round is fixed, measured, logged and announced
   * once — not once per message (each announcement pushes `masking` to the whole cohort).
   */
  private readonly fixing = new Map<string, Promise<SecaggCohortRecord>>();
  /** U2 of recent rounds, once fixed (stored once, never changed). */
  private readonly fixedCohorts = new Map<string, SecaggCohortRecord>();
  /** The signed directory entries of recent rounds' cohorts (a site's keys never change). */
  private readonly cohortEntries = new Map<string, Promise<CohortDirectory>>();
  /** The digests of the share boxes of the share messages this replica took, by round and site (see submitShares). */
  private readonly boxDigests = new Map<string, string>();
  /** Per frozen list of a round (cohort entries, U2's keys): each site's neighbourhood part of it (see nearOf). */
  private readonly neighbourhoods = new WeakMap<readonly object[], Map<string, readonly object[]>>();
  /** Per recent round and kind: the senders of its stored messages known here (see secagg-senders). */
  private readonly senderSets = new Map<string, KnownSenders>();
  /** Per recent round: who revealed, and how many holders of each secret did (see unmask). */
  private readonly tallies = new Map<string, RevealTally>();
  /**
   * The consistency messages of recent rounds as relayed, by signer: its signature, its MACs by recipient, and the
   * relayed entry per recipient (frozen, so kept serialised: frozen-json).
   */
  private readonly signatures = new Map<string, Map<string, RelayedConsistency>>();
  /** Per recent round: the consistency signatures last relayed to each site, read again while no other came in. */
  private readonly relayedLists = new Map<string, Map<string, readonly RelayedSignature[]>>();
  /** Per graph (kept as long as it is): each site's closed neighbourhood N[u] as a set. */
  private readonly closedNeighbourhoods = new WeakMap<SecaggGraph, Map<string, ReadonlySet<string>>>();

  constructor(
    private readonly core: EngineCore,
    private readonly opener: UpdateOpener,
    private readonly directory: SiteDirectory,
  ) {
    this.coordinatorFingerprint = fingerprint(publicPart(core.deps.identity));
  }

  /** t > 2n/3 of the round's cohort (the sites compute the same from the plan and the cohort, and refuse another). */
  threshold(plan: Plan, round: Round): number {
    return secaggThreshold(round.selectedSiteIds.length, plan.minSites);
  }

  /**
   * The round's communication graph (crypto/secagg-graph): complete, or SecAgg+'s sparse graph over a public order of
   * the cohort. Every site computes the same from the plan and the cohort, and checks everything against it.
   */
  graph(plan: Plan, round: Round): SecaggGraph {
    // A round's cohort, base version and plan never change (the opening time tells a round number used again apart).
    const key = `${round.federationId}\n${round.round}\n${round.baseVersionId}\n${round.openedAt}`;
    let graph = this.graphs.get(key);
    if (!graph) {
      graph = secaggGraph({
        ...this.context(round),
        cohort: round.selectedSiteIds,
        minSites: plan.minSites,
        options: planSecaggGraph(plan),
        distributedDp: plan.privacy.dp !== undefined,
      });
      if (this.graphs.size >= 64) this.graphs.delete(this.graphs.keys().next().value!);
      this.graphs.set(key, graph);
    }
    return graph;
  }

  /** N[siteId] in a sparse graph (the site and its neighbours), built once per graph and site. */
  private closedNeighbourhood(graph: SecaggGraph, siteId: string): ReadonlySet<string> {
    let bySite = this.closedNeighbourhoods.get(graph);
    if (!bySite) this.closedNeighbourhoods.set(graph, (bySite = new Map<string, ReadonlySet<string>>()));
    let near = bySite.get(siteId);
    if (!near) bySite.set(siteId, (near = new Set([siteId, ...graph.neighbours(siteId)])));
    return near;
  }

  /** Keeps at most `max` entries of a per-round cache (the oldest goes first). */
  private static remember<V>(cache: Map<string, V>, key: string, value: V, max: number): V {
    if (cache.size >= max) cache.delete(cache.keys().next().value!);
    cache.set(key, value);
    return value;
  }

  /**
   * Keeps at most `max` entries of a per-round cache of what is being built: the promise is kept from the first call,
   * so reads that arrive while it is built wait for the same one instead of each building its own (at 500 sites the
   * whole cohort asks within a second of U2 being fixed). A failed build is forgotten, to be tried again. Only the
   * federation's current and previous rounds are kept (round-cache: a round's relay and kept answers are large).
   */
  private static once<V>(
    cache: Map<string, Promise<V>>,
    key: string,
    max: number,
    build: () => Promise<V>,
  ): Promise<V> {
    const cached = cache.get(key);
    if (cached) return cached;
    const built = build();
    built.catch(() => {
      if (cache.get(key) === built) cache.delete(key);
    });
    return rememberRound(cache, key, built, max);
  }

  /** The relay of U2 (parsed once per round and replica: the share messages of U2 no longer change). */
  private relay(round: Round, cohort: SecaggCohortRecord): Promise<SecaggRelay> {
    const key = `${round.federationId}\n${round.round}\n${round.openedAt}\n${cohort.fixedAt}`;
    return SecureAggregation.once(this.relays, key, 8, async () =>
      buildSecaggRelay(
        cohort,
        await this.core.store.listSecaggMessages(round.federationId, round.round, 'shares'),
        (siteId) => this.boxDigests.get(this.digestKey(round, siteId)),
      ),
    );
  }

  /** The senders of the round's messages of one kind known here (consistency signatures with their payloads). */
  private senders(round: Round, kind: SecaggKind): KnownSenders {
    const key = `${round.federationId}\n${round.round}\n${round.openedAt}\n${kind}`;
    return (
      this.senderSets.get(key) ??
      rememberRound(
        this.senderSets,
        key,
        new KnownSenders(this.core.store, {
          federationId: round.federationId,
          round: round.round,
          kind,
          payloads: kind === 'consistency',
        }),
        24,
      )
    );
  }

  /** The round's tally of revealed holders (kept per round and replica: reveals are never taken back). */
  private revealTally(round: Round, graph: SecaggGraph): RevealTally {
    const key = `${round.federationId}\n${round.round}\n${round.openedAt}`;
    return this.tallies.get(key) ?? rememberRound(this.tallies, key, new RevealTally(graph), 8);
  }

  private digestKey(round: Round, siteId: string): string {
    return `${round.federationId}\n${round.round}\n${round.openedAt}\n${siteId}`;
  }

  /**
   * The round's cohort S as signed directory entries and their sorted ids (read and signed once per round; frozen, so
   * that their serialisation is kept: frozen-json).
   */
  private cohortDirectory(round: Round): Promise<CohortDirectory> {
    const key = `${round.federationId}\n${round.round}\n${round.openedAt}`;
    return SecureAggregation.once(this.cohortEntries, key, 16, async () => {
      const sites = await Promise.all(round.selectedSiteIds.map((id) => this.core.store.getSite(id)));
      // Every selected site (a revoked one cannot take part, but the share boxes still cover exactly the round's cohort).
      const entries = Object.freeze(sites.flatMap((s) => (s ? [Object.freeze(this.directory.entry(s))] : [])));
      return { entries, ids: Object.freeze(entries.map((m) => m.siteId).sort()) };
    });
  }

  /**
   * The members of `all` (a round's frozen cohort entries or U2's keys) in a site's closed neighbourhood `near`,
   * filtered once per site and round and frozen (so kept serialised: frozen-json); kept as long as `all`.
   */
  private nearOf<T extends { siteId: string }>(
    all: readonly T[],
    siteId: string,
    near: ReadonlySet<string>,
  ): readonly T[] {
    let bySite = this.neighbourhoods.get(all);
    if (!bySite) this.neighbourhoods.set(all, (bySite = new Map<string, readonly object[]>()));
    let mine = bySite.get(siteId);
    if (!mine) bySite.set(siteId, (mine = Object.freeze(all.filter((m) => near.has(m.siteId)))));
    return mine as readonly T[];
  }

  /**
   * A consistency message as relayed to `recipient`: the signer's signature and, when it sent one, its MAC for
   * `recipient` only (frozen: kept serialised); a site's stored message never changes, so it is parsed once.
   */
  private relayedSignature(
    signatures: Map<string, RelayedConsistency>,
    m: { siteId: string; payload: string },
    recipient: string,
  ): RelayedSignature {
    let stored = signatures.get(m.siteId);
    if (!stored) {
      const { signature, macs } = JSON.parse(m.payload) as SecaggConsistency;
      stored = { siteId: m.siteId, signature, macs: new Map(macs?.map((x) => [x.to, x.mac])), to: new Map() };
      signatures.set(m.siteId, stored);
    }
    let relayed = stored.to.get(recipient);
    if (!relayed) {
      const mac = stored.macs.get(recipient);
      relayed = Object.freeze(
        mac === undefined
          ? { siteId: stored.siteId, signature: stored.signature }
          : { siteId: stored.siteId, signature: stored.signature, mac },
      );
      stored.to.set(recipient, relayed);
    }
    return relayed;
  }

  /**
   * The consistency signatures relayed to `siteId`: those of the sites in `relayed` that are in U3 and `signed`, in the
   * order of their ids. Messages are insert-once, so while as many of them are in as on the site's last read, the list
   * is that read's; a read then costs a count, not a list built again. Not frozen: the list mostly grows between a
   * site's reads, so frozen-json would walk and keep each one's bytes for nothing (its items' texts are kept).
   */
  private relayedConsistency(
    round: Round,
    siteId: string,
    relayed: ReadonlySet<string>,
    inU3: ReadonlySet<string>,
    signed: ReadonlyMap<string, string | undefined>,
  ): readonly RelayedSignature[] {
    const key = `${round.federationId}\n${round.round}\n${round.openedAt}`;
    const lists =
      this.relayedLists.get(key) ??
      rememberRound(this.relayedLists, key, new Map<string, readonly RelayedSignature[]>(), 4);
    let count = 0;
    for (const id of relayed) if (inU3.has(id) && signed.has(id)) count++;
    const kept = lists.get(siteId);
    if (kept?.length === count) return kept;
    const signatures =
      this.signatures.get(key) ??
      SecureAggregation.remember(this.signatures, key, new Map<string, RelayedConsistency>(), 4);
    const list = [...relayed]
      .filter((id) => inU3.has(id) && signed.has(id))
      .sort()
      .map((id) => this.relayedSignature(signatures, { siteId: id, payload: signed.get(id)! }, siteId));
    lists.set(siteId, list);
    return list;
  }

  /** What binds the round's secrets and signatures: federation, round, base version, this coordinator's key. */
  context(round: Round): SecaggRound {
    return {
      federationId: round.federationId,
      round: round.round,
      baseVersionId: round.baseVersionId,
      coordinatorFingerprint: this.coordinatorFingerprint,
    };
  }

  private async signKeyOf(siteId: string): Promise<Uint8Array> {
    const site = await this.core.store.getSite(siteId);
    if (!site) throw new TwinfedError('UNKNOWN_SITE');
    return fromB64(site.signPublicKey);
  }

  /**
   * U2 once fixed; fixes it now when every selected site shared, or sharing time is over and at least t did. A site's
   * read (`read`) does not look before sharing time is over: until then only a new share message can complete U2, and
   * the request that stores it (or the driver's poll, for one stored by another replica) looks — listing every sender
   * on each read of the sharing phase cost O(n) per read, O(n²) per round.
   */
  async cohort(loaded: Loaded, round: Round, o: { read?: boolean } = {}): Promise<SecaggCohortRecord | null> {
    const { store } = this.core;
    const key = `${round.federationId}\n${round.round}\n${round.openedAt}`;
    const known = this.fixedCohorts.get(key);
    if (known) return known;
    const fixed = await store.getSecaggCohort(round.federationId, round.round);
    // Stored once and never changed: kept for the round's later reads.
    if (fixed) return SecureAggregation.remember(this.fixedCohorts, key, fixed, 16);
    if (round.state !== 'open' && round.state !== 'collecting') return null;
    if (!this.core.drives(round.federationId)) return null; // the driving replica fixes it (on its next poll at the latest)
    if (o.read && this.core.now() < secaggDeadlines(round).sharesAt) return null;
    const shared = [...(await this.senders(round, 'shares').current()).keys()];
    const all = shared.length === round.selectedSiteIds.length;
    const late =
      this.core.now() >= secaggDeadlines(round).sharesAt && shared.length >= this.threshold(loaded.plan, round);
    if (!all && !late) return null;
    const started = this.fixing.get(key);
    if (started) return started;
    const fixing = this.fixCohort(round, shared);
    void SecureAggregation.remember(this.fixing, key, fixing, 16);
    // A failed fix (a lost lease, a store error) is not remembered: the next share message or poll tries again.
    fixing.catch(() => {
      if (this.fixing.get(key) === fixing) this.fixing.delete(key);
    });
    return fixing;
  }

  private async fixCohort(round: Round, shared: readonly string[]): Promise<SecaggCohortRecord> {
    const cohort = await this.core.store.fixSecaggCohort(
      {
        federationId: round.federationId,
        round: round.round,
        siteIds: [...shared].sort(),
        fixedAt: this.core.iso(),
      },
      this.core.fence(round.federationId),
    );
    this.core.metrics.secaggPhase('share_relay', (Date.parse(cohort.fixedAt) - Date.parse(round.openedAt)) / 1000);
    this.announce(round, 'masking');
    this.core.logger.info(
      {
        federationId: round.federationId,
        round: round.round,
        survivors: cohort.siteIds.length,
        selected: round.selectedSiteIds.length,
      },
      'secure aggregation: key shares closed',
    );
    return cohort;
  }

  /** How many stored updates close the round early: all of U2 (or, with closeAt quorum, max(t, minSites)). */
  async closeTarget(loaded: Loaded, round: Round): Promise<number> {
    const cohort = await this.cohort(loaded, round);
    if (!cohort) return 0;
    const all = cohort.siteIds.length;
    return loaded.plan.closeAt === 'quorum'
      ? Math.min(all, Math.max(this.threshold(loaded.plan, round), loaded.plan.minSites))
      : all;
  }

  /** Tells the round's cohort over the push channel that the secure aggregation moved on (a hint: sites also poll). */
  announce(round: Round, phase: 'masking' | 'unmasking' | 'revealing'): void {
    this.core.events.secaggPhase(
      { federationId: round.federationId, round: round.round, phase },
      round.selectedSiteIds,
    );
  }

  /**
   * What a site sees of the round's secure aggregation: U2's keys and this site's own boxes come from the round's
   * relay (parsed once), the cohort's signed entries from a per-round cache; the small, growing lists (who shared, who
   * signed, who revealed) are counted in the store on each call and listed only when another replica added to them.
   */
  async state(
    loaded: Loaded,
    round: Round,
    siteId: string,
    view: SecaggStateView = 'full',
    have: ReadonlySet<SecaggStateSection> = new Set(),
  ): Promise<SecaggState> {
    if (!round.selectedSiteIds.includes(siteId)) throw new TwinfedError('SITE_NOT_SELECTED');
    const cohort = await this.cohort(loaded, round, { read: true });
    const closed = round.state === 'published' || round.state === 'failed';
    const unmasking = round.state === 'aggregating';
    const relay = cohort ? await this.relay(round, cohort) : null;
    const mine = async (kind: 'shares' | 'reveal') => (await this.senders(round, kind).current()).has(siteId);
    // Once U2 is fixed, shared means taken into it (a message stored after it was fixed was not).
    const shared = cohort ? cohort.siteIds.includes(siteId) : await mine('shares');
    const { sharesAt, unmaskAt } = secaggDeadlines(round);
    const late = unmasking || closed;
    const { u3, inU3 } = late ? await this.sets(round) : { u3: [], inU3: new Set<string>() };
    // The signatures a site checks: U3's with the complete graph, only those of N[site] ∩ U3 with a sparse one.
    const graph = this.graph(loaded.plan, round);
    const relayed = graph.kind === 'sparse' ? this.closedNeighbourhood(graph, siteId) : inU3;
    // The relayed sites' signatures, in the order of their ids, from those known here (the store is only counted
    // unless another replica took some: see secagg-senders).
    const signed = late ? await this.senders(round, 'consistency').current() : undefined;
    const consistency = signed ? this.relayedConsistency(round, siteId, relayed, inU3, signed) : [];
    // A reveal is taken only once the round stopped taking updates.
    const revealed = late && (await mine('reveal'));
    // What the site says it holds from an earlier read of this round is left out once fixed (named in `omitted`).
    const omitted = SECAGG_STATE_SECTIONS.filter(
      (x) => have.has(x) && (x === 'directory' || (x === 'survivors' ? relay !== null : late)),
    );
    const omits = new Set(omitted);
    const directory = omits.has('directory') ? null : await this.cohortDirectory(round);
    // The neighbourhood view: only the keys the site uses (its closed neighbourhood's), and the ids of S and U2.
    const near = view === 'neighbourhood' && graph.kind === 'sparse' ? relayed : undefined;
    // The large parts are the round's frozen objects (or arrays of them): their serialisation is kept (frozen-json).
    const listed = !directory ? [] : near ? this.nearOf(directory.entries, siteId, near) : directory.entries;
    const u2 = omits.has('survivors') ? null : relay;
    // With the neighbourhood view, one signature over the listed entries (envelope/neighbourhood-directory): the site
    // checks it instead of each entry's. Signed once per site and round (the list is frozen and kept with the round).
    const views = near
      ? {
          view: 'neighbourhood' as const,
          ...(directory
            ? {
                cohortIds: directory.ids as string[],
                neighbourhoodSignature: this.directory.neighbourhood(this.context(round), siteId, listed),
              }
            : {}),
          ...(u2 || !relay ? { survivorIds: u2 ? (u2.survivorIds as string[]) : null } : {}),
        }
      : {};
    return {
      federationId: round.federationId,
      round: round.round,
      phase: closed ? 'closed' : unmasking ? 'unmasking' : cohort ? 'masking' : 'sharing',
      threshold: this.threshold(loaded.plan, round),
      cohort: listed as CohortMember[],
      shared,
      revealed,
      survivors: relay
        ? !u2
          ? []
          : ((near ? this.nearOf(u2.survivors, siteId, near) : u2.survivors) as Survivor[])
        : null,
      sharesForMe: u2 ? (u2.boxesFor(siteId) as SecaggState['sharesForMe']) : [],
      maskedBy: late ? (omits.has('maskedBy') ? [] : (u3 as string[])) : null,
      consistency: consistency as RelayedSignature[],
      sharesDeadlineAt: new Date(sharesAt).toISOString(),
      unmaskDeadlineAt: new Date(unmaskAt).toISOString(),
      ...views,
      ...(omitted.length > 0 ? { omitted } : {}),
    };
  }

  /**
   * Step 1: a selected site's mask public key and share boxes, one per cohort member, signed with its enrolled key
   * (`SECAGG_UNTRUSTED_KEY` otherwise). Idempotent per site.
   */
  async submitShares(loaded: Loaded, round: Round, siteId: string, message: SecaggShares): Promise<SecaggAck> {
    if (round.state !== 'open' && round.state !== 'collecting') throw new TwinfedError('ROUND_CLOSED');
    if (!round.selectedSiteIds.includes(siteId)) throw new TwinfedError('SITE_NOT_SELECTED');
    assertSecaggCohort(round.selectedSiteIds.length);
    // The evaluation of the round's base version it may carry: checked first (a selected site is a member), stored
    // beside the message, never with it (the message is relayed; an evaluation goes to the coordinator only).
    const { baseEvaluation: report, ...body } = message;
    const evaluation = report
      ? baseEvaluationRecord(loaded.plan, { versionId: round.baseVersionId, siteId, report })
      : undefined;
    const to = body.shares.map((s) => s.to).sort();
    const holders = [...this.graph(loaded.plan, round).neighbours(siteId), siteId].sort();
    if (to.length !== holders.length || to.some((id, i) => id !== holders[i])) {
      throw new TwinfedError(
        'VALIDATION_FAILED',
        "Send exactly one share box to each of your neighbours in the round's graph and to yourself.",
      );
    }
    if (fromB64(body.maskPublicKey, 'VALIDATION_FAILED').byteLength !== 32)
      throw new TwinfedError('VALIDATION_FAILED', 'The mask public key must be 32 bytes.');
    const statement = {
      ...this.context(round),
      siteId,
      maskPublicKey: body.maskPublicKey,
      boxesSha256: shareBoxesDigest(body.shares),
    };
    if (!verifySecaggKeys(statement, body.signature, await this.signKeyOf(siteId))) {
      throw new TwinfedError(
        'SECAGG_UNTRUSTED_KEY',
        `The signature over the mask public key and share boxes does not verify with this site's enrolled key for this round under ${SECAGG_VERSION} (a site on another secure-aggregation version signs another statement: upgrade it).`,
      );
    }
    const fixed = await this.core.store.getSecaggCohort(round.federationId, round.round);
    const payload = JSON.stringify(body);
    const put = async () =>
      this.core.store.putSecaggMessage({
        federationId: round.federationId,
        round: round.round,
        siteId,
        kind: 'shares',
        payload,
        createdAt: this.core.iso(),
      });
    if (fixed && !fixed.siteIds.includes(siteId)) throw phaseError('The key shares of this round are closed.');
    // Every share set of a site splits the same derived secrets, so a second, different one (a restarted site) is as good as the first, which stays.
    // The evaluation is written beside it (the same group commit); it is the site's whether or not U2 takes the shares.
    const [stored] = await Promise.all([
      fixed ? undefined : put(),
      evaluation && this.core.store.putEvaluation({ ...evaluation, createdAt: this.core.iso() }),
    ]);
    // Stored (this message, or an earlier one of this site's that stays): known here without listing the round's.
    if (stored) this.senders(round, 'shares').stored(siteId, stored.existing?.payload ?? payload);
    const status = stored?.status === 'accepted' ? 'accepted' : 'duplicate';
    // Taken: the stored message of this site is this one for good, so the relay can use its digest instead of hashing
    // its boxes again (every site's, at once, when U2 is fixed).
    if (status === 'accepted')
      SecureAggregation.remember(this.boxDigests, this.digestKey(round, siteId), statement.boxesSha256, 4096);
    // The write may land after U2 was fixed without it (a group commit waits for an fsync; another replica): then it
    // was not taken, and the site hears so as if it had come late (its stored message is never relayed).
    const cohort = await this.cohort(loaded, round);
    if (cohort && !cohort.siteIds.includes(siteId)) throw phaseError('The key shares of this round are closed.');
    return { status };
  }

  /** Checks that a masked update may be taken now from `siteId` (U2 fixed, the site in it). */
  async acceptsMasked(loaded: Loaded, round: Round, siteId: string): Promise<void> {
    const cohort = await this.cohort(loaded, round);
    if (!cohort)
      throw phaseError('The key shares of this round are still being collected; upload once they are closed.');
    if (!cohort.siteIds.includes(siteId))
      throw new TwinfedError('SITE_NOT_SELECTED', 'The site sent no key shares in time for this round.');
  }

  /**
   * Step 3: a U3 member's signature over the round as it saw it — (context, S, t, U2, U3) with the complete graph, its
   * closed neighbourhood restricted to U2 and U3 with a sparse one (V3, secagg-statements) — checked against the round
   * as stored here (`SECAGG_INCONSISTENT` when the site saw another one, or signed the other kind of statement).
   * Idempotent (Ed25519 is deterministic).
   */
  async submitConsistency(loaded: Loaded, round: Round, siteId: string, body: SecaggConsistency): Promise<SecaggAck> {
    if (round.state !== 'aggregating')
      throw phaseError('Consistency signatures are taken only once the round stopped taking updates.');
    const { u2, u3, inU2, inU3 } = await this.sets(round);
    if (!inU3.has(siteId))
      throw new TwinfedError('SITE_NOT_SELECTED', 'Only sites whose masked update was taken sign the round.');
    const graph = this.graph(loaded.plan, round);
    if (body.macs !== undefined && graph.kind !== 'sparse')
      throw new TwinfedError('VALIDATION_FAILED', 'Consistency MACs are sent only in rounds over a sparse graph.');
    const threshold = this.threshold(loaded.plan, round);
    const signKey = await this.signKeyOf(siteId);
    const valid =
      graph.kind === 'sparse'
        ? verifySecaggNeighbourhood(
            secaggNeighbourhoodStatement({
              ...this.context(round),
              cohortSha256: secaggCohortDigest(round.selectedSiteIds),
              degree: graph.degree,
              threshold: graph.threshold,
              siteId,
              neighbours: graph.neighbours(siteId),
              u2: inU2,
              u3: inU3,
            }),
            body.signature,
            signKey,
          )
        : verifySecaggConsistency(
            { ...this.context(round), threshold, cohort: round.selectedSiteIds, u2, u3 },
            body.signature,
            signKey,
          );
    if (!valid) {
      throw new TwinfedError(
        'SECAGG_INCONSISTENT',
        graph.kind === 'sparse'
          ? `The signature is not over this site's neighbourhood in the round as the coordinator holds it (V3 statement, k = ${graph.degree}, t = ${graph.threshold}).`
          : `The signature is not over this round as the coordinator holds it (t = ${threshold}, U3 = ${u3.join(', ')}).`,
      );
    }
    // Where the MACs go, once the signature showed the site holds this U3 ∩ N[u] (a site that saw another U3 hears
    // SECAGG_INCONSISTENT, not a complaint about its MACs).
    if (body.macs !== undefined) SecureAggregation.checkMacs(graph, siteId, inU3, body.macs);
    const payload = JSON.stringify(body);
    const put = await this.core.store.putSecaggMessage({
      federationId: round.federationId,
      round: round.round,
      siteId,
      kind: 'consistency',
      payload,
      createdAt: this.core.iso(),
    });
    if (put.status === 'conflict')
      throw new TwinfedError('UPDATE_CONFLICT', 'A different consistency signature from this site was already taken.');
    const senders = this.senders(round, 'consistency');
    senders.stored(siteId, payload);
    if (put.status === 'accepted') {
      const key = `${round.federationId}\n${round.round}`;
      const signed = await senders.current();
      // Signed and in U3.
      const done = (id: string) => inU3.has(id) && signed.has(id);
      if (graph.kind !== 'sparse') {
        let count = 0;
        for (const id of signed.keys()) if (inU3.has(id)) count++;
        // The sites wait for t signatures before revealing: tell them once, when the t-th arrives (they poll
        // otherwise). Once per round and replica, at the first count of t or more: two signatures taken together may
        // both count t + 1.
        if (!this.revealing.has(key) && count >= threshold) {
          SecureAggregation.remember(this.revealing, key, true, 64);
          this.announce(round, 'revealing');
        }
      } else {
        // A site of a sparse graph waits only for t_g signatures of its closed neighbourhood: tell each one as soon as
        // its own neighbourhood has them (the signer and its neighbours are the only sites this signature can
        // complete), not the whole cohort at the slowest site's pace.
        let told = this.revealingSites.get(key);
        if (!told) told = SecureAggregation.remember(this.revealingSites, key, new Set<string>(), 16);
        const enough = (u: string) => {
          let count = 0;
          for (const id of this.closedNeighbourhood(graph, u)) if (done(id) && ++count >= graph.threshold) return true;
          return false;
        };
        const ready = [...this.closedNeighbourhood(graph, siteId)].filter(
          (u) => inU3.has(u) && !told.has(u) && enough(u),
        );
        for (const u of ready) told.add(u);
        if (ready.length > 0)
          this.core.events.secaggPhase(
            { federationId: round.federationId, round: round.round, phase: 'revealing' },
            ready,
          );
      }
    }
    return { status: put.status === 'accepted' ? 'accepted' : 'duplicate' };
  }

  /**
   * The consistency MACs of a sparse graph's signer: exactly one for each of its neighbours in U3 (as held here: the
   * signature, checked next, covers the signer's U3 ∩ N[u]). The coordinator cannot check a MAC (only the signer and
   * its recipient derive the key), only where it goes; `VALIDATION_FAILED` otherwise, and for MACs on the complete
   * graph (its sites check the signatures).
   */
  private static checkMacs(
    graph: SecaggGraph,
    siteId: string,
    inU3: ReadonlySet<string>,
    macs: NonNullable<SecaggConsistency['macs']>,
  ): void {
    const expected = graph.neighbours(siteId).filter((id) => inU3.has(id));
    const to = macs.map((m) => m.to).sort();
    if (to.length !== expected.length || to.some((id, i) => id !== expected[i]))
      throw new TwinfedError(
        'VALIDATION_FAILED',
        "Send exactly one consistency MAC to each of your neighbours in U3 (the round's graph), none to yourself.",
      );
  }

  /** Step 4: a U3 member's shares of the survivors' seeds and the dropped sites' mask keys. */
  async submitReveal(loaded: Loaded, round: Round, siteId: string, body: SecaggReveal): Promise<SecaggAck> {
    if (round.state !== 'aggregating')
      throw phaseError('Reveals are taken only once the round stopped taking updates.');
    const sets = await this.sets(round);
    if (!sets.u3.includes(siteId))
      throw new TwinfedError('SITE_NOT_SELECTED', 'Only sites whose masked update was taken reveal.');
    const neighbours = new Set(this.graph(loaded.plan, round).neighbours(siteId));
    const u3 = sets.u3.filter((id) => id === siteId || neighbours.has(id));
    const dropped = sets.dropped.filter((id) => neighbours.has(id));
    const same = (a: readonly string[], b: readonly string[]) => {
      const inB = new Set(b);
      return a.length === b.length && new Set(a).size === a.length && a.every((x) => inB.has(x));
    };
    if (
      !same(
        body.seedShares.map((s) => s.of),
        u3,
      ) ||
      !same(
        body.maskKeyShares.map((s) => s.of),
        dropped,
      )
    ) {
      throw new TwinfedError(
        'VALIDATION_FAILED',
        `Reveal one seed share per site of U3 among yourself and your neighbours (${u3.join(', ')}) and one mask-key share per dropped neighbour (${dropped.join(', ') || 'none'}).`,
      );
    }
    for (const s of [...body.seedShares, ...body.maskKeyShares]) {
      if (fromB64(s.share, 'VALIDATION_FAILED').byteLength !== SHARE_BYTES)
        throw new TwinfedError('VALIDATION_FAILED', `A share is ${SHARE_BYTES} bytes.`);
    }
    const payload = JSON.stringify(body);
    const put = await this.core.store.putSecaggMessage({
      federationId: round.federationId,
      round: round.round,
      siteId,
      kind: 'reveal',
      payload,
      createdAt: this.core.iso(),
    });
    if (put.status === 'conflict')
      throw new TwinfedError('UPDATE_CONFLICT', 'A different reveal from this site was already taken.');
    this.senders(round, 'reveal').stored(siteId, payload);
    return { status: put.status === 'accepted' ? 'accepted' : 'duplicate' };
  }

  /**
   * Tries to unmask the round's sum: pending until every survivor's seed and every dropped site's mask key has the
   * graph's threshold of shares from its holders (t of U3 with the complete graph); then recombines the seeds (checked against
   * the signed commitments) and the dropped sites' mask keys (checked against their public keys) and returns the
   * example-weighted mean delta. Throws with the reason when it cannot be done.
   */
  async unmask(loaded: Loaded, round: Round, global: Float32Array): Promise<Unmasked> {
    const { store } = this.core;
    const { u3, dropped, inU3 } = await this.sets(round);
    const t = this.threshold(loaded.plan, round);
    if (u3.length < t)
      throw new TwinfedError('VALIDATION_FAILED', `${u3.length} masked updates, fewer than the threshold t = ${t}`);
    const { unmaskAt } = secaggDeadlines(round);
    // Each secret needs the graph's threshold of shares from its holders (its neighbours, and itself for a seed).
    const graph = this.graph(loaded.plan, round);
    // Counted first from who revealed (every taken reveal holds exactly its sender's shares of its neighbourhood), so
    // the reveals are read and parsed only once they can be enough — not again on each of the n reveals.
    const tally = this.revealTally(round, graph);
    tally.add([...(await this.senders(round, 'reveal').current()).keys()].filter((id) => inU3.has(id)));
    if (!tally.enough(u3, dropped)) return { status: 'pending', unmaskAt, revealed: tally.revealed, threshold: t };
    const reveals = (await store.listSecaggMessages(round.federationId, round.round, 'reveal')).filter((m) =>
      inU3.has(m.siteId),
    );
    const collected = new Map<string, Uint8Array[]>();
    for (const m of reveals) {
      const body = JSON.parse(m.payload) as SecaggReveal;
      for (const [kind, list] of [
        ['seed', body.seedShares],
        ['maskKey', body.maskKeyShares],
      ] as const) {
        for (const s of list) {
          const key = `${kind}\n${s.of}`;
          const got = collected.get(key) ?? [];
          if (got.length < graph.threshold) got.push(fromB64(s.share));
          collected.set(key, got);
        }
      }
    }
    const needed = [...u3.map((v) => `seed\n${v}`), ...dropped.map((v) => `maskKey\n${v}`)];
    const short = needed.filter((key) => (collected.get(key)?.length ?? 0) < graph.threshold).length;
    if (short > 0) return { status: 'pending', unmaskAt, revealed: reveals.length, threshold: t };
    const sharesOf = (v: string, kind: 'seedShares' | 'maskKeyShares') =>
      collected.get(`${kind === 'seedShares' ? 'seed' : 'maskKey'}\n${v}`)!;
    const headers = new Map<string, UpdateHeader>();
    const elements = secaggVectorLength(global.length, { distributedDp: loaded.plan.privacy.dp !== undefined });
    const uploads = new Ring64Sum(elements);
    for (const siteId of u3) {
      const { header, masked } = await this.opener.openStoredMasked({
        federationId: round.federationId,
        round: round.round,
        siteId,
        elements,
      });
      headers.set(siteId, header);
      uploads.add(fromBytesRing64(masked, elements));
    }
    const sum = uploads.foldInto(new Uint32Array(elements * 2));
    const ctx = this.context(round);
    const selfSeeds = await Promise.all(
      u3.map((v) =>
        recoverSelfMaskSeed({
          ...ctx,
          shares: sharesOf(v, 'seedShares'),
          commitment: headers.get(v)!.secagg!.commitment,
          siteId: v,
        }),
      ),
    );
    const cohort = await store.getSecaggCohort(round.federationId, round.round);
    const { maskPublicKeys } = await this.relay(round, cohort!);
    const maskPublic = (id: string) => ({ siteId: id, boxPublicKey: fromB64(maskPublicKeys.get(id)!) });
    const droppedPairs: Array<{ survivor: string; dropped: string; key: Uint8Array }> = [];
    for (const v of dropped) {
      const maskSecretKey = await recoverMaskSecretKey({
        shares: sharesOf(v, 'maskKeyShares'),
        publicKey: maskPublic(v).boxPublicKey,
        siteId: v,
      });
      for (const u of graph.neighbours(v).filter((id) => inU3.has(id)))
        droppedPairs.push({
          survivor: u,
          dropped: v,
          key: secaggPairKey({ ...ctx, maskSecretKey, siteId: v, peer: maskPublic(u) }),
        });
    }
    const unmasked = unmaskSum({ sum, selfSeeds, droppedPairs });
    const contributors = u3.map((siteId) => ({ siteId }));
    // Distributed DP: the sum is of clipped, noised integer deltas (no n, no loss); only the noisy mean leaves here.
    if (loaded.plan.privacy.dp)
      return {
        status: 'done',
        mean: ddpMean({
          plan: loaded.plan,
          sum: unmasked,
          selectedSites: round.selectedSiteIds.length,
          survivors: u3,
          threshold: t,
        }),
        contributors,
      };
    const total = decodeSecaggSum(unmasked, {
      weights: global.length,
      sites: u3.length,
      maxExamples: maxExamplesPerSite(loaded.plan.training),
    });
    const delta = Float64Array.from(total.weighted, (x, i) => x / total.examples - global[i]!);
    const metrics = {
      ...securedMetrics(total),
      sites: u3.length,
      secureAggregation: 1,
      secaggDropped: round.selectedSiteIds.length - u3.length,
    };
    return { status: 'done', mean: { delta, metrics, contributors: [...u3] }, contributors };
  }

  /**
   * U2, U3 and the dropped sites. Once the round stopped taking updates (`aggregating` and after) U3 no longer
   * changes, so the sets are read once per round and replica instead of on every state read, consistency signature
   * and reveal (each an O(n) read of the round's update summaries).
   */
  private sets(round: Round): Promise<SecaggSets> {
    const fixed = round.state === 'aggregating' || round.state === 'published' || round.state === 'failed';
    if (!fixed) return this.readSets(round);
    const key = `${round.federationId}\n${round.round}\n${round.openedAt}`;
    return SecureAggregation.once(this.fixedSets, key, 16, () => this.readSets(round));
  }

  private async readSets(round: Round): Promise<SecaggSets> {
    const cohort = await this.core.store.getSecaggCohort(round.federationId, round.round);
    const u2 = cohort?.siteIds ?? [];
    const inU2 = new Set(u2);
    const u3 = (await this.core.store.listUpdateSummaries(round.federationId, round.round))
      .map((u) => u.siteId)
      .filter((id) => inU2.has(id))
      .sort();
    const inU3 = new Set(u3);
    // Frozen: shared by every caller of the round, and U3 is relayed whole to each site (kept serialised).
    return {
      u2: Object.freeze([...u2]),
      u3: Object.freeze(u3),
      dropped: Object.freeze(u2.filter((id) => !inU3.has(id))),
      inU2,
      inU3,
    };
  }
}
