import { SeededRandom, TwinfedError } from '@twinfed/shared';
import { withUpdateClipping } from './clipping';
import { isValidClaim } from './ledger';
import { STREAM, mixSeed } from './selection';
import { type Accumulator, type ClientResult, type DeltaStrategy, type RoundContext, type Strategy, isDeltaStrategy } from './types';

/** Options of {@link withCentralDp}. */
export interface CentralDpOptions {
  /** L2 bound C on each site's delta. */
  readonly clip: number;
  /** z: the noise std is z·C divided by the number of sites (uniform weighting). */
  readonly noiseMultiplier: number;
  /** Seed of the default noise stream, mixed with the round number. */
  readonly seed: number;
  /**
   * Weighting of the mean. `uniform` (default): each site counts once, one site moves the mean by at
   * most C/n, σ = z·C/n. `examples`: example-weighted as the inner strategy would, one site moves it by
   * up to C·max nᵢ/Σnᵢ, so σ = z·C·max nᵢ/Σnᵢ (equal to z·C/n when all sites are the same size).
   */
  readonly weighting?: 'uniform' | 'examples';
  /**
   * Standard normal source. The default is a SeededRandom stream from (seed, round): reproducible,
   * which the tests and the benchmark rely on, but predictable — a party who knows the seed can
   * subtract the noise. Production must pass a CSPRNG-backed source (e.g. Box–Muller over
   * node:crypto randomBytes); it is then used for every round as is.
   */
  readonly normal?: () => number;
}

class DpAccumulator implements Accumulator {
  examples = 0;
  maxExamples = 0;
  constructor(
    readonly inner: Accumulator,
    private readonly uniform: boolean,
  ) {}

  add(result: ClientResult): void {
    // Uniform weighting counts each site once; an invalid count is passed on so the inner ledger rejects it.
    const valid = isValidClaim(result.numExamples);
    this.inner.add(this.uniform && valid ? { ...result, numExamples: 1 } : result);
    this.examples += result.numExamples;
    this.maxExamples = Math.max(this.maxExamples, result.numExamples);
  }

  get siteIds(): readonly string[] {
    return this.inner.siteIds;
  }
}

/**
 * Central differential privacy as a wrapper (McMahan et al. 2018, DP-FedAvg): every site's
 * delta is clipped to L2 ≤ C, the inner strategy reduces them to a mean delta, Gaussian noise
 * N(0, σ²) is added to each coordinate of that mean, and only then does the inner server step run —
 * so a stateful optimiser (FedAdam, ...) only ever sees the noisy mean. Needs a {@link DeltaStrategy};
 * throws `INVALID_PLAN` for the robust and cyclic strategies. Metrics: `dpNoiseStd`, `clippedSites`.
 * Privacy accounting (ε over rounds) is not done here.
 */
export function withCentralDp(inner: Strategy, opts: CentralDpOptions): DeltaStrategy {
  if (!isDeltaStrategy(inner)) {
    throw new TwinfedError('INVALID_PLAN', `Central DP needs a mean-delta strategy; ${inner.name} does not aggregate a mean.`);
  }
  if (!(opts.noiseMultiplier >= 0) || !Number.isFinite(opts.noiseMultiplier)) {
    throw new TwinfedError('INVALID_PLAN', 'The DP noise multiplier must be a non-negative number.');
  }
  const uniform = (opts.weighting ?? 'uniform') === 'uniform';
  const clipped = withUpdateClipping(inner, { maxNorm: opts.clip });
  const unwrap = (acc: Accumulator): DpAccumulator => {
    if (!(acc instanceof DpAccumulator)) throw new TwinfedError('INTERNAL', 'The DP wrapper was given an accumulator it did not create.');
    return acc;
  };
  const strategy: DeltaStrategy = {
    name: inner.name,
    initialState: (size) => inner.initialState(size),
    configureRound: (ctx) => inner.configureRound(ctx),
    createAccumulator: (ctx) => new DpAccumulator(clipped.createAccumulator(ctx), uniform),
    reduce: (ctx, acc, failures) => {
      const own = unwrap(acc);
      const mean = clipped.reduce(ctx, own.inner, failures);
      const sites = own.siteIds.length;
      const share = uniform ? 1 / sites : own.maxExamples / own.examples;
      const std = opts.noiseMultiplier * opts.clip * share;
      const delta = Float64Array.from(mean.delta);
      if (std > 0) {
        const normal = noiseSource(ctx, opts);
        for (let i = 0; i < delta.length; i++) delta[i]! += std * normal();
      }
      return { ...mean, delta, metrics: { ...mean.metrics, examples: own.examples, dpNoiseStd: std } };
    },
    step: (ctx, mean) => clipped.step(ctx, mean),
    aggregate: (ctx, acc, failures) => strategy.step(ctx, strategy.reduce(ctx, acc, failures)),
    encodeState: (state) => inner.encodeState(state),
    decodeState: (bytes, size) => inner.decodeState(bytes, size),
  };
  return strategy;
}

function noiseSource(ctx: RoundContext, opts: CentralDpOptions): () => number {
  if (opts.normal) return opts.normal;
  const rng = new SeededRandom(mixSeed({ seed: opts.seed, round: ctx.round, stream: STREAM.dpNoise }));
  return () => rng.normal();
}
