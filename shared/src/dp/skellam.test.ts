import { SeededRandom } from '../random';
import { gaussianDpEpsilon } from './gaussian-accountant';
import { RDP_ORDERS, addSkellamNoise, rdpToEpsilon, skellamEpsilon, skellamRdp } from './skellam';

const seeded = (seed: number) => {
  const r = new SeededRandom(seed);
  return () => r.next();
};

describe('Skellam noise', () => {
  test.each([0.5, 8, 100, 1e6, 2 ** 34])('Sk(%d) is integer, centred, with the variance asked for', (variance) => {
    const n = 100_000;
    const v = new Float64Array(n);
    addSkellamNoise(v, { variance, uniform: seeded(7) });
    expect(v.every((x) => Number.isInteger(x))).toBe(true);
    const mean = v.reduce((a, b) => a + b, 0) / n;
    const sampleVar = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(variance / n)); // 5 standard errors
    expect(Math.abs(sampleVar / variance - 1)).toBeLessThan(0.03); // the sample variance's relative sd is ~0.45 %
  });

  test('adds to what is there, and a sum of two sites’ noise has the sum of their variances', () => {
    const a = new Float64Array(100_000).fill(1000);
    addSkellamNoise(a, { variance: 300, uniform: seeded(1) });
    addSkellamNoise(a, { variance: 700, uniform: seeded(2) });
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const v = a.reduce((s, x) => s + (x - mean) ** 2, 0) / (a.length - 1);
    expect(Math.abs(mean - 1000)).toBeLessThan(0.5);
    expect(Math.abs(v / 1000 - 1)).toBeLessThan(0.03);
  });

  test('refuses a variance that is negative, not finite or too large for exact Poisson draws', () => {
    for (const variance of [-1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 41]) {
      expect(() => addSkellamNoise(new Float64Array(1), { variance, uniform: seeded(1) })).toThrow(RangeError);
    }
  });
});

describe('Skellam accountant', () => {
  test('is the paper’s bound: the Gaussian term plus the smaller discretisation surcharge', () => {
    // α = 2, Δ2 = 10, Δ1 = 40, μ = 50: 2·100/100 = 2; min((3·100 + 240)/10000, 120/100) = 0.054
    expect(skellamRdp({ alpha: 2, l2: 10, l1: 40, variance: 50 })).toBeCloseTo(2.054, 12);
    // small μ: the second branch wins — α = 3, Δ2 = 1, Δ1 = 1, μ = 0.5: 3 + min((5 + 6)/1, 3) = 6
    expect(skellamRdp({ alpha: 3, l2: 1, l1: 1, variance: 0.5 })).toBeCloseTo(6, 12);
    expect(() => skellamRdp({ alpha: 1.5, l2: 1, l1: 1, variance: 1 })).toThrow(RangeError);
  });

  test('converts RDP like the standard conversion and composes over releases', () => {
    // A single order: ε = r + log((α−1)/α) − (log δ + log α)/(α−1)
    expect(rdpToEpsilon([1], 1e-5, [10])).toBeCloseTo(1 + Math.log(0.9) - (Math.log(1e-5) + Math.log(10)) / 9, 12);
    const one = skellamEpsilon({ l2: 1e4, l1: 1e6, variance: 1e8, releases: 1, delta: 1e-5 });
    const ten = skellamEpsilon({ l2: 1e4, l1: 1e6, variance: 1e8, releases: 10, delta: 1e-5 });
    expect(ten).toBeGreaterThan(one);
    expect(skellamEpsilon({ l2: 1e4, l1: 1e6, variance: 1e8, releases: 0, delta: 1e-5 })).toBe(0);
  });

  test('approaches the Gaussian mechanism when the noise is coarse on the integer grid, and never beats the exact Gaussian ε', () => {
    for (const z of [0.5, 1, 2, 4]) {
      for (const releases of [1, 10, 100]) {
        const l2 = 2 ** 16;
        const variance = (z * l2) ** 2;
        const eps = skellamEpsilon({ l2, l1: l2 * 1000, variance, releases, delta: 1e-5 });
        const gaussianRdp = rdpToEpsilon(
          RDP_ORDERS.map((a) => (releases * a) / (2 * z * z)),
          1e-5,
        );
        expect(eps).toBeGreaterThanOrEqual(gaussianDpEpsilon({ noiseMultiplier: z, releases, delta: 1e-5 }));
        expect(Math.abs(eps / gaussianRdp - 1)).toBeLessThan(0.01);
      }
    }
  });
});
