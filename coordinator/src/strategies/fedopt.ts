import { TwinfedError } from '@twinfed/shared';
import { meanDeltaStrategy } from './fedavg';
import type { DeltaStrategy, StrategyState } from './types';

/** Hyperparameters of the adaptive server optimisers (Reddi et al. 2021, as FLamby runs them). */
interface FedOptOptions {
  readonly serverLr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly tau: number;
}

/** Which second-moment rule. */
export type FedOptVariant = 'fedadam' | 'fedyogi' | 'fedadagrad';

/**
 * FedAdam / FedYogi / FedAdagrad with FLamby's exact server formulas (BENCHMARK.md §3). The
 * example-weighted mean delta Δ is a pseudo-gradient:
 *   m ← β1·m + (1 − β1)·Δ                                  (all three, FedAdagrad included)
 *   v ← β2·v + (1 − β2)·Δ²                  (Adam)
 *   v ← v − (1 − β2)·Δ²·sign(v − Δ²)        (Yogi; sign(0) = 0)
 *   v ← v + Δ²                              (Adagrad)
 *   w ← w + η·m / (√v + τ)
 * m and v start at 0 and there is no bias correction. They are kept in float64 in the state.
 */
export function fedOpt(variant: FedOptVariant, opts: FedOptOptions): DeltaStrategy {
  const { serverLr, beta1, beta2, tau } = opts;
  if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && tau > 0 && serverLr > 0)) {
    throw new TwinfedError('INVALID_PLAN', `${variant} needs 0 ≤ beta1, beta2 < 1 and positive serverLr and tau.`);
  }
  return meanDeltaStrategy({
    name: variant,
    clientConfig: {},
    stateNames: ['m', 'v'],
    step: (ctx, delta) => {
      const m0 = ctx.state.m;
      const v0 = ctx.state.v;
      if (!m0 || !v0) throw new TwinfedError('INTERNAL', `${variant} state lacks m or v.`);
      const n = ctx.global.length;
      const m = new Float64Array(n);
      const v = new Float64Array(n);
      const weights = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const d = delta[i]!;
        const d2 = d * d;
        const mi = beta1 * m0[i]! + (1 - beta1) * d;
        const vOld = v0[i]!;
        let vi: number;
        if (variant === 'fedadam') vi = beta2 * vOld + (1 - beta2) * d2;
        else if (variant === 'fedyogi') vi = vOld - (1 - beta2) * d2 * Math.sign(vOld - d2);
        else vi = vOld + d2;
        m[i] = mi;
        v[i] = vi;
        weights[i] = ctx.global[i]! + (serverLr * mi) / (Math.sqrt(vi) + tau);
      }
      const state: StrategyState = { m, v };
      return { weights, state };
    },
  });
}
