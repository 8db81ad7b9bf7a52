import fc from 'fast-check';
import { addRing64, decodeRing64, encodeRing64 } from '../crypto/ring64';
import { TwinfedError } from '../errors';
import { SeededRandom } from '../random';
import { decodeDdpSum, ddpMeanNoiseStd, encodeDdpUpdate } from './ddp-codec';
import { ddpParameters, type DdpParameters } from './distributed';

const seeded = (seed: number) => {
  const r = new SeededRandom(seed);
  return () => r.next();
};
const noiseless = (p: DdpParameters): DdpParameters => ({ ...p, variance: 0 });
const l2 = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

const vec = (d: number) => fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: d, maxLength: d });

describe('distributed DP encoding', () => {
  test('decoding the sum of encoded clipped deltas (no noise) gives their sum ÷ selected sites, within the rounding of each site', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 6 })
          .chain((d) => fc.tuple(fc.constant(d), vec(d), fc.array(vec(d), { minLength: 3, maxLength: 8 }))),
        fc.double({ min: 0.01, max: 5, noNaN: true }),
        fc.double({ min: 0.3, max: 20, noNaN: true }),
        fc.integer({ min: 0, max: 3 }),
        ([d, base, trained], clip, z, extraSelected) => {
          const params = ddpParameters({ clip, noiseMultiplier: z, dimension: d });
          const selected = trained.length + extraSelected; // some selected sites dropped out
          const ring = new Uint32Array(2 * d);
          const expected = new Float64Array(d);
          for (const t of trained) {
            const e = encodeDdpUpdate({
              trained: t,
              base,
              params: noiseless(params),
              threshold: 3,
              uniform: seeded(1),
            });
            addRing64(ring, encodeRing64(e.values, 0)); // the masked path: integers in Z/2^64
            const delta = t.map((x, i) => x - base[i]!);
            const f = Math.min(1, clip / l2(delta));
            delta.forEach((x, i) => (expected[i]! += x * f));
          }
          const mean = decodeDdpSum({ sum: decodeRing64(ring, 0), params, selectedSites: selected });
          const tolerance = (trained.length * 0.5) / params.scale / selected;
          mean.forEach((m, i) =>
            expect(Math.abs(m - expected[i]! / selected)).toBeLessThanOrEqual(tolerance * (1 + 1e-9) + 1e-12),
          );
        },
      ),
    );
  });

  test('an encoded update without noise never exceeds the sensitivity Δ2 = C·s + √d/2 the accountant assumes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }).chain((d) => fc.tuple(vec(d), vec(d))),
        fc.double({ min: 1e-4, max: 10, noNaN: true }),
        ([trained, base], clip) => {
          const params = ddpParameters({ clip, noiseMultiplier: 1, dimension: trained.length });
          const e = encodeDdpUpdate({ trained, base, params: noiseless(params), threshold: 3, uniform: seeded(1) });
          expect(e.values.every((x) => Number.isInteger(x))).toBe(true);
          expect(l2(e.values)).toBeLessThanOrEqual(params.l2);
          expect(e.values.reduce((s, x) => s + Math.abs(x), 0)).toBeLessThanOrEqual(params.l1);
          expect(e.clipped).toBe(e.norm > clip);
        },
      ),
    );
  });

  test('adds integer Skellam noise of variance μ/t per site, so t sites’ noise has variance μ and the mean’s noise std is as published', () => {
    const d = 40_000;
    const params = ddpParameters({ clip: 0.05, noiseMultiplier: 2, dimension: d });
    const zeros = new Float32Array(d);
    const t = 3;
    const sum = new Float64Array(d);
    for (let site = 0; site < t; site++) {
      const e = encodeDdpUpdate({ trained: zeros, base: zeros, params, threshold: t, uniform: seeded(10 + site) });
      expect(e.values.every((x) => Number.isInteger(x))).toBe(true);
      const v = e.values.reduce((s, x) => s + x * x, 0) / d;
      expect(Math.abs(v / (params.variance / t) - 1)).toBeLessThan(0.03); // sample variance's relative sd ≈ 0.7 %
      e.values.forEach((x, i) => (sum[i]! += x));
    }
    const total = sum.reduce((s, x) => s + x * x, 0) / d;
    expect(Math.abs(total / params.variance - 1)).toBeLessThan(0.03);
    // decoded mean of 4 selected sites: noise std = √μ / s / 4 = z·C / 4
    const mean = decodeDdpSum({ sum, params, selectedSites: 4 });
    const std = Math.sqrt(mean.reduce((s, x) => s + x * x, 0) / d);
    const published = ddpMeanNoiseStd(params, { survivors: t, threshold: t, selectedSites: 4 });
    expect(published).toBeCloseTo((2 * 0.05) / 4, 12);
    expect(Math.abs(std / published - 1)).toBeLessThan(0.03);
  });

  test('refuses non-finite weights, wrong lengths and a sum that is not an exact integer vector', () => {
    const params = ddpParameters({ clip: 1, noiseMultiplier: 1, dimension: 2 });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as TwinfedError).code;
      }
      return 'none';
    };
    const u = seeded(1);
    expect(
      code(() => encodeDdpUpdate({ trained: [Number.NaN, 0], base: [0, 0], params, threshold: 3, uniform: u })),
    ).toBe('NON_FINITE_WEIGHTS');
    expect(code(() => encodeDdpUpdate({ trained: [0, 0, 0], base: [0, 0, 0], params, threshold: 3, uniform: u }))).toBe(
      'INVALID_WEIGHTS',
    );
    expect(code(() => decodeDdpSum({ sum: [0.5, 1], params, selectedSites: 3 }))).toBe('VALIDATION_FAILED');
    expect(code(() => decodeDdpSum({ sum: [1], params, selectedSites: 3 }))).toBe('VALIDATION_FAILED');
  });
});
