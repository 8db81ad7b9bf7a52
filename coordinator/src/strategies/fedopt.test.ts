import { fedOpt, type FedOptVariant } from './fedopt';
import type { StrategyState } from './types';
import { ctxOf, expectClose, result, runRound } from './__tests__/fixtures';

// Two rounds by hand, η = 0.1, β1 = 0.9, β2 = 0.99, τ = 0.1, no bias correction (FLamby).
// Round 1: global (0, 1); a (1 example) sends (1, 1), b (3 examples) sends (−1, 3)
//   mean = (1 − 3, 1 + 9) / 4 = (−0.5, 2.5)  →  Δ1 = (−0.5, 1.5)
//   m1 = 0.1·Δ1 = (−0.05, 0.15)
//   Adam/Yogi (from v = 0 both give 0.01·Δ1²): v1 = (0.0025, 0.0225), √v1 = (0.05, 0.15)
//     w1 = (0 + 0.1·(−0.05)/0.15, 1 + 0.1·0.15/0.25) = (−1/30, 1.06)
//   Adagrad: v1 = Δ1² = (0.25, 2.25), √v1 = (0.5, 1.5)
//     w1 = (0.1·(−0.05)/0.6, 1 + 0.1·0.15/1.6) = (−1/120, 1.009375)
// Round 2: both sites send w1 + Δ2, Δ2 = (0.2, 0.01), Δ2² = (0.04, 0.0001)
//   m2 = 0.9·m1 + 0.1·Δ2 = (−0.025, 0.136)
//   Adam:    v2 = 0.99·v1 + 0.01·Δ2² = (0.002875, 0.022276)
//   Yogi:    v2 = v1 − 0.01·Δ2²·sign(v1 − Δ2²) = (0.0025 + 0.0004, 0.0225 − 0.000001) = (0.0029, 0.022499)
//   Adagrad: v2 = v1 + Δ2² = (0.29, 2.2501)
//   w2 = w1 + 0.1·m2/(√v2 + 0.1), e.g. Adam: −1/30 + 0.1·(−0.025)/(√0.002875 + 0.1) = −0.0496074
const opts = { serverLr: 0.1, beta1: 0.9, beta2: 0.99, tau: 0.1 };
const expected: Record<FedOptVariant, { w1: number[]; v1: number[]; v2: number[]; w2: number[] }> = {
  fedadam: { w1: [-1 / 30, 1.06], v1: [0.0025, 0.0225], v2: [0.002875, 0.022276], w2: [-0.04960736, 1.11456337] },
  fedyogi: { w1: [-1 / 30, 1.06], v1: [0.0025, 0.0225], v2: [0.0029, 0.022499], w2: [-0.04958275, 1.11440073] },
  fedadagrad: { w1: [-1 / 120, 1.009375], v1: [0.25, 2.25], v2: [0.29, 2.2501], w2: [-0.01224866, 1.01787482] },
};
const m1 = [-0.05, 0.15];
const m2 = [-0.025, 0.136];

describe.each(Object.keys(expected) as FedOptVariant[])('%s', (variant) => {
  const e = expected[variant];

  test('matches two hand-computed rounds, state carried through encode/decode', () => {
    const s = fedOpt(variant, opts);
    const state0 = s.initialState(2);
    expect(Array.from(state0.m!)).toEqual([0, 0]);
    expect(Array.from(state0.v!)).toEqual([0, 0]);

    const r1 = runRound(s, ctxOf([0, 1], { state: state0 }), [result('a', 1, [1, 1]), result('b', 3, [-1, 3])]);
    expectClose(r1.weights, e.w1);
    expectClose(r1.state.m!, m1, 1e-12);
    expectClose(r1.state.v!, e.v1, 1e-12);
    expect(Array.from(state0.m!)).toEqual([0, 0]); // the old state is not mutated

    const bytes = s.encodeState(r1.state);
    const restored = s.decodeState(bytes, 2);
    expect(restored).toEqual(r1.state);

    const g1 = r1.weights;
    const send = Float32Array.from(g1, (x, i) => x + [0.2, 0.01][i]!);
    const round2 = (state: StrategyState) =>
      runRound(s, { round: 2, global: g1, state, seed: 42 }, [result('a', 5, send), result('b', 1, send)]);
    const a = round2(r1.state);
    const b = round2(restored);
    expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
    expectClose(a.weights, e.w2);
    expectClose(a.state.m!, m2, 1e-7);
    expectClose(a.state.v!, e.v2, 1e-7);
  });

  test('encodes state deterministically and rejects a state of the wrong size', () => {
    const s = fedOpt(variant, opts);
    const st = { v: Float64Array.of(1, 2), m: Float64Array.of(3, 4) };
    expect(s.encodeState(st)).toEqual(s.encodeState({ m: Float64Array.of(3, 4), v: Float64Array.of(1, 2) }));
    expect(() => s.decodeState(s.encodeState(st), 3)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => s.decodeState(s.encodeState({ m: st.m }), 2)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});

describe('FedOpt family', () => {
  test('differ only in the second moment: Adam and Yogi agree in round 1 and part in round 2', () => {
    const run = (variant: FedOptVariant) => {
      const s = fedOpt(variant, opts);
      const r1 = runRound(s, ctxOf([0, 1], { state: s.initialState(2) }), [
        result('a', 1, [1, 1]),
        result('b', 3, [-1, 3]),
      ]);
      const send = Float32Array.from(r1.weights, (x, i) => x + [0.2, 0.01][i]!);
      return [
        r1,
        runRound(s, { round: 2, global: r1.weights, state: r1.state, seed: 1 }, [result('a', 1, send)]),
      ] as const;
    };
    const [adam1, adam2] = run('fedadam');
    const [yogi1, yogi2] = run('fedyogi');
    expect(Array.from(yogi1.weights)).toEqual(Array.from(adam1.weights));
    expect(yogi2.weights[0]).not.toBe(adam2.weights[0]);
  });

  test('rejects invalid hyperparameters', () => {
    expect(() => fedOpt('fedadam', { ...opts, beta1: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_PLAN' }));
    expect(() => fedOpt('fedyogi', { ...opts, tau: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_PLAN' }));
  });
});
