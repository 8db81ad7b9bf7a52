import {
  PlanSchema,
  TwinfedError,
  deserializeWeights,
  planDigest,
  planEpsilonAfter,
  signPlan,
  type Identity,
  type Plan,
  type SignedPlan,
  type WeightSet,
  type Logger,
} from '@twinfed/shared';
import type { Federation, LeaseFence, Round, Store } from '../store';
import {
  createStrategy,
  withCentralDp,
  withUpdateClipping,
  type RoundContext,
  type Strategy,
  type StrategyState,
} from '../strategies';
import { secureNormal } from '../strategies/secure-normal';
import { noCrashPoints, type CrashPoint, type CrashPoints } from './crash-points';
import type { DriverGate } from './driver-leases';
import { noEvents, type EngineEvents } from './events';
import { CoordinatorMetrics } from '../metrics/registry';

/** What the round engine needs. */
export interface EngineDeps {
  store: Store;
  identity: Identity;
  logger: Logger;
  events?: EngineEvents;
  now?: () => number;
  maxConcurrentUploads?: number;
  maxUpdateBytes?: number;
  metrics?: CoordinatorMetrics;
  /** Test-only crash points (see {@link CrashPoints}). */
  crashPoints?: CrashPoints;
  /**
   * After a restart, a round still collecting gets at least this long (capped at its plan's deadline) before
   * its deadline closes it, so sites that were retrying against a dead coordinator can deliver. Default 30 s.
   */
  resumeGraceMs?: number;
  /** Delay before the engine retries a federation whose transition failed (e.g. a store error). Default 5 s. */
  retryDelayMs?: number;
  /** When this process last saw a site (ISO), fresher than the stored `lastSeenAt` (which is written throttled). */
  lastSeen?: (siteId: string) => string | null;
  /**
   * Which federations this replica drives, and the fence its writes carry (rounds/driver-leases.ts). Without it the
   * engine drives every federation and writes unfenced (one engine per store).
   */
  driver?: DriverGate;
  /**
   * This replica stored an update of a federation another replica drives: tell that driver now (redis/driver-nudges.ts)
   * rather than leave it to the driver's next catch-up poll.
   */
  nudgeDriver?: (federationId: string) => void;
}

/** A federation with its validated plan, the plan's digest (what sites decide about) and its strategy. */
export interface Loaded {
  federation: Federation;
  plan: Plan;
  planSha256: string;
  /** The coordinator's signed statement of the plan (deterministic: signed once per federation and process). */
  signedPlan: SignedPlan;
  strategy: Strategy;
}

/**
 * What the parts of the round engine read in common, and nothing they change: the store, clock, logger, events and
 * metrics, and read-through caches of what never changes once written (decoded global weights) or changes only
 * through the engine (a federation's parsed plan and strategy: a plan may be amended before round 1, see `forget`). The state that changes has one owner each: timers and the serial sections in
 * `RoundScheduler` (scheduler.ts), the in-progress aggregates in `AccumulatorCache` (accumulators.ts), which rounds
 * were closed in `RoundClosing` (closing.ts), whether the engine is stopped in the engine.
 */
export class EngineCore {
  readonly store: Store;
  readonly logger: Logger;
  readonly events: EngineEvents;
  readonly now: () => number;
  readonly metrics: CoordinatorMetrics;
  private readonly crashPoints: CrashPoints;
  private readonly globals = new Map<string, WeightSet>();
  /** Each federation's validated plan, digest and strategy (a plan changes only by `RoundEngine.amendPlan`, which forgets it). */
  private readonly plans = new Map<
    string,
    {
      createdAt: string;
      json: string;
      /** The record's plan object it was checked against: a store that shares frozen plans hands out the same one. */
      source: unknown;
      plan: Plan;
      planSha256: string;
      signedPlan: SignedPlan;
      strategy: Strategy;
    }
  >();

  constructor(readonly deps: EngineDeps) {
    this.store = deps.store;
    this.logger = deps.logger;
    this.events = deps.events ?? noEvents;
    this.now = deps.now ?? Date.now;
    this.metrics = deps.metrics ?? new CoordinatorMetrics();
    this.crashPoints = deps.crashPoints ?? noCrashPoints;
  }

  crash(point: CrashPoint): void {
    this.crashPoints.hit(point);
  }

  /** True while this replica drives the federation (always, without a driver gate). */
  drives(federationId: string): boolean {
    return this.deps.driver?.drives(federationId) ?? true;
  }

  /** The fence of a state-changing write of the federation's round machine (none without a driver gate). */
  fence(federationId: string): LeaseFence | undefined {
    return this.deps.driver?.fence(federationId);
  }

  iso(): string {
    return new Date(this.now()).toISOString();
  }

  /** The federation as stored now, with its plan and strategy. */
  async load(federationId: string): Promise<Loaded> {
    const federation = await this.store.getFederation(federationId);
    if (!federation) throw new TwinfedError('UNKNOWN_FEDERATION');
    return this.loaded(federation);
  }

  /**
   * A federation record the caller has just read, with its plan and strategy: parsed once per federation and
   * cached (a plan changes only before round 1, through the engine, which then {@link forget}s it; the cache entry is
   * checked against the record's `createdAt` and plan, so a federation id that names another federation, e.g. in a
   * replaced store, or a plan another replica amended, is parsed again).
   */
  loaded(federation: Federation): Loaded {
    let cached = this.plans.get(federation.id);
    // The same frozen plan object as last time (SQLite's stores share them: frozen-json-cache.ts) is the same plan.
    const same = cached?.source === federation.plan && Object.isFrozen(federation.plan);
    const json = same ? cached!.json : JSON.stringify(federation.plan);
    if (!cached || cached.createdAt !== federation.createdAt || cached.json !== json) {
      const plan = PlanSchema.parse(federation.plan);
      cached = {
        createdAt: federation.createdAt,
        json,
        source: federation.plan,
        plan,
        planSha256: planDigest(plan),
        signedPlan: signPlan({
          federationId: federation.id,
          plan,
          createdAt: federation.createdAt,
          coordinatorSignSecretKey: this.deps.identity.sign.secretKey,
        }),
        strategy: strategyFor(plan),
      };
      this.plans.set(federation.id, cached);
    } else cached.source = federation.plan;
    const { plan, planSha256, signedPlan, strategy } = cached;
    return { federation, plan, planSha256, signedPlan, strategy };
  }

  /** Drops the cached plan of a federation whose plan was just amended. */
  forget(federationId: string): void {
    this.plans.delete(federationId);
  }

  /** The strategy's view of a round: its base weights, the federation's strategy state and the seed. */
  async context(loaded: Loaded, round: Round): Promise<RoundContext> {
    const global = await this.global(round.baseVersionId);
    const state = await this.strategyState(loaded.federation.id, loaded.strategy, global.data.length);
    return {
      round: round.round,
      global: global.data,
      state,
      seed: loaded.plan.seed,
      selectedSites: round.selectedSiteIds.length,
    };
  }

  async global(versionId: string): Promise<WeightSet> {
    const cached = this.globals.get(versionId);
    if (cached) return cached;
    const bytes = await this.store.getVersionWeights(versionId);
    if (!bytes) throw new TwinfedError('UNKNOWN_MODEL_VERSION');
    const ws = deserializeWeights(bytes);
    this.remember(versionId, ws);
    return ws;
  }

  /** Keeps decoded weights of recent versions (a round needs its base; the next round the new one). */
  remember(versionId: string, ws: WeightSet): void {
    this.globals.set(versionId, ws);
    if (this.globals.size > 8) this.globals.delete(this.globals.keys().next().value as string);
  }

  async strategyState(federationId: string, strategy: Strategy, size: number): Promise<StrategyState> {
    const bytes = await this.store.getStrategyState(federationId);
    return bytes ? strategy.decodeState(bytes, size) : strategy.initialState(size);
  }
}

/** How many stored updates close a round before its deadline (0: never early). */
export function closeTarget(plan: Plan, round: Round): number {
  const selected = round.selectedSiteIds.length;
  if (selected === 0) return 0;
  return plan.closeAt === 'quorum' ? Math.min(plan.minSites, selected) : selected;
}

/**
 * The plan's strategy, wrapped in central DP when the plan asks for it: clipped deltas, Gaussian noise from the
 * OS CSPRNG (never a seeded stream: a seed would let anyone who knows it subtract the noise). Plain update-norm
 * clipping (`plan.clipping`, never together with DP) wraps it instead.
 */
export function strategyFor(plan: Plan): Strategy {
  const inner = createStrategy(plan.strategy);
  if (plan.clipping) return withUpdateClipping(inner, { maxNorm: plan.clipping.maxNorm });
  const dp = plan.privacy.dp;
  // With secure aggregation, DP is distributed: the sites clip and add the noise (rounds/ddp.ts decodes the noisy mean).
  return dp && !plan.privacy.secureAggregation
    ? withCentralDp(inner, { clip: dp.clip, noiseMultiplier: dp.noiseMultiplier, normal: secureNormal() })
    : inner;
}

/** The ε a DP federation has spent after `releases` published rounds (Gaussian or Skellam accounting); undefined without DP. */
export function dpEpsilonAfter(plan: Plan, releases: number): number | undefined {
  return planEpsilonAfter(plan, releases) ?? undefined;
}
