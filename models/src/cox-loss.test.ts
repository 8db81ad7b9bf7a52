import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { initBackend } from './backend';
import { coxLoss, coxPartialLikelihoodLoss, type CoxTies } from './cox-loss';

/** The partial likelihood by its definition: each event's own risk set and tie group, O(n²). */
function definition(eta: number[], time: number[], event: number[], ties: CoxTies): number {
  let total = 0;
  for (let i = 0; i < eta.length; i++) {
    if (event[i] !== 1) continue;
    const tied = eta.map((_, k) => k).filter((k) => event[k] === 1 && time[k] === time[i]);
    const rank = tied.indexOf(i);
    const f = ties === 'efron' ? rank / tied.length : 0;
    let risk = 0;
    for (let j = 0; j < eta.length; j++) if (time[j]! >= time[i]!) risk += Math.exp(eta[j]!);
    const tiedSum = tied.reduce((s, k) => s + Math.exp(eta[k]!), 0);
    total += eta[i]! - Math.log(risk - f * tiedSum);
  }
  return -total / eta.length;
}

const rows = fc.array(
  fc.record({
    eta: fc.double({ min: -3, max: 3, noNaN: true }),
    time: fc.integer({ min: 1, max: 6 }),
    event: fc.integer({ min: 0, max: 1 }),
  }),
  { minLength: 1, maxLength: 30 },
);

beforeAll(() => initBackend({ prefer: 'cpu' }));

describe('coxLoss', () => {
  test.each(['breslow', 'efron'] as const)(
    '%s: equals the O(n²) definition on random data with tied times and censoring',
    (ties) => {
      fc.assert(
        fc.property(rows, (rs) => {
          const [eta, time, event] = [rs.map((r) => r.eta), rs.map((r) => r.time), rs.map((r) => r.event)];
          expect(coxLoss(eta, time, event, ties).loss).toBeCloseTo(definition(eta, time, event, ties), 9);
        }),
        { numRuns: 300 },
      );
    },
  );

  test.each(['breslow', 'efron'] as const)('%s: its gradient matches central differences', (ties) => {
    fc.assert(
      fc.property(rows, (rs) => {
        const [eta, time, event] = [rs.map((r) => r.eta), rs.map((r) => r.time), rs.map((r) => r.event)];
        const { gradient } = coxLoss(eta, time, event, ties);
        const h = 1e-6;
        eta.forEach((_, k) => {
          const up = eta.map((v, j) => (j === k ? v + h : v));
          const down = eta.map((v, j) => (j === k ? v - h : v));
          const numeric = (definition(up, time, event, ties) - definition(down, time, event, ties)) / (2 * h);
          expect(gradient[k]!).toBeCloseTo(numeric, 6);
        });
      }),
      { numRuns: 100 },
    );
  });

  test('Breslow and Efron agree without tied events, and differ with them', () => {
    const eta = [0.5, -0.2, 1, 0.3];
    expect(coxLoss(eta, [1, 2, 3, 4], [1, 1, 0, 1], 'efron').loss).toBeCloseTo(
      coxLoss(eta, [1, 2, 3, 4], [1, 1, 0, 1], 'breslow').loss,
      12,
    );
    const tiedTimes = [2, 2, 3, 4];
    expect(coxLoss(eta, tiedTimes, [1, 1, 0, 1], 'efron').loss).toBeLessThan(
      coxLoss(eta, tiedTimes, [1, 1, 0, 1], 'breslow').loss,
    );
  });

  test('cannot see a constant added to every score, and is 0 without events', () => {
    const time = [3, 1, 2, 2, 5];
    const event = [1, 0, 1, 1, 0];
    const eta = [0.1, -1, 2, 0.4, 0.3];
    for (const ties of ['breslow', 'efron'] as const) {
      const base = coxLoss(eta, time, event, ties);
      const shifted = coxLoss(
        eta.map((v) => v + 7),
        time,
        event,
        ties,
      );
      expect(shifted.loss).toBeCloseTo(base.loss, 10);
      expect(base.gradient.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
    }
    expect(coxLoss(eta, time, [0, 0, 0, 0, 0], 'breslow')).toEqual({ loss: 0, gradient: new Float64Array(5) });
  });

  test('the tfjs loss has its value and its gradient', () => {
    const eta = [0.1, -1, 2, 0.4, 0.3];
    const time = [3, 1, 2, 2, 5];
    const event = [1, 0, 1, 1, 0];
    const expected = coxLoss(eta, time, event, 'efron');
    const [value, grad] = tf.tidy(() => {
      const x = tf.tensor2d(eta, [5, 1]);
      const { value: v, grad: g } = tf.valueAndGrad((t: tf.Tensor) =>
        tf.mul(coxPartialLikelihoodLoss(t, time, event, 'efron'), 3),
      )(x);
      return [v.dataSync()[0]!, Array.from(g.dataSync())];
    });
    expect(value).toBeCloseTo(3 * expected.loss, 5);
    grad.forEach((g, k) => expect(g).toBeCloseTo(3 * expected.gradient[k]!, 5));
  });

  test('refuses arrays of different lengths', () => {
    expect(() => coxLoss([1, 2], [1], [1, 0], 'breslow')).toThrow(RangeError);
  });
});
