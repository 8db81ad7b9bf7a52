import fc from 'fast-check';
import { generateIdentity } from './crypto/identity';
import { decodeSecureSum, maskContribution, sumMaskedContributions } from './crypto/secure-sum';
import { SeededRandom } from './random';
import {
  fitRecalibration,
  fitRecalibrationOnRows,
  logitHistogram,
  recalibrated,
  recalibrationContext,
  recalibrationStatsLength,
} from './recalibration';

/** `count` rows at log-odds z, `positives` of them with label 1. */
function rows(spec: Array<{ z: number; count: number; positives: number }>) {
  const z: number[] = [];
  const y: number[] = [];
  for (const s of spec)
    for (let i = 0; i < s.count; i++) {
      z.push(s.z);
      y.push(i < s.positives ? 1 : 0);
    }
  return { z, y };
}

/** Rows whose true log-odds t ~ N(0, 1.5²) and labels ~ Bernoulli(σ(t)); the model says `scale` · t. */
function miscalibrated(n: number, scale: number, shift: number, seed: number) {
  const rng = new SeededRandom(seed);
  const z = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = 1.5 * rng.normal();
    y[i] = rng.next() < 1 / (1 + Math.exp(-t)) ? 1 : 0;
    z[i] = scale * t + shift;
  }
  return { z, y };
}

describe('fit by hand', () => {
  // z = +1: 3 of 4 positive; z = −1: 1 of 4. The log loss is least where σ(a + b) = 3/4 and σ(−a + b) = 1/4:
  // b = 0, a = ln 3; temperature scaling (b fixed at 0) reaches the same point.
  const symmetric = rows([
    { z: 1, count: 4, positives: 3 },
    { z: -1, count: 4, positives: 1 },
  ]);
  // z = +1: 3 of 4 positive; z = −1: 2 of 4. Platt: a + b = ln 3 and b − a = 0, so a = b = ln(3)/2. Temperature:
  // dL/da = Σ (σ(a·z) − y)·z = (4σ(a) − 3) + (4σ(a) − 2) = 0, so σ(a) = 5/8 and a = ln(5/3), T = 1/ln(5/3).
  const shifted = rows([
    { z: 1, count: 4, positives: 3 },
    { z: -1, count: 4, positives: 2 },
  ]);

  test.each([
    ['platt', symmetric, Math.log(3), 0],
    ['temperature', symmetric, Math.log(3), 0],
    ['platt', shifted, Math.log(3) / 2, Math.log(3) / 2],
    ['temperature', shifted, Math.log(5 / 3), 0],
  ] as const)('%s on %#', (method, data, a, b) => {
    for (const fit of [
      fitRecalibration(logitHistogram(data.z, data.y), method),
      fitRecalibrationOnRows(data.z, data.y, method),
    ]) {
      expect(fit.a).toBeCloseTo(a, 9);
      expect(fit.b).toBeCloseTo(b, 9);
      expect(fit.rows).toBe(8);
      expect(fit.method).toBe(method);
    }
  });

  test('the recalibrated probability is σ(a·z + b)', () => {
    expect(recalibrated(1, { a: Math.log(3), b: 0 })).toBeCloseTo(0.75, 12);
    expect(recalibrated(-1, { a: Math.log(3) / 2, b: Math.log(3) / 2 })).toBeCloseTo(0.5, 12);
    expect(recalibrated(100, { a: 1, b: 0 })).toBeCloseTo(1 / (1 + Math.exp(-16)), 12); // clamped to the grid
  });
});

describe('histogram', () => {
  test('counts and sums per cell and label; clamps outside the grid', () => {
    const h = logitHistogram([0.01, 0.02, -20, 0.05], [1, 1, 0, 0]);
    expect(h.length).toBe(recalibrationStatsLength());
    const total = (k: number) => h.filter((_, i) => i % 4 === k).reduce((s, v) => s + v, 0);
    expect(total(0)).toBe(2);
    expect(total(2)).toBe(2);
    expect(total(3)).toBeCloseTo(0.03, 12);
    expect(total(1)).toBeCloseTo(-16 + 0.05, 12);
  });

  test('refuses labels other than 0/1 and NaN log-odds', () => {
    expect(() => logitHistogram([0], [2])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => logitHistogram([NaN], [1])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => logitHistogram([0, 1], [1])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  test('one outcome only, or separable scores, cannot be fitted', () => {
    expect(() => fitRecalibration(logitHistogram([1, 2], [1, 1]), 'platt')).toThrow(
      expect.objectContaining({ code: 'RECALIBRATION_UNFIT' }),
    );
    expect(() => fitRecalibration(logitHistogram([-2, -1, 1, 2], [0, 0, 1, 1]), 'platt')).toThrow(
      expect.objectContaining({ code: 'RECALIBRATION_UNFIT' }),
    );
  });
});

describe('miscalibrated scores', () => {
  test('logits scaled ×k (and shifted) are scaled back: a ≈ 1/k, and Platt also removes the shift', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.4, max: 4, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        (scale, shift, seed) => {
          const { z, y } = miscalibrated(20_000, scale, shift, seed);
          const platt = fitRecalibration(logitHistogram(z, y), 'platt');
          // σ(a(kt + s) + b) = σ(t) when a = 1/k and b = −s/k
          expect(Math.abs(platt.a * scale - 1)).toBeLessThan(0.08);
          expect(Math.abs(platt.b + shift * platt.a)).toBeLessThan(0.1);
          const temp = fitRecalibration(logitHistogram(z, y), 'temperature');
          if (shift === 0) expect(Math.abs(temp.a * scale - 1)).toBeLessThan(0.08);
          expect(temp.b).toBe(0);
        },
      ),
      { numRuns: 12, seed: 15 },
    );
  });

  test('the fit on the histogram is the fit on the rows to 1e-3', () => {
    const { z, y } = miscalibrated(5_000, 3, 0.5, 7);
    for (const method of ['platt', 'temperature'] as const) {
      const grid = fitRecalibration(logitHistogram(z, y), method);
      const exact = fitRecalibrationOnRows(z, y, method);
      expect(Math.abs(grid.a - exact.a)).toBeLessThan(1e-3);
      expect(Math.abs(grid.b - exact.b)).toBeLessThan(1e-3);
    }
  });
});

describe('federated fit = pooled fit', () => {
  test("four sites' masked histograms, summed, fit exactly what the pooled histogram fits", () => {
    const sites = ['site-a', 'site-b', 'site-c', 'site-d'].map((siteId, i) => ({
      siteId,
      identity: generateIdentity(),
      data: miscalibrated(300 + 150 * i, 3, i - 1.5, 100 + i), // non-IID: each site its own shift and size
    }));
    const cohort = sites.map((s) => ({ siteId: s.siteId, boxPublicKey: s.identity.box.publicKey }));
    const context = recalibrationContext('fed-1', 'fed-1.v5');
    const masked = sites.map((s) =>
      maskContribution({
        values: logitHistogram(s.data.z, s.data.y),
        siteId: s.siteId,
        boxSecretKey: s.identity.box.secretKey,
        cohort,
        context,
      }),
    );
    const length = recalibrationStatsLength();
    const sum = decodeSecureSum(sumMaskedContributions(masked, length), { length });
    const pooledZ = sites.flatMap((s) => [...s.data.z]);
    const pooledY = sites.flatMap((s) => [...s.data.y]);
    for (const method of ['platt', 'temperature'] as const) {
      const federated = fitRecalibration(sum, method);
      const pooled = fitRecalibration(logitHistogram(pooledZ, pooledY), method);
      expect(federated.rows).toBe(pooledZ.length);
      // The only difference is the secure sum's fixed point (2^-20 per Σz).
      expect(federated.a).toBeCloseTo(pooled.a, 6);
      expect(federated.b).toBeCloseTo(pooled.b, 6);
      const rowsFit = fitRecalibrationOnRows(pooledZ, pooledY, method);
      expect(Math.abs(federated.a - rowsFit.a)).toBeLessThan(1e-3);
    }
  });
});
