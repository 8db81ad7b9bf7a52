import { SeededRandom, fitRecalibration, layoutOf, logitHistogram, type ModelSpec } from '@twinfed/shared';
import { initBackend } from './backend';
import { evaluate, modelOutputs, predict } from './predict';

const spec: ModelSpec = { kind: 'logistic-regression', inputs: 2 };
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

beforeAll(() => initBackend({ prefer: 'wasm' }));

/** Rows whose outcome follows σ(x·w_true + b_true); `n` of them, seeded. */
function rowsFrom(n: number, seed: number) {
  const rng = new SeededRandom(seed);
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = rng.normal();
    x[2 * i + 1] = rng.normal();
    y[i] = rng.next() < sigmoid(1.2 * x[2 * i]! - 0.8 * x[2 * i + 1]! + 0.3) ? 1 : 0;
  }
  return { x, y, n, d: 2 };
}

describe('a recalibrated version', () => {
  test('scores σ(a·z + b) of the log-odds', async () => {
    const weights = { layout: layoutOf(spec), data: Float32Array.from([1, -1, 0]) };
    const x = Float32Array.from([2, 0, 0, 3]);
    const p = await predict({ spec, weights, x, n: 2, recalibration: { a: 0.5, b: 0.25 } });
    expect(p[0]).toBeCloseTo(sigmoid(0.5 * 2 + 0.25), 6);
    expect(p[1]).toBeCloseTo(sigmoid(0.5 * -3 + 0.25), 6);
  });

  test.each(['platt', 'temperature'] as const)(
    '%s: a model whose log-odds are 3× the truth is recalibrated on held-out rows and its ECE drops markedly',
    async (method) => {
      // The true model, with every weight ×3: the same ranking (AUC), overconfident probabilities.
      const weights = { layout: layoutOf(spec), data: Float32Array.from([3 * 1.2, 3 * -0.8, 3 * 0.3]) };
      const heldOut = rowsFrom(4000, 1);
      const test = rowsFrom(4000, 2);
      const z = await modelOutputs({ spec, weights, x: heldOut.x, n: heldOut.n });
      const fit = fitRecalibration(logitHistogram(z, heldOut.y), method);
      expect(fit.a).toBeGreaterThan(0.28);
      expect(fit.a).toBeLessThan(0.4);
      const before = await evaluate({ spec, weights, data: test });
      const after = await evaluate({ spec, weights, data: test, recalibration: fit });
      expect(before.calibration!.ece).toBeGreaterThan(0.08);
      expect(after.calibration!.ece).toBeLessThan(0.03);
      expect(after.calibration!.ece).toBeLessThan(before.calibration!.ece / 3);
      expect(after.auc).toBeCloseTo(before.auc, 6); // a monotone map keeps the ranking
      expect(after.loss).toBeLessThan(before.loss);
    },
  );
});
