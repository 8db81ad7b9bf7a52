import fc from 'fast-check';
import { SeededRandom } from '@twinfed/shared';
import { withCentralDp } from './central-dp';
import { clipUpdate, withUpdateClipping } from './clipping';
import { cyclic } from './cyclic';
import { fedAvg } from './fedavg';
import { fedOpt } from './fedopt';
import { deltaNorm } from './ledger';
import { krum } from './krum';
import { fedMedian } from './robust';
import { addAll, isDeltaStrategy } from './types';
import { ctxOf, expectClose, result, runRound } from './__tests__/fixtures';

const adamOpts = { serverLr: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3 };

describe('withUpdateClipping', () => {
  test('bounds every client delta by maxNorm, exactly after float32 rounding', () => {
    const vec = fc.array(fc.float({ min: -1e4, max: 1e4, noNaN: true, noDefaultInfinity: true }), {
      minLength: 6,
      maxLength: 6,
    });
    fc.assert(
      fc.property(vec, vec, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (g, w, maxNorm) => {
        const global = Float32Array.from(g);
        const weights = Float32Array.from(w);
        const c = clipUpdate({ weights, global, maxNorm });
        const within = deltaNorm(c.weights, global) <= maxNorm;
        return within && c.clipped === deltaNorm(weights, global) > maxNorm && (c.clipped || c.weights === weights);
      }),
      { numRuns: 200 },
    );
  });

  test('clips inside the strategy: a far update is shrunk, a near one passes unchanged', () => {
    const s = withUpdateClipping(fedAvg({ serverLr: 1 }), { maxNorm: 1 });
    const far = runRound(s, ctxOf([0, 0]), [result('a', 1, [30, 40])]);
    expectClose(far.weights, [0.6, 0.8]);
    expect(far.metrics.clippedSites).toBe(1);
    const near = runRound(s, ctxOf([0, 0]), [result('a', 1, [0.3, 0.4]), result('b', 3, [0.5, 0])]);
    expect(Array.from(near.weights)).toEqual(
      Array.from(
        runRound(fedAvg({ serverLr: 1 }), ctxOf([0, 0]), [result('a', 1, [0.3, 0.4]), result('b', 3, [0.5, 0])])
          .weights,
      ),
    );
    expect(near.metrics.clippedSites).toBe(0);
  });

  test('wraps any strategy and keeps mean-delta strategies composable', () => {
    const med = withUpdateClipping(fedMedian(), { maxNorm: 5 });
    expect(isDeltaStrategy(med)).toBe(false);
    expectClose(
      runRound(med, ctxOf([0]), [result('a', 1, [1]), result('b', 1, [100]), result('c', 1, [3])]).weights,
      [3],
    );
    expect(isDeltaStrategy(withUpdateClipping(fedOpt('fedadam', adamOpts), { maxNorm: 5 }))).toBe(true);
    expect(() => withUpdateClipping(fedMedian(), { maxNorm: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_PLAN' }),
    );
  });
});

describe('withCentralDp', () => {
  const unequal = [
    result('a', 10, [0.2, -0.1, 0.05]),
    result('b', 30, [0.1, 0.1, 0.1]),
    result('c', 60, [-0.3, 0, 0.2]),
  ];
  const equal = unequal.map((r) => ({ ...r, numExamples: 5 }));
  const g = [0, 0, 0];

  const noNoise = { noiseMultiplier: 0, normal: () => 0 };

  test('with noiseMultiplier 0, no clipping and every selected site contributing equals the inner strategy on equal sites', () => {
    for (const inner of [fedAvg({ serverLr: 0.7 }), fedOpt('fedadam', adamOpts)]) {
      const ctx = ctxOf(g, { state: inner.initialState(3), selectedSites: 3 });
      const dp = runRound(withCentralDp(inner, { clip: 10, ...noNoise }), ctx, equal);
      expect(Array.from(dp.weights)).toEqual(Array.from(runRound(inner, ctx, equal).weights));
      expect(dp.metrics.examples).toBe(15);
    }
  });

  test('weights sites uniformly, so one site moves the mean by at most clip/n', () => {
    const out = runRound(
      withCentralDp(fedAvg({ serverLr: 1 }), { clip: 10, ...noNoise }),
      ctxOf(g, { selectedSites: 3 }),
      unequal,
    );
    expectClose(out.weights, [0, 0, 0.35 / 3]);
    expect(out.metrics.examples).toBe(100);
  });

  test('divides by the sites selected, not those that arrived: a dropped site shrinks the mean', () => {
    const out = runRound(
      withCentralDp(fedAvg({ serverLr: 1 }), { clip: 10, ...noNoise }),
      ctxOf(g, { selectedSites: 5 }),
      unequal,
    );
    expectClose(out.weights, [0, 0, 0.35 / 5]);
  });

  test('refuses to run without the selected site count, or with fewer selected than contributed', () => {
    const s = withCentralDp(fedAvg({ serverLr: 1 }), { clip: 10, ...noNoise });
    expect(() => runRound(s, ctxOf(g), unequal)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => runRound(s, ctxOf(g, { selectedSites: 2 }), unequal)).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
  });

  test('adds N(0, (z·clip/n)²) to each coordinate of the mean delta, from the source it is given', () => {
    const size = 20_000;
    const zeros = new Array<number>(size).fill(0);
    const rs = ['a', 'b', 'c', 'd'].map((id) => result(id, 1, zeros));
    const rng = new SeededRandom(9);
    const s = withCentralDp(fedAvg({ serverLr: 1 }), { clip: 1, noiseMultiplier: 1, normal: () => rng.normal() });
    const out = runRound(s, ctxOf(zeros, { round: 3, selectedSites: 4 }), rs);
    expect(out.metrics.dpNoiseStd).toBe(0.25);
    const w = Array.from(out.weights);
    const mean = w.reduce((a, b) => a + b, 0) / size;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / size);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeGreaterThan(0.24);
    expect(std).toBeLessThan(0.26);
  });

  test('adds the noise before a stateful server step, from an injectable normal source', () => {
    const s = withCentralDp(fedOpt('fedadam', adamOpts), { clip: 1, noiseMultiplier: 2, normal: () => 1 });
    const ctx = ctxOf(g, { state: s.initialState(3), selectedSites: 2 });
    const out = runRound(s, ctx, [result('a', 1, g), result('b', 1, g)]);
    // σ = 2·1/2 = 1; every noisy Δ coordinate is exactly 1, so m = 0.1·1 and v = 0.01·1
    expectClose(out.state.m!, [0.1, 0.1, 0.1], 1e-12);
    expectClose(out.state.v!, [0.01, 0.01, 0.01], 1e-12);
    expectClose(out.weights, [(0.1 * 0.1) / (0.1 + 1e-3), (0.1 * 0.1) / (0.1 + 1e-3), (0.1 * 0.1) / (0.1 + 1e-3)]);
  });

  test('calibrates σ to add/remove of one site: its presence moves the released mean by at most σ/z', () => {
    const vec = fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 3, maxLength: 3 });
    fc.assert(
      fc.property(fc.array(vec, { minLength: 2, maxLength: 6 }), (deltas) => {
        const s = withCentralDp(fedAvg({ serverLr: 1 }), { clip: 1, noiseMultiplier: 2, normal: () => 0 });
        const ctx = ctxOf(g, { selectedSites: deltas.length });
        const rs = deltas.map((d, i) => result(`s${i}`, 1 + i, d));
        const all = runRound(s, ctx, rs);
        const without = runRound(s, ctx, rs.slice(1));
        const moved = Math.hypot(...Array.from(all.weights, (w, i) => w - without.weights[i]!));
        return moved <= all.metrics.dpNoiseStd! / 2 + 1e-6 && all.metrics.dpNoiseStd === without.metrics.dpNoiseStd;
      }),
      { numRuns: 200 },
    );
  });

  test('clips each site before averaging', () => {
    const s = withCentralDp(fedAvg({ serverLr: 1 }), { clip: 1, ...noNoise });
    const out = runRound(s, ctxOf([0, 0], { selectedSites: 2 }), [result('a', 1, [30, 40]), result('b', 1, [0, 0])]);
    expectClose(out.weights, [0.3, 0.4]);
    expect(out.metrics.clippedSites).toBe(1);
  });

  test('refuses strategies without a mean delta', () => {
    for (const inner of [krum({ byzantine: 0, multi: 1 }), fedMedian(), cyclic({ deterministic: true })]) {
      expect(() => withCentralDp(inner, { clip: 1, noiseMultiplier: 1, normal: () => 0 })).toThrow(
        expect.objectContaining({ code: 'INVALID_PLAN' }),
      );
    }
  });
});

describe('wrapped accumulators take batches', () => {
  const wrapped: Array<[string, () => ReturnType<typeof withUpdateClipping>]> = [
    ['clipped fedavg', () => withUpdateClipping(fedAvg({ serverLr: 1 }), { maxNorm: 1.5 })],
    ['dp fedavg', () => withCentralDp(fedAvg({ serverLr: 1 }), { clip: 1.5, noiseMultiplier: 0, normal: () => 0 })],
  ];
  test.each(wrapped)(
    '%s: addAll over any split, with a rejected result anywhere, equals one add after another',
    (_name, make) => {
      fc.assert(
        fc.property(
          fc.integer({ min: 2, max: 12 }),
          fc.nat(),
          fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 12 }),
          fc.integer(),
          (sites, where, sizes, seed) => {
            const rng = new SeededRandom(seed);
            const ctx = ctxOf(
              Array.from({ length: 50 }, () => rng.normal()),
              { selectedSites: sites },
            );
            const results = Array.from({ length: sites }, (_, k) =>
              result(
                `s${k}`,
                1 + rng.int(100),
                Array.from(ctx.global, (g) => g + rng.normal() * (k % 2 ? 1 : 0.01)),
              ),
            );
            const bad = where % (sites + 1); // == sites: nothing rejected
            if (bad < sites)
              results[bad] = { ...results[bad]!, weights: results[bad]!.weights.map((w, i) => (i === 7 ? NaN : w)) };
            const s = make();
            const stepwise = s.createAccumulator(ctx);
            const batched = s.createAccumulator(ctx);
            const codeOf = (fn: () => void) => {
              try {
                fn();
              } catch (e) {
                return (e as { code?: string }).code ?? String(e);
              }
              return undefined;
            };
            const a = codeOf(() => {
              for (const r of results) stepwise.add(r);
            });
            const b = codeOf(() => {
              let at = 0;
              for (const n of [...sizes, sites]) {
                addAll(batched, results.slice(at, at + n));
                at += n;
              }
            });
            expect(b).toBe(a);
            expect(a).toBe(bad < sites ? 'NON_FINITE_WEIGHTS' : undefined);
            expect([...batched.siteIds]).toEqual([...stepwise.siteIds]);
            if (stepwise.siteIds.length === 0) return;
            const x = s.aggregate(ctx, stepwise, []);
            const y = s.aggregate(ctx, batched, []);
            expect(Buffer.from(y.weights.buffer).equals(Buffer.from(x.weights.buffer))).toBe(true);
            expect(y.metrics).toEqual(x.metrics);
          },
        ),
        { numRuns: 50 },
      );
    },
  );
});
