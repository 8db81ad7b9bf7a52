import { PlanSchema, TwinfedError, deserializeWeights, planEpsilonAfter, type Identity, type Plan, type WeightSet, type Logger } from '@twinfed/shared';
import type { Federation, Round, Store } from '../store';
import { createStrategy, withCentralDp, withUpdateClipping, type RoundContext, type Strategy, type StrategyState } from '../strategies';
import { secureNormal } from '../strategies/secure-normal';
import { KeyedMutex } from '../util/keyed-mutex';
import { AccumulatorCache } from './accumulators';
import { noCrashPoints, type CrashPoint, type CrashPoints } from './crash-points';
import { noEvents, type EngineEvents } from './events';
import { EngineMetrics } from './metrics';
import { FederationTimers } from './timers';

/** What the round engine needs. */
export interface EngineDeps {
  store: Store;
  identity: Identity;
  logger: Logger;
  events?: EngineEvents;
  now?: () => number;
  maxConcurrentUploads?: number;
  maxUpdateBytes?: number;
  metrics?: EngineMetrics;
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
}

/** A federation with its validated plan and strategy. */
export interface Loaded {
  federation: Federation;
  plan: Plan;
  strategy: Strategy;
}

/**
 * State shared by the parts of the round engine: the store and clock, caches of decoded global weights,
 * the accumulators, the per-federation mutex (all transitions of one federation run one at a time) and
 * its timers. Tracks every task it runs so shutdown can wait for them.
 */
export class EngineCore {
  readonly store: Store;
  readonly logger: Logger;
  readonly events: EngineEvents;
  readonly now: () => number;
  readonly metrics: EngineMetrics;
  readonly accumulators = new AccumulatorCache();
  readonly timers = new FederationTimers();
  closed = false;
  private readonly crashPoints: CrashPoints;
  private readonly mutex = new KeyedMutex();
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly globals = new Map<string, WeightSet>();

  constructor(readonly deps: EngineDeps) {
    this.store = deps.store;
    this.logger = deps.logger;
    this.events = deps.events ?? noEvents;
    this.now = deps.now ?? Date.now;
    this.metrics = deps.metrics ?? new EngineMetrics();
    this.crashPoints = deps.crashPoints ?? noCrashPoints;
  }

  /** Runs `fn` after every earlier task of the federation has settled (tracked for {@link drain}). */
  serial<T>(federationId: string, fn: () => Promise<T>): Promise<T> {
    const task = this.mutex.run(federationId, fn);
    this.tasks.add(task);
    void task.then(
      () => this.tasks.delete(task),
      () => this.tasks.delete(task),
    );
    return task;
  }

  /** Resolves once every task started so far (and any they started) has settled. */
  async drain(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  crash(point: CrashPoint): void {
    this.crashPoints.hit(point);
  }

  iso(): string {
    return new Date(this.now()).toISOString();
  }

  async load(federationId: string): Promise<Loaded> {
    const federation = await this.store.getFederation(federationId);
    if (!federation) throw new TwinfedError('UNKNOWN_FEDERATION');
    const plan = PlanSchema.parse(federation.plan);
    return { federation, plan, strategy: strategyFor(plan) };
  }

  /** The strategy's view of a round: its base weights, the federation's strategy state and the seed. */
  async context(loaded: Loaded, round: Round): Promise<RoundContext> {
    const global = await this.global(round.baseVersionId);
    const state = await this.strategyState(loaded.federation.id, loaded.strategy, global.data.length);
    return { round: round.round, global: global.data, state, seed: loaded.plan.seed, selectedSites: round.selectedSiteIds.length };
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
  return dp && !plan.privacy.secureAggregation ? withCentralDp(inner, { clip: dp.clip, noiseMultiplier: dp.noiseMultiplier, normal: secureNormal() }) : inner;
}

/** The ε a DP federation has spent after `releases` published rounds (Gaussian or Skellam accounting); undefined without DP. */
export function dpEpsilonAfter(plan: Plan, releases: number): number | undefined {
  return planEpsilonAfter(plan, releases) ?? undefined;
}
