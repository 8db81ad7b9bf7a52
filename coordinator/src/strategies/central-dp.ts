import { TwinfedError } from '@twinfed/shared';
import { withUpdateClipping } from './clipping';
import { isValidClaim } from './ledger';
import {
  type Accumulator,
  type ClientResult,
  type DeltaStrategy,
  type Strategy,
  addAll,
  isDeltaStrategy,
} from './types';

/** Options of {@link withCentralDp}. */
interface CentralDpOptions {
  /** L2 bound C on each site's delta. */
  readonly clip: number;
  /** z: the noise std is z·C / (sites selected for the round). */
  readonly noiseMultiplier: number;
  /**
   * Standard normal source, required: production passes the OS CSPRNG (`secureNormal()`); a test passes its own.
   * There is no seeded default — a party who knows a seed could subtract the noise.
   */
  readonly normal: () => number;
}

class DpAccumulator implements Accumulator {
  examples = 0;
  constructor(readonly inner: Accumulator) {}

  add(result: ClientResult): void {
    this.addMany([result]);
  }

  addMany(results: readonly ClientResult[]): void {
    // Each site counts once; an invalid count is passed on so the inner ledger rejects it.
    const before = this.inner.siteIds.length;
    try {
      addAll(
        this.inner,
        results.map((r) => (isValidClaim(r.numExamples) ? { ...r, numExamples: 1 } : r)),
      );
    } finally {
      for (const r of results.slice(0, this.inner.siteIds.length - before)) this.examples += r.numExamples;
    }
  }

  get siteIds(): readonly string[] {
    return this.inner.siteIds;
  }
}

/**
 * Central differential privacy as a wrapper (McMahan et al. 2018, DP-FedAvg with the fixed-denominator estimator):
 * every site's delta is clipped to L2 ≤ C, the clipped deltas are summed with each site counting once and divided by
 * the number of sites the round selected (n, fixed before any update arrives), Gaussian noise N(0, σ²) with
 * σ = z·C/n is added to each coordinate, and only then does the inner server step run — so a stateful optimiser
 * (FedAdam, ...) only ever sees the noisy mean. Adjacency is add/remove of one site: its presence moves the sum by at
 * most C and so the mean by at most C/n — dividing by the count of sites that actually contributed instead would move
 * it by up to 2C/n and understate ε. A site that drops out shrinks the mean (by design: the denominator stays n). Needs a {@link DeltaStrategy};
 * throws `INVALID_PLAN` for the robust and cyclic strategies. Metrics: `dpNoiseStd`, `clippedSites`.
 * Privacy accounting (ε over rounds) is not done here.
 */
export function withCentralDp(inner: Strategy, opts: CentralDpOptions): DeltaStrategy {
  if (!isDeltaStrategy(inner)) {
    throw new TwinfedError(
      'INVALID_PLAN',
      `Central DP needs a mean-delta strategy; ${inner.name} does not aggregate a mean.`,
    );
  }
  if (!(opts.noiseMultiplier >= 0) || !Number.isFinite(opts.noiseMultiplier)) {
    throw new TwinfedError('INVALID_PLAN', 'The DP noise multiplier must be a non-negative number.');
  }
  const clipped = withUpdateClipping(inner, { maxNorm: opts.clip });
  const unwrap = (acc: Accumulator): DpAccumulator => {
    if (!(acc instanceof DpAccumulator))
      throw new TwinfedError('INTERNAL', 'The DP wrapper was given an accumulator it did not create.');
    return acc;
  };
  const strategy: DeltaStrategy = {
    name: inner.name,
    initialState: (size) => inner.initialState(size),
    configureRound: (ctx) => inner.configureRound(ctx),
    createAccumulator: (ctx) => new DpAccumulator(clipped.createAccumulator(ctx)),
    reduce: (ctx, acc, failures) => {
      const own = unwrap(acc);
      const mean = clipped.reduce(ctx, own.inner, failures);
      const selected = ctx.selectedSites;
      const sites = own.siteIds.length;
      if (selected === undefined || !Number.isSafeInteger(selected) || selected < sites) {
        throw new TwinfedError(
          'INTERNAL',
          `Central DP needs the round's selected site count (got ${selected}, ${sites} sites contributed).`,
        );
      }
      const std = (opts.noiseMultiplier * opts.clip) / selected;
      const delta = Float64Array.from(mean.delta, (d) => (d * sites) / selected);
      if (std > 0) for (let i = 0; i < delta.length; i++) delta[i]! += std * opts.normal();
      return { ...mean, delta, metrics: { ...mean.metrics, examples: own.examples, dpNoiseStd: std } };
    },
    step: (ctx, mean) => clipped.step(ctx, mean),
    aggregate: (ctx, acc, failures) => strategy.step(ctx, strategy.reduce(ctx, acc, failures)),
    encodeState: (state) => inner.encodeState(state),
    decodeState: (bytes, size) => inner.decodeState(bytes, size),
  };
  return strategy;
}
