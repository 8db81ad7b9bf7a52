import fc from 'fast-check';
import { isTwinfedError } from '@twinfed/shared';
import { CENTER, centeredClip, centeredClipping } from './centered-clip';
import { ctxOf, expectClose, result, runRound } from './__tests__/fixtures';

const dist = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j]! - b[j]!) ** 2;
  return Math.sqrt(s);
};

describe('centeredclip strategy', () => {
  test('is the unweighted mean delta when every site lies within the radius of the centre', () => {
    const s = centeredClip({ radius: 10, iterations: 1 });
    const out = runRound(s, ctxOf([1, 1], { state: s.initialState(2) }), [
      result('a', 1, [2, 1]),
      result('b', 1000, [1, 3]),
      result('c', 1, [0, 2]),
    ]);
    // deltas (1,0), (0,2), (−1,1): mean (0, 1)
    expectClose(out.weights, [1, 2]);
    expect(out.metrics.centeredClipClipped).toBe(0);
    expectClose(out.state[CENTER]!, [0, 1]);
  });

  test('clips each deviation from the centre to the radius before averaging', () => {
    const s = centeredClip({ radius: 1, iterations: 1 });
    // deviations from centre 0: (0.3,0.4) and (0.45,0.6) pass, (−30,−40) is scaled to (−0.6,−0.8): mean (0.05, 0.2/3)
    const out = runRound(s, ctxOf([0, 0], { state: s.initialState(2) }), [
      result('a', 1, [0.3, 0.4]),
      result('b', 1, [0.45, 0.6]),
      result('evil', 1, [-30, -40]),
    ]);
    expectClose(out.weights, [0.05, 0.2 / 3]);
    expect(out.metrics.centeredClipClipped).toBe(1);
    expect(out.contributors).toEqual(['a', 'b', 'evil']);
  });

  test('starts from the previous round’s aggregate update (the state), not from zero', () => {
    const s = centeredClip({ radius: 0.5, iterations: 1 });
    const state = { [CENTER]: Float64Array.from([1, 0]) };
    // every site sent the base + (1, 0): no deviation from the centre, so the round moves by exactly (1, 0)
    const out = runRound(s, ctxOf([5, 5], { round: 2, state }), [result('a', 1, [6, 5]), result('b', 1, [6, 5])]);
    expectClose(out.weights, [6, 5]);
    // from zero, the same round would have moved by only 0.5 (each deviation (1,0) clipped to 0.5)
    expectClose(
      runRound(s, ctxOf([5, 5], { state: s.initialState(2) }), [result('a', 1, [6, 5]), result('b', 1, [6, 5])])
        .weights,
      [5.5, 5],
    );
  });

  test('with more iterations re-centres and gets closer to the honest sites', () => {
    const deltas = [Float64Array.from([1, 0]), Float64Array.from([1, 0]), Float64Array.from([1, 0])];
    const one = centeredClipping({ deltas, center: new Float64Array(2), radius: 0.25, iterations: 1 }).center;
    const three = centeredClipping({ deltas, center: new Float64Array(2), radius: 0.25, iterations: 3 }).center;
    expectClose(one, [0.25, 0]);
    expectClose(three, [0.75, 0]);
  });

  test('keeps its state through encode/decode and refuses a state without the centre', () => {
    const s = centeredClip({ radius: 1, iterations: 2 });
    const state = { [CENTER]: Float64Array.from([0.25, -3]) };
    expect(s.decodeState(s.encodeState(state), 2)).toEqual(state);
    expect(() => s.decodeState(s.encodeState({}), 2)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => runRound(s, ctxOf([0, 0]), [result('a', 1, [1, 1])])).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
  });

  test('refuses hyperparameters outside their range', () => {
    for (const bad of [
      { radius: 0, iterations: 1 },
      { radius: Number.POSITIVE_INFINITY, iterations: 1 },
      { radius: 1, iterations: 0 },
      { radius: 1, iterations: 1.5 },
    ]) {
      let err: unknown;
      try {
        centeredClip(bad);
      } catch (e) {
        err = e;
      }
      expect(isTwinfedError(err, 'INVALID_PLAN')).toBe(true);
    }
  });

  const finite = fc.float({ noNaN: true, noDefaultInfinity: true });
  const vec = (d: number, v = fc.double({ min: -5, max: 5, noNaN: true })) =>
    fc.array(v, { minLength: d, maxLength: d });
  const scenario = fc
    .record({ n: fc.integer({ min: 1, max: 8 }), d: fc.integer({ min: 1, max: 6 }) })
    .chain(({ n, d }) =>
      fc.record({
        f: fc.integer({ min: 0, max: n }),
        radius: fc.double({ min: 1e-3, max: 10, noNaN: true }),
        iterations: fc.integer({ min: 1, max: 4 }),
        global: vec(d),
        center: vec(d),
        honest: fc.array(vec(d), { minLength: n, maxLength: n }),
        attackers: fc.array(vec(d, finite), { minLength: n, maxLength: n }),
        replacements: fc.array(vec(d), { minLength: n, maxLength: n }),
      }),
    );

  /*
   * One iteration is v ↦ (1/n)·Σᵢ (v + clip(xᵢ − v, τ)); each term is 1-Lipschitz in v (clip is the projection on
   * the τ-ball), and an attacker's term differs from any other value's by at most 2τ. So changing f of n updates
   * to anything moves the result of L iterations by at most 2·f·L·τ/n, and each iteration moves v by at most τ.
   */
  test('f updates of arbitrary values shift the result by at most 2·f·L·τ/n from any other values', () => {
    fc.assert(
      fc.property(scenario, ({ f, radius, iterations, global, center, honest, attackers, replacements }) => {
        const n = honest.length;
        const s = centeredClip({ radius, iterations });
        const state = { [CENTER]: Float64Array.from(center) };
        const ctx = ctxOf(global, { round: 3, state });
        const run = (bad: number[][]) =>
          runRound(
            s,
            ctx,
            honest.map((h, i) => result(`s${i}`, 1 + i, i < f ? bad[i]! : h.map((v, j) => global[j]! + v))),
          );
        const attacked = run(attackers);
        const other = run(replacements.map((r) => r.map((v, j) => global[j]! + v)));
        const scale = 1 + Math.max(...global.map(Math.abs), ...center.map(Math.abs)) + iterations * radius;
        const rounding = 4 * 2 ** -23 * scale * Math.sqrt(global.length);
        expect(dist(attacked.weights, other.weights)).toBeLessThanOrEqual(
          (2 * f * iterations * radius) / n + 2 * rounding,
        );
        // and the round never moves further than L·τ from the previous aggregate update
        const moved = Float64Array.from(attacked.weights, (w, j) => w - global[j]!);
        expect(dist(moved, center)).toBeLessThanOrEqual(iterations * radius + rounding);
      }),
      { numRuns: 300 },
    );
  });
});
