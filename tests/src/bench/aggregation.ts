import { SeededRandom, TwinfedError } from '@twinfed/shared';
import {
  FOLD_BATCH,
  WeightedMeanAccumulator,
  addAll,
  fedAvg,
  foldWeighted,
  type ClientResult,
} from '@twinfed/coordinator';
import { loadAverage, tablesMarkdown, type BenchTable } from './report';
import { writeScaleSection, type ScaleAggregationRow } from './scale-report';

/** Options of {@link benchAggregation}. */
interface AggregationBenchOptions {
  readonly sites: number;
  /** Parameters per model. */
  readonly size: number;
  /** Timed rounds per contender (after untimed warm-ups). */
  readonly iterations: number;
  readonly seed?: number;
}

/** Throughput over the client weight bytes (sites × size × 4 per round), MiB/s. */
interface AggregationBenchResult {
  /**
   * The FedAvg-family fold as a round close runs it: the updates, in sorted site order, handed to the accumulator
   * `FOLD_BATCH` at a time (validation, finiteness, the blocked multi-update fold on the WebAssembly SIMD kernel).
   */
  readonly foldMiBs: number;
  /** The same with the JS kernel (weighted-fold.ts), the fallback where WebAssembly SIMD is unavailable. */
  readonly foldJsMiBs: number;
  /** The same accumulator fed one update at a time (`add`): what batching gains, in the same run. */
  readonly foldOneByOneMiBs: number;
  /** A whole FedAvg round through the Strategy API: a fresh accumulator, the fold, the mean, the norms, the step. */
  readonly roundMiBs: number;
  /** The faster of the two read-only passes below: the reference. */
  readonly readOnlyMiBs: number;
  /** Read-only pass 1: every float of every update added into one float64 (one add-latency chain). */
  readonly readOneSumMiBs: number;
  /** Read-only pass 2: the same with four partial sums (the chain broken; the fastest plain read found). */
  readonly readFourSumsMiBs: number;
  /** foldMiBs / readOnlyMiBs (1 = the fold costs no more than reading the bytes once). */
  readonly ratio: number;
  /** foldJsMiBs / readOnlyMiBs. */
  readonly ratioJs: number;
  /** foldMiBs / readOneSumMiBs: against the single running sum (the reference issue #14 first quoted). */
  readonly ratioOneSum: number;
  readonly bytesPerRound: number;
}

/**
 * CPU milliseconds this process has used: the clock of every contender. On a machine shared with other jobs a wall
 * clock also counts the time the process waited for a core, which lands on whichever contender was running.
 */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Every float of every update summed into one accumulator. */
function readOneSum(results: readonly ClientResult[]): number {
  let s = 0;
  for (const r of results) {
    const w = r.weights;
    for (let i = 0; i < w.length; i++) s += w[i]!;
  }
  return s;
}

/** Every float of every update summed into four accumulators, element i into lane i mod 4. */
function readFourSums(results: readonly ClientResult[]): number {
  let total = 0;
  for (const r of results) total += fourSums(r.weights);
  return total;
}

function fourSums(w: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end = w.length - (w.length % 4);
  for (let i = 0; i < end; i += 4) {
    s0 += w[i]!;
    s1 += w[i + 1]!;
    s2 += w[i + 2]!;
    s3 += w[i + 3]!;
  }
  for (let i = end; i < w.length; i++) s0 += w[i]!;
  return s0 + s1 + s2 + s3;
}

/**
 * Measures the FedAvg fold against a read-only pass over the same client buffers in the same run, in CPU time. The contenders
 * alternate, in a rotating order, round by round so drift in machine load hits all of them; each is warmed up first
 * (on a loaded machine the optimising compiler can lag behind the first calls). Nothing here is asserted on in tests.
 */
export async function benchAggregation(opts: AggregationBenchOptions): Promise<AggregationBenchResult> {
  const rng = new SeededRandom(opts.seed ?? 7);
  const global = Float32Array.from({ length: opts.size }, () => rng.uniform(-1, 1));
  const results: ClientResult[] = Array.from({ length: opts.sites }, (_, s) => ({
    siteId: `site-${String(s).padStart(4, '0')}`,
    numExamples: 10 + rng.int(1000),
    weights: Float32Array.from(global, (g) => g + rng.uniform(-0.01, 0.01)),
  }));
  const strategy = fedAvg({ serverLr: 1 });
  const ctx = { round: 1, global, state: strategy.initialState(opts.size), seed: 1 };
  let sink = 0;

  const fold = (acc: ReturnType<typeof strategy.createAccumulator>): void => {
    for (let at = 0; at < results.length; at += FOLD_BATCH) addAll(acc, results.slice(at, at + FOLD_BATCH));
  };
  const times = { fold: 0, foldJs: 0, single: 0, round: 0, one: 0, four: 0 };
  const contenders: Array<[keyof typeof times, () => void]> = [
    [
      'fold',
      () => {
        const acc = strategy.createAccumulator(ctx); // allocated outside the timed part: a round does it once
        const t0 = cpuMs();
        fold(acc);
        times.fold += cpuMs() - t0;
        sink += acc.siteIds.length;
        acc.release?.(); // as the coordinator does once the round is published
      },
    ],
    [
      'foldJs',
      () => {
        const acc = new WeightedMeanAccumulator(ctx, foldWeighted);
        const t0 = cpuMs();
        fold(acc);
        times.foldJs += cpuMs() - t0;
        sink += acc.siteIds.length;
      },
    ],
    [
      'single',
      () => {
        const acc = strategy.createAccumulator(ctx);
        const t0 = cpuMs();
        for (const r of results) acc.add(r);
        times.single += cpuMs() - t0;
        sink += acc.siteIds.length;
        acc.release?.();
      },
    ],
    [
      'round',
      () => {
        const t0 = cpuMs();
        const acc = strategy.createAccumulator(ctx);
        fold(acc);
        sink += strategy.aggregate(ctx, acc, []).weights[0]!;
        acc.release?.();
        times.round += cpuMs() - t0;
      },
    ],
    [
      'one',
      () => {
        const t0 = cpuMs();
        sink += readOneSum(results);
        times.one += cpuMs() - t0;
      },
    ],
    [
      'four',
      () => {
        const t0 = cpuMs();
        sink += readFourSums(results);
        times.four += cpuMs() - t0;
      },
    ],
  ];
  // Between two contenders the event loop turns, as it does between a coordinator's rounds: an accumulator that is
  // garbage can hand its memory to the next (the SIMD kernel's pool, see weighted-fold-simd.ts).
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  for (let k = 0; k < 3; k++) {
    for (const [, run] of contenders) {
      run();
      await turn();
    }
  }
  for (const key of Object.keys(times) as Array<keyof typeof times>) times[key] = 0;
  for (let k = 0; k < opts.iterations; k++) {
    for (let j = 0; j < contenders.length; j++) {
      contenders[(k + j) % contenders.length]![1]();
      await turn();
    }
  }
  if (Number.isNaN(sink)) throw new TwinfedError('INTERNAL', 'benchmark produced NaN');
  const bytesPerRound = opts.sites * opts.size * 4;
  const mib = (bytesPerRound * opts.iterations) / 2 ** 20;
  const rate = (ms: number) => mib / (Math.max(ms, 1e-6) / 1000);
  const foldMiBs = rate(times.fold);
  const readOneSumMiBs = rate(times.one);
  const readFourSumsMiBs = rate(times.four);
  const readOnlyMiBs = Math.max(readOneSumMiBs, readFourSumsMiBs);
  const foldJsMiBs = rate(times.foldJs);
  return {
    foldMiBs,
    foldJsMiBs,
    foldOneByOneMiBs: rate(times.single),
    roundMiBs: rate(times.round),
    readOnlyMiBs,
    readOneSumMiBs,
    readFourSumsMiBs,
    ratio: foldMiBs / readOnlyMiBs,
    ratioJs: foldJsMiBs / readOnlyMiBs,
    ratioOneSum: foldMiBs / readOneSumMiBs,
    bytesPerRound,
  };
}

/**
 * The aggregation section of issue #14: the fold against the read-only reference at 10 × 1M, 100 × 100k and
 * 1,000 × 10k parameters, written to `bench/results/scale.{json,md}` (section `aggregation`). Returns the measurements
 * and their table for bench.md.
 */
export async function aggregationSection(iterations: number): Promise<{
  measured: Array<AggregationBenchResult & { sites: number; size: number }>;
  table: BenchTable;
}> {
  const measured: Array<AggregationBenchResult & { sites: number; size: number }> = [];
  for (const c of [
    { sites: 10, size: 1_000_000 },
    { sites: 100, size: 100_000 },
    { sites: 1000, size: 10_000 },
  ]) {
    measured.push({ ...c, ...(await benchAggregation({ ...c, iterations })) });
  }
  const table: BenchTable = {
    title: 'Aggregation throughput (FedAvg-family fold against a read-only pass)',
    note: `MiB/s of client updates. Fold: the updates handed to the FedAvg accumulator ${FOLD_BATCH} at a time, as a round close does (checks, finiteness, the blocked fold of four updates per pass on the WebAssembly SIMD kernel, the sums in its own memory and each block of the updates copied in); JS fold: the same accumulator on the JS kernel (the fallback without WebAssembly SIMD); 1 at a time: the same accumulator given one update per call. Round: a whole FedAvg round (fresh accumulator, fold, mean, step, release). Reference: a read-only pass over the same bytes in the same run, the faster of one running sum and four partial sums. Ratio = fold / reference.`,
    columns: [
      'sites × parameters',
      'fold MiB/s',
      'JS fold MiB/s',
      'fold, 1 at a time MiB/s',
      'round MiB/s',
      'read, 1 sum MiB/s',
      'read, 4 sums MiB/s',
      'ratio fold / read',
      'ratio JS fold / read',
      'fold / 1 sum',
    ],
    rows: measured.map((a) => [
      `${a.sites} × ${a.size.toLocaleString('en')}`,
      a.foldMiBs,
      a.foldJsMiBs,
      a.foldOneByOneMiBs,
      a.roundMiBs,
      a.readOneSumMiBs,
      a.readFourSumsMiBs,
      a.ratio,
      a.ratioJs,
      a.ratioOneSum,
    ]),
  };
  const rows: ScaleAggregationRow[] = measured.map((a) => ({
    sites: a.sites,
    params: a.size,
    foldMiBs: a.foldMiBs,
    readOnlyMiBs: a.readOnlyMiBs,
    ratio: a.ratio,
    foldJsMiBs: a.foldJsMiBs,
    ratioJs: a.ratioJs,
    roundMiBs: a.roundMiBs,
    foldOneByOneMiBs: a.foldOneByOneMiBs,
    readOneSumMiBs: a.readOneSumMiBs,
    readFourSumsMiBs: a.readFourSumsMiBs,
    ratioOneSum: a.ratioOneSum,
  }));
  writeScaleSection({
    name: 'aggregation',
    markdown: `${tablesMarkdown([table])}\n- load average: ${loadAverage()}\n`,
    update: (doc) => {
      doc.aggregation = rows;
    },
  });
  return { measured, table };
}
