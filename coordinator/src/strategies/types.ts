import type { ClientConfig, StrategyName } from '@twinfed/shared';

/**
 * Server-side state a strategy carries from round to round (e.g. FedAdam's `m` and `v`), as named
 * Float64 vectors. Empty (`{}`) for stateless strategies. Persisted with each round through
 * {@link Strategy.encodeState}; never mutated in place (aggregate returns a fresh state).
 */
export type StrategyState = Readonly<Record<string, Float64Array>>;

/** What every strategy call knows about the round. Rounds are numbered from 1. */
export interface RoundContext {
  readonly round: number;
  /** Flat weights of the base version of this round (the model the sites trained from). */
  readonly global: Float32Array;
  readonly state: StrategyState;
  /** The plan's seed; every random choice derives from (seed, round) and nothing else. */
  readonly seed: number;
  /**
   * How many sites the round selected, fixed before any update arrives (data-independent): central DP divides the
   * sum of clipped deltas by it, so one site's presence or absence moves the mean by at most clip / selectedSites.
   */
  readonly selectedSites?: number;
}

/** Input of {@link Strategy.configureRound}. */
export interface SelectionContext extends RoundContext {
  /** Eligible (enrolled, not revoked, online) site ids. Order does not matter; they are sorted first. */
  readonly available: readonly string[];
  readonly minSites: number;
  readonly sitesPerRound?: number;
}

/** Round instructions a site needs besides the plan's training settings: the wire type of `clientConfig` (shared schemas/api.ts). */
export type { ClientConfig };

/** The sites chosen for a round and what to tell them. */
export interface RoundPlan {
  /** Selected site ids, sorted. */
  readonly selected: string[];
  readonly clientConfig: ClientConfig;
}

/** One site's answer: its trained weights (not a delta) and how many examples it trained on. */
export interface ClientResult {
  readonly siteId: string;
  readonly numExamples: number;
  readonly weights: Float32Array;
  readonly metrics?: Readonly<Record<string, number>>;
}

/** A selected site that did not deliver (timeout, bad upload, ...), passed to aggregate as data. */
export interface ClientFailure {
  readonly siteId: string;
  readonly reason: string;
}

/**
 * Folds client results in one at a time, as they arrive. `add` validates before it changes anything,
 * so a rejected result leaves the accumulator as it was. Throws `TwinfedError`:
 * `UPDATE_CONFLICT` (second result from a site), `INVALID_WEIGHTS` (wrong length),
 * `NON_FINITE_WEIGHTS`, `EXAMPLES_OUT_OF_RANGE` (numExamples not an integer in [1, 2^29], or a total that is no longer exact).
 */
export interface Accumulator {
  add(result: ClientResult): void;
  /**
   * The same as `add` on each result in order, in fewer passes over memory (see {@link addAll}): on the first rejected
   * result it throws, with the results before it folded and the rest not.
   */
  addMany?(results: readonly ClientResult[]): void;
  /** Site ids folded in so far, in arrival order. */
  readonly siteIds: readonly string[];
  /**
   * Hands the accumulator's memory back for the next one (the round is aggregated, or abandoned); it must not be used
   * after. Optional: without it the memory goes when the accumulator is garbage-collected.
   */
  release?(): void;
}

/**
 * Folds `results` into `acc` in order: through its `addMany` when it has one, one `add` at a time otherwise. On a
 * rejected result it throws, with the ones before it folded (a caller counts them by the growth of `acc.siteIds`).
 */
export function addAll(acc: Accumulator, results: readonly ClientResult[]): void {
  if (acc.addMany) return acc.addMany(results);
  for (const r of results) acc.add(r);
}

/** The outcome of a round. */
export interface AggregateResult {
  readonly weights: Float32Array;
  readonly state: StrategyState;
  /** Numbers for the model version: `sites`, `examples`, `failures`, `updateNorm` (‖new − global‖₂), `client.<key>` means, ... */
  readonly metrics: Record<string, number>;
  /** Sites whose updates shaped the new weights, sorted (Krum keeps only some). */
  readonly contributors: string[];
}

/** A pure, Flower-style aggregation strategy. No I/O, no clock, no hidden randomness. */
export interface Strategy {
  readonly name: StrategyName;
  /** State before round 1 for a model of `size` parameters. */
  initialState(size: number): StrategyState;
  /** Chooses the round's sites. Throws `NOT_READY` when fewer than `minSites` are available. */
  configureRound(ctx: SelectionContext): RoundPlan;
  createAccumulator(ctx: RoundContext): Accumulator;
  /** Throws `INTERNAL` when the accumulator holds too few results for this strategy. */
  aggregate(ctx: RoundContext, acc: Accumulator, failures: readonly ClientFailure[]): AggregateResult;
  /** Deterministic bytes: equal states give equal bytes. */
  encodeState(state: StrategyState): Uint8Array;
  /** Inverse of encodeState; throws `INTERNAL` if the bytes do not hold this strategy's state for `size`. */
  decodeState(bytes: Uint8Array, size: number): StrategyState;
}

/** The aggregated update of a mean-delta strategy, before the server step. */
export interface MeanDelta {
  /** Aggregated pseudo-gradient: the (weighted) mean of client deltas w_i − global. */
  readonly delta: Float64Array;
  readonly metrics: Record<string, number>;
  readonly contributors: string[];
}

/**
 * A strategy whose aggregate is "reduce the accumulator to one mean delta, then take a server step"
 * (FedAvg, FedProx, SCAFFOLD, FedAdam/Yogi/Adagrad). Wrappers such as central DP act between the two
 * halves, so noise reaches a stateful server optimiser before it updates its moments.
 */
export interface DeltaStrategy extends Strategy {
  reduce(ctx: RoundContext, acc: Accumulator, failures: readonly ClientFailure[]): MeanDelta;
  step(ctx: RoundContext, mean: MeanDelta): AggregateResult;
}

/** True when `s` exposes the reduce/step halves of {@link DeltaStrategy}. */
export function isDeltaStrategy(s: Strategy): s is DeltaStrategy {
  const d = s as Partial<DeltaStrategy>;
  return typeof d.reduce === 'function' && typeof d.step === 'function';
}
