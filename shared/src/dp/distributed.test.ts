import fc from 'fast-check';
import { gaussianDpEpsilon } from './gaussian-accountant';
import {
  DDP_NOISE_STD_BITS,
  DDP_SUM_LIMIT,
  DDP_WRAP_FAILURE,
  ddpEpsilon,
  ddpParameters,
  ddpScaleBits,
  ddpSumBound,
  skellamLogTail,
} from './distributed';
import { RDP_ORDERS, rdpToEpsilon, skellamRdp } from './skellam';

/** log of the Skellam pmf Sk(μ/2, μ/2) at k ∈ [−K, K], by direct summation of Poisson products (independent of the accountant). */
const pmfs = new Map<string, Float64Array>();
function skellamLogPmf(mu: number, K: number): Float64Array {
  const key = `${mu}/${K}`;
  const cached = pmfs.get(key);
  if (cached) return cached;
  const lam = mu / 2;
  const J = Math.ceil(lam + 60 * Math.sqrt(lam) + 60); // Poisson mass beyond J is negligible
  const logPois = Float64Array.from({ length: J + K + 1 }, (_, j) => -lam + j * Math.log(lam) - logFactorial(j));
  const out = new Float64Array(2 * K + 1);
  for (let k = -K; k <= K; k++) {
    const a = Math.abs(k);
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j <= J; j++) max = Math.max(max, logPois[j + a]! + logPois[j]!);
    let sum = 0;
    for (let j = 0; j <= J; j++) sum += Math.exp(logPois[j + a]! + logPois[j]! - max);
    out[k + K] = max + Math.log(sum);
  }
  pmfs.set(key, out);
  return out;
}
const lf: number[] = [0];
function logFactorial(n: number): number {
  for (let i = lf.length; i <= n; i++) lf.push(lf[i - 1]! + Math.log(i));
  return lf[n]!;
}

/** The exact Rényi divergence D_α(Sk(μ) + Δ ‖ Sk(μ)) in one dimension, from the pmf. */
function exactRenyi(mu: number, shift: number, alpha: number, K: number): number {
  const lp = skellamLogPmf(mu, K);
  const terms: number[] = [];
  for (let k = -K + shift; k <= K; k++) terms.push(alpha * lp[k - shift + K]! + (1 - alpha) * lp[k + K]!);
  const max = Math.max(...terms);
  return (max + Math.log(terms.reduce((s, t) => s + Math.exp(t - max), 0))) / (alpha - 1);
}

describe('distributed DP parameters', () => {
  test('picks the scale so the noise std of the sum, z·C·2^bits, is in (2^19, 2^20]', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 10_000, noNaN: true }),
        fc.double({ min: 0.3, max: 100, noNaN: true }),
        (clip, z) => {
          const bits = ddpScaleBits(clip, z);
          const std = z * clip * 2 ** bits;
          expect(std).toBeLessThanOrEqual(2 ** DDP_NOISE_STD_BITS);
          expect(std).toBeGreaterThan(2 ** (DDP_NOISE_STD_BITS - 1));
        },
      ),
    );
  });

  test('includes the rounding error in the sensitivities: Δ2 = C·s + √d/2, Δ1 = min(Δ2², √d·Δ2)', () => {
    const p = ddpParameters({ clip: 0.05, noiseMultiplier: 2, dimension: 14 });
    expect(p.scale).toBe(2 ** p.bits);
    expect(p.l2).toBe(0.05 * p.scale + Math.sqrt(14) / 2);
    expect(p.l1).toBe(Math.sqrt(14) * p.l2);
    expect(p.variance).toBe((2 * 0.05 * p.scale) ** 2);
    const tiny = ddpParameters({ clip: 1e-9, noiseMultiplier: 100, dimension: 1 }); // Δ2² < √d·Δ2 only for Δ2 < √d
    expect(tiny.l1).toBe(Math.min(tiny.l2 ** 2, tiny.l2));
    expect(() => ddpParameters({ clip: 1, noiseMultiplier: 1, dimension: 0 })).toThrow(RangeError);
  });
});

describe('distributed DP accountant', () => {
  test('bounds the exact Rényi divergence of a shifted Skellam (computed from its pmf), and is close to it', () => {
    for (const [mu, shift] of [
      [50, 1],
      [200, 3],
      [400, 10],
    ] as const) {
      const K = Math.ceil(mu + 30 * Math.sqrt(mu));
      for (const alpha of [2, 4, 8]) {
        const exact = exactRenyi(mu, shift, alpha, K);
        const bound = skellamRdp({ alpha, l2: shift, l1: shift, variance: mu });
        expect(bound).toBeGreaterThanOrEqual(exact * (1 - 1e-9));
        expect(bound / exact).toBeLessThan(1.15);
        expect(exact).toBeGreaterThan((alpha * shift * shift) / (2 * mu) / 1.15); // the Gaussian term is the bulk of it
      }
    }
  });

  test('on the heart-disease model (d = 14) spends what the Gaussian mechanism’s RDP bound spends, a little above the exact Gaussian ε', () => {
    for (const z of [1, 2, 5, 15]) {
      for (const rounds of [1, 15]) {
        const p = ddpParameters({ clip: 0.05, noiseMultiplier: z, dimension: 14 });
        const eps = ddpEpsilon(p, rounds, 1e-5);
        const gaussianRdp = rdpToEpsilon(
          RDP_ORDERS.map((a) => (rounds * a) / (2 * z * z)),
          1e-5,
        );
        expect(Math.abs(eps / gaussianRdp - 1)).toBeLessThan(1e-3);
        expect(eps).toBeGreaterThan(gaussianDpEpsilon({ noiseMultiplier: z, releases: rounds, delta: 1e-5 }));
        expect(eps).toBeLessThan(1.15 * gaussianDpEpsilon({ noiseMultiplier: z, releases: rounds, delta: 1e-5 }));
      }
    }
  });

  test('grows with rounds and with the model size (rounding error), shrinks with noise; 0 before any round', () => {
    const p = (z: number, d = 14) => ddpParameters({ clip: 1, noiseMultiplier: z, dimension: d });
    expect(ddpEpsilon(p(1), 0, 1e-5)).toBe(0);
    expect(ddpEpsilon(p(1), 10, 1e-5)).toBeGreaterThan(ddpEpsilon(p(1), 5, 1e-5));
    expect(ddpEpsilon(p(2), 10, 1e-5)).toBeLessThan(ddpEpsilon(p(1), 10, 1e-5));
    expect(ddpEpsilon(p(20, 10_000_000), 10, 1e-5)).toBeGreaterThan(ddpEpsilon(p(20, 14), 10, 1e-5));
  });
});

describe('distributed DP sum bound', () => {
  test('the Chernoff tail bounds the exact Skellam tail', () => {
    const mu = 100;
    const K = 600;
    const lp = skellamLogPmf(mu, K);
    for (const a of [10, 30, 60, 100]) {
      let tail = 0;
      for (let k = a; k <= K; k++) tail += Math.exp(lp[k + K]!);
      expect(Math.log(tail)).toBeLessThanOrEqual(skellamLogTail(mu, a));
      expect(Math.log(tail)).toBeGreaterThan(skellamLogTail(mu, a) - 5); // and is not vacuous
    }
  });

  test('is the cohort’s clipped contributions plus a noise tail of ≈ √(2·1.5μ·ln(2·coords/failure)), far below 2^53 for any plan the schema allows', () => {
    const p = ddpParameters({ clip: 10_000, noiseMultiplier: 0.3, dimension: 1_000_000 });
    const coordinates = 1_000_000 * 100_000;
    const bound = ddpSumBound(p, { cohort: 255, coordinates });
    const noise = bound - 255 * (p.clip * p.scale + 0.5);
    const gaussianTail = Math.sqrt(2 * 1.5 * p.variance * Math.log((2 * coordinates) / DDP_WRAP_FAILURE));
    expect(Math.abs(noise / gaussianTail - 1)).toBeLessThan(0.01);
    expect(bound).toBeLessThan(2 ** 31);
    expect(ddpSumBound({ ...p, scale: 2 ** 50 }, { cohort: 255, coordinates })).toBeGreaterThan(DDP_SUM_LIMIT); // what the plan check refuses
  });
});
