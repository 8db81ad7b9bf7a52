import type { StrategyName } from '@twinfed/shared';
import { checkContext, deltaNorm } from './ledger';
import { selectSites } from './selection';
import { decodeStateBytes, encodeStateBytes, zeroState } from './state-codec';
import type { ClientConfig, DeltaStrategy, MeanDelta, RoundContext, StrategyState } from './types';
import { WeightedMeanAccumulator, applyDelta, reduceWeightedMean } from './weighted-mean';

/** What distinguishes one mean-delta strategy from another: its client config and its server step. */
interface MeanDeltaSpec {
  readonly name: StrategyName;
  readonly clientConfig: ClientConfig;
  /** Names of the Float64 state vectors (each of model size); [] for stateless strategies. */
  readonly stateNames: readonly string[];
  /** The server step: from the base weights, the mean delta and the old state to new weights and state. */
  step(
    ctx: RoundContext,
    delta: Float64Array,
  ): { weights: Float32Array; state: StrategyState; metrics?: Record<string, number> };
}

/**
 * Builds a {@link DeltaStrategy}: all available sites (or a seeded sample), a streaming example-weighted
 * mean of their deltas, then `spec.step`. Shared by FedAvg, FedProx, SCAFFOLD and the FedOpt family.
 */
export function meanDeltaStrategy(spec: MeanDeltaSpec): DeltaStrategy {
  const strategy: DeltaStrategy = {
    name: spec.name,
    initialState: (size) => zeroState(spec.stateNames, size),
    configureRound: (ctx) => ({ selected: selectSites(ctx), clientConfig: spec.clientConfig }),
    createAccumulator: (ctx) => new WeightedMeanAccumulator(ctx),
    reduce: (ctx, acc, failures) => reduceWeightedMean({ ctx, acc, failures, strategy: spec.name }),
    step: (ctx: RoundContext, mean: MeanDelta) => {
      checkContext(ctx);
      const { weights, state, metrics } = spec.step(ctx, mean.delta);
      const all = { ...mean.metrics, ...metrics, updateNorm: deltaNorm(weights, ctx.global) };
      return { weights, state, metrics: all, contributors: mean.contributors };
    },
    aggregate: (ctx, acc, failures) => strategy.step(ctx, strategy.reduce(ctx, acc, failures)),
    encodeState: (state) => encodeStateBytes(state),
    decodeState: (bytes, size) => decodeStateBytes(bytes, { expected: spec.stateNames, size }),
  };
  return strategy;
}

function sgdStep(serverLr: number): MeanDeltaSpec['step'] {
  return (ctx, delta) => ({ weights: applyDelta(ctx.global, delta, serverLr), state: {} });
}

/** FedAvg (McMahan et al. 2017): w ← w + serverLr·Δ, Δ the example-weighted mean delta (serverLr 1 = plain averaging). */
export function fedAvg(opts: { serverLr: number }): DeltaStrategy {
  return meanDeltaStrategy({ name: 'fedavg', clientConfig: {}, stateNames: [], step: sgdStep(opts.serverLr) });
}

/** FedProx (Li et al. 2020): FedAvg on the server; sites add (mu/2)·‖w − w_start‖² to their loss. */
export function fedProx(opts: { mu: number; serverLr: number }): DeltaStrategy {
  return meanDeltaStrategy({
    name: 'fedprox',
    clientConfig: { proximalMu: opts.mu },
    stateNames: [],
    step: sgdStep(opts.serverLr),
  });
}

/**
 * SCAFFOLD, FLamby's efficient variant (Karimireddy et al. 2020): the server adds serverLr times the
 * example-weighted mean delta and keeps no control variate of its own; each site keeps c_i and needs
 * serverLr to update it (see {@link ClientConfig.scaffold}). Sites upload raw trained weights.
 */
export function scaffold(opts: { serverLr: number }): DeltaStrategy {
  return meanDeltaStrategy({
    name: 'scaffold',
    clientConfig: { scaffold: { serverLr: opts.serverLr } },
    stateNames: [],
    step: sgdStep(opts.serverLr),
  });
}
