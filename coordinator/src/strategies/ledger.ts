import { TwinfedError } from '@twinfed/shared';
import type { ClientFailure, ClientResult, RoundContext } from './types';

/**
 * The largest example count one result may carry whatever the plan says (plans allow at most 2^29): nᵢ·wᵢ of a
 * float32 weight (24-bit significand) is then exact in float64, and the total Σnᵢ stays an exact integer.
 * The plan's own, usually much lower, `training.maxExamplesPerSite` is enforced when the update is received.
 */
const MAX_CLAIM = 2 ** 29;

/** True when `n` is an example count a result may carry: an integer in [1, {@link MAX_CLAIM}]. */
export function isValidClaim(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 1 && n <= MAX_CLAIM;
}

/**
 * Bookkeeping shared by every accumulator: which sites were folded in, how many examples, and the
 * example-weighted means of the metrics the sites reported. O(sites + metric keys) memory.
 * `check` validates a result without changing anything; `record` commits it after the fold.
 */
export class SiteLedger {
  readonly siteIds: string[] = [];
  private readonly seen = new Set<string>();
  private examples = 0;
  private readonly metricSums = new Map<string, { sum: number; examples: number }>();

  constructor(readonly size: number) {}

  /** Throws on a second result from a site, a wrong length, non-finite weights or a bad example count. */
  check(result: ClientResult): void {
    this.checkCounts(result, this.examples, new Set());
    this.checkFinite(result);
  }

  /**
   * Checks `results` in order as if each earlier one had been recorded, finiteness aside (a fold that reads the
   * weights anyway checks it on the way): how many pass, and the error of the first that does not.
   */
  checkBatch(results: readonly ClientResult[]): { passed: number; error?: TwinfedError } {
    const sites = new Set<string>();
    let examples = this.examples;
    for (let k = 0; k < results.length; k++) {
      const r = results[k]!;
      try {
        this.checkCounts(r, examples, sites);
      } catch (error) {
        if (!(error instanceof TwinfedError)) throw error;
        return { passed: k, error };
      }
      sites.add(r.siteId);
      examples += r.numExamples;
    }
    return { passed: results.length };
  }

  /** Throws `NON_FINITE_WEIGHTS` when the result's weights hold NaN or ±Infinity. */
  checkFinite(result: ClientResult): void {
    assertFinite(result.weights, result.siteId);
  }

  /** Every check but finiteness, against a ledger holding `examples` examples and also the sites of `batch`. */
  private checkCounts(result: ClientResult, examples: number, batch: ReadonlySet<string>): void {
    if (this.seen.has(result.siteId) || batch.has(result.siteId)) {
      throw new TwinfedError('UPDATE_CONFLICT', `Site ${result.siteId} already contributed to this round.`);
    }
    if (result.weights.length !== this.size) {
      throw new TwinfedError(
        'INVALID_WEIGHTS',
        `Update from ${result.siteId} has ${result.weights.length} weights, the model has ${this.size}.`,
      );
    }
    if (!isValidClaim(result.numExamples)) {
      throw new TwinfedError(
        'EXAMPLES_OUT_OF_RANGE',
        `numExamples must be an integer from 1 to 2^29 (site ${result.siteId}).`,
      );
    }
    if (!Number.isSafeInteger(examples + result.numExamples)) {
      throw new TwinfedError(
        'EXAMPLES_OUT_OF_RANGE',
        `The round's example total would no longer be an exact integer (site ${result.siteId}).`,
      );
    }
  }

  /** Commits a result that has been folded in. */
  record(result: ClientResult): void {
    this.seen.add(result.siteId);
    this.siteIds.push(result.siteId);
    this.examples += result.numExamples;
    for (const [key, value] of Object.entries(result.metrics ?? {})) {
      if (!Number.isFinite(value)) continue;
      const m = this.metricSums.get(key) ?? { sum: 0, examples: 0 };
      m.sum += value * result.numExamples;
      m.examples += result.numExamples;
      this.metricSums.set(key, m);
    }
  }

  get count(): number {
    return this.siteIds.length;
  }

  get totalExamples(): number {
    return this.examples;
  }

  /** `sites`, `examples`, `failures` and `client.<key>` (example-weighted mean over the sites that reported it). */
  metrics(failures: readonly ClientFailure[]): Record<string, number> {
    const out: Record<string, number> = { sites: this.count, examples: this.examples, failures: failures.length };
    for (const key of [...this.metricSums.keys()].sort()) {
      const m = this.metricSums.get(key)!;
      out[`client.${key}`] = m.sum / m.examples;
    }
    return out;
  }

  /** Throws `INTERNAL` unless at least `min` results were folded in. */
  requireAtLeast(min: number, strategy: string): void {
    if (this.count < min) {
      throw new TwinfedError(
        'INTERNAL',
        `${strategy} needs at least ${min} update(s) to aggregate, got ${this.count}.`,
      );
    }
  }

  /** Contributing sites, sorted. */
  sortedSites(): string[] {
    return [...this.siteIds].sort();
  }
}

/**
 * Throws `NON_FINITE_WEIGHTS` if any element is NaN or ±Infinity: one read pass summing in float64
 * (a float64 sum of float32s cannot overflow, so only NaN/Infinity make it non-finite). Four partial
 * sums break the add-latency chain so the pass runs at memory speed.
 */
function assertFinite(weights: Float32Array, siteId: string): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = weights.length;
  const end = n - (n % 4);
  for (let i = 0; i < end; i += 4) {
    s0 += weights[i]!;
    s1 += weights[i + 1]!;
    s2 += weights[i + 2]!;
    s3 += weights[i + 3]!;
  }
  for (let i = end; i < n; i++) s0 += weights[i]!;
  if (!Number.isFinite(s0 + s1 + s2 + s3)) {
    throw new TwinfedError('NON_FINITE_WEIGHTS', `Update from ${siteId} contains NaN or infinite values.`);
  }
}

/** Throws `INTERNAL` if the round context is malformed (round not a positive integer, state of a wrong size). */
export function checkContext(ctx: RoundContext): void {
  if (!Number.isSafeInteger(ctx.round) || ctx.round < 1) {
    throw new TwinfedError('INTERNAL', `Round numbers start at 1, got ${ctx.round}.`);
  }
  for (const [name, v] of Object.entries(ctx.state)) {
    if (v.length !== ctx.global.length) {
      throw new TwinfedError(
        'INTERNAL',
        `Strategy state ${name} has ${v.length} elements, the model has ${ctx.global.length}.`,
      );
    }
  }
}

/** L2 norm of `weights − global`, accumulated in float64. */
export function deltaNorm(weights: Float32Array, global: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  const n = weights.length;
  const end = n - (n % 2);
  for (let i = 0; i < end; i += 2) {
    const a = weights[i]! - global[i]!;
    const b = weights[i + 1]! - global[i + 1]!;
    s0 += a * a;
    s1 += b * b;
  }
  if (end < n) {
    const a = weights[end]! - global[end]!;
    s0 += a * a;
  }
  return Math.sqrt(s0 + s1);
}
