import { gaussianDpEpsilon } from './gaussian-accountant';

describe('gaussianDpEpsilon (exact μ-GDP → (ε, δ))', () => {
  // Reference values from SciPy (norm.cdf + brentq on the same δ(ε) formula), computed independently.
  const cases: Array<[number, number, number, number]> = [
    [1.0, 1, 1e-5, 4.377178095681223],
    [1.1, 15, 1e-5, 20.562262924121033],
    [0.8, 100, 1e-6, 136.69619539024907],
    [5.0, 1, 1e-5, 0.7255217508578236],
    [2.0, 50, 1e-5, 20.675508046993954],
    [0.5, 3, 1e-3, 15.994591626196234],
  ];
  test.each(cases)('z=%p, %p releases, δ=%p → ε ≈ %p', (noiseMultiplier, releases, delta, expected) => {
    expect(gaussianDpEpsilon({ noiseMultiplier, releases, delta })).toBeCloseTo(expected, 4);
  });

  test('is 0 before any release, grows with releases, shrinks with noise and with a looser δ', () => {
    expect(gaussianDpEpsilon({ noiseMultiplier: 1, releases: 0, delta: 1e-5 })).toBe(0);
    const e = (z: number, t: number, d = 1e-5) => gaussianDpEpsilon({ noiseMultiplier: z, releases: t, delta: d });
    expect(e(1, 2)).toBeGreaterThan(e(1, 1));
    expect(e(2, 10)).toBeLessThan(e(1, 10));
    expect(e(1, 10, 1e-3)).toBeLessThan(e(1, 10, 1e-6));
    expect(e(1e6, 1)).toBe(0); // δ(0) ≈ 4e-7 is already below the target: ε = 0
  });

  test('refuses inputs that have no meaning', () => {
    expect(() => gaussianDpEpsilon({ noiseMultiplier: 0, releases: 1, delta: 1e-5 })).toThrow(RangeError);
    expect(() => gaussianDpEpsilon({ noiseMultiplier: 1, releases: 1.5, delta: 1e-5 })).toThrow(RangeError);
    expect(() => gaussianDpEpsilon({ noiseMultiplier: 1, releases: 1, delta: 1 })).toThrow(RangeError);
  });
});
