import fc from 'fast-check';
import { isTwinfedError } from '@twinfed/shared';
import { createStrategy, fedAvg, fedProx, scaffold } from './index';
import { ctxOf, expectClose, result, runRound } from './__tests__/fixtures';

// Hand example: global (1, −1); sites a, b, c with 10, 20 and 70 examples.
//   mean = (10·(2, 0) + 20·(4, 1) + 70·(1, −1)) / 100 = (170, −50) / 100 = (1.7, −0.5)
//   serverLr 1   → (1.7, −0.5)
//   serverLr 0.5 → (1, −1) + 0.5·((1.7, −0.5) − (1, −1)) = (1.35, −0.75)
const global = [1, -1];
const results = [result('a', 10, [2, 0], { loss: 1 }), result('b', 20, [4, 1], { loss: 4 }), result('c', 70, [1, -1])];

describe('FedAvg', () => {
  test('averages client weights by example count (serverLr 1)', () => {
    const out = runRound(fedAvg({ serverLr: 1 }), ctxOf(global), results);
    expectClose(out.weights, [1.7, -0.5]);
    expect(out.weights).toBeInstanceOf(Float32Array);
    expect(out.state).toEqual({});
    expect(out.contributors).toEqual(['a', 'b', 'c']);
  });

  test('moves serverLr of the way towards the mean (serverLr 0.5)', () => {
    const out = runRound(fedAvg({ serverLr: 0.5 }), ctxOf(global), results);
    expectClose(out.weights, [1.35, -0.75]);
  });

  test('reports sites, examples, failures, norms and example-weighted client metrics', () => {
    const out = runRound(fedAvg({ serverLr: 0.5 }), ctxOf(global), results, [{ siteId: 'd', reason: 'timeout' }]);
    expect(out.metrics.sites).toBe(3);
    expect(out.metrics.examples).toBe(100);
    expect(out.metrics.failures).toBe(1);
    // loss reported by a (10 examples) and b (20): (10·1 + 20·4) / 30 = 3
    expect(out.metrics['client.loss']).toBeCloseTo(3, 12);
    expect(out.metrics.meanDeltaNorm).toBeCloseTo(Math.hypot(0.7, 0.5), 6);
    expect(out.metrics.updateNorm).toBeCloseTo(Math.hypot(0.35, 0.25), 6);
  });

  test('gives the same weights whatever the arrival order (within float tolerance)', () => {
    const update = fc.record({
      n: fc.integer({ min: 1, max: 10_000 }),
      w: fc.array(fc.float({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true }), {
        minLength: 5,
        maxLength: 5,
      }),
    });
    const updatesAndOrder = fc
      .array(update, { minLength: 1, maxLength: 8 })
      .chain((us) =>
        fc.tuple(fc.constant(us), fc.shuffledSubarray([...us.keys()], { minLength: us.length, maxLength: us.length })),
      );
    fc.assert(
      fc.property(updatesAndOrder, ([updates, order]) => {
        const rs = updates.map((u, i) => result(`s${i}`, u.n, u.w));
        const s = fedAvg({ serverLr: 1 });
        const a = runRound(s, ctxOf([0, 0, 0, 0, 0]), rs).weights;
        const b = runRound(
          s,
          ctxOf([0, 0, 0, 0, 0]),
          order.map((i) => rs[i]!),
        ).weights;
        return a.every((x, i) => Math.abs(x - b[i]!) <= 1e-6 * Math.max(1, Math.abs(x)));
      }),
      { numRuns: 100 },
    );
  });

  test('leaves a coordinate no site changed exactly where it was', () => {
    const g = [0.1, 12345.678, -3e-7];
    const out = runRound(fedAvg({ serverLr: 1 }), ctxOf(g), [
      result('a', 3, [0.1, 12345.678, 5]),
      result('b', 7, [0.1, 12345.678, -3e-7]),
    ]);
    expect(out.weights[0]).toBe(Math.fround(0.1));
    expect(out.weights[1]).toBe(Math.fround(12345.678));
  });
});

describe('FedProx and SCAFFOLD', () => {
  test('FedProx aggregates like FedAvg and sends mu to the sites', () => {
    const s = fedProx({ mu: 0.01, serverLr: 0.5 });
    expect(s.configureRound({ ...ctxOf(global), available: ['b', 'a'], minSites: 1 })).toEqual({
      selected: ['a', 'b'],
      clientConfig: { proximalMu: 0.01 },
    });
    expectClose(runRound(s, ctxOf(global), results).weights, [1.35, -0.75]);
  });

  test('SCAFFOLD applies serverLr to the weighted mean delta and sends serverLr to the sites', () => {
    const s = scaffold({ serverLr: 0.5 });
    expect(s.configureRound({ ...ctxOf(global), available: ['a'], minSites: 1 }).clientConfig).toEqual({
      scaffold: { serverLr: 0.5 },
    });
    expectClose(runRound(s, ctxOf(global), results).weights, [1.35, -0.75]);
  });
});

describe('selection', () => {
  const sites = ['s3', 's1', 's5', 's2', 's4', 's1'];
  const sel = (round: number, extra: { sitesPerRound?: number; seed?: number; minSites?: number } = {}) =>
    fedAvg({ serverLr: 1 }).configureRound({
      ...ctxOf([0], { round, seed: extra.seed ?? 1 }),
      available: sites,
      minSites: extra.minSites ?? 1,
      ...(extra.sitesPerRound ? { sitesPerRound: extra.sitesPerRound } : {}),
    });

  test('selects every available site, sorted and de-duplicated', () => {
    expect(sel(1).selected).toEqual(['s1', 's2', 's3', 's4', 's5']);
  });

  test('samples sitesPerRound sites reproducibly from (seed, round)', () => {
    const a = sel(3, { sitesPerRound: 2 }).selected;
    expect(a).toHaveLength(2);
    expect([...a].sort()).toEqual(a);
    expect(sel(3, { sitesPerRound: 2 }).selected).toEqual(a);
    const seen = new Set<string>();
    for (let r = 1; r <= 40; r++) for (const s of sel(r, { sitesPerRound: 2 }).selected) seen.add(s);
    expect(seen.size).toBe(5);
    const other = Array.from({ length: 10 }, (_, r) => sel(r + 1, { sitesPerRound: 2, seed: 2 }).selected.join());
    const mine = Array.from({ length: 10 }, (_, r) => sel(r + 1, { sitesPerRound: 2 }).selected.join());
    expect(other).not.toEqual(mine);
  });

  test('refuses to start a round below minSites', () => {
    expect(() => sel(1, { minSites: 6 })).toThrow(expect.objectContaining({ code: 'NOT_READY' }));
  });
});

describe('createStrategy', () => {
  test('builds every strategy the plan schema names', () => {
    const configs = [
      { name: 'fedavg', serverLr: 1 },
      { name: 'fedprox', mu: 0.01, serverLr: 1 },
      { name: 'scaffold', serverLr: 1 },
      { name: 'fedadam', serverLr: 0.01, beta1: 0.9, beta2: 0.999, tau: 1e-8 },
      { name: 'fedyogi', serverLr: 0.01, beta1: 0.9, beta2: 0.999, tau: 1e-8 },
      { name: 'fedadagrad', serverLr: 0.3, beta1: 0.9, beta2: 0.999, tau: 1e-8 },
      { name: 'cyclic', deterministic: false },
      { name: 'fedmedian' },
      { name: 'fedtrimmedavg', beta: 0.2 },
      { name: 'krum', byzantine: 0, multi: 1 },
      { name: 'geomed', maxIterations: 100, smoothing: 1e-6 },
      { name: 'centeredclip', radius: 0.05, iterations: 1 },
    ] as const;
    for (const c of configs) {
      const s = createStrategy(c);
      expect(s.name).toBe(c.name);
      const state = s.initialState(3);
      expect(s.decodeState(s.encodeState(state), 3)).toEqual(state);
    }
  });

  test('rejects hyperparameters outside their range', () => {
    let err: unknown;
    try {
      createStrategy({ name: 'fedtrimmedavg', beta: 0.5 });
    } catch (e) {
      err = e;
    }
    expect(isTwinfedError(err, 'INVALID_PLAN')).toBe(true);
  });
});
