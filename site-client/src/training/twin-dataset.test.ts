import { T_AT, seedTwins, twinTestPlan } from '../__tests__/twin-site';
import { MemoryTwinStore } from '../twins/memory-store';
import { DAY_MS } from '@twinfed/shared';
import { twinScenarioPlan } from '../simulate/plan';
import { lrWeights } from '../__tests__/twin-site';
import { scoreTwins } from '../scoring/score';
import {
  CONSTANT_COLUMN_STD,
  neutralizeConstantColumns,
  readTwins,
  stableTestPids,
  trainingPreprocessing,
  trainingSnapshot,
  TwinDatasetSource,
  twinLocalDataset,
} from './twin-dataset';

const plan = twinTestPlan();
const secret = new Uint8Array(32).fill(9);

describe('stableTestPids', () => {
  const pids = (label: number, n: number) => Array.from({ length: n }, (_, i) => `pid-${label}-${i}`);

  test('holds out about the fraction of each label, and nobody changes side when twins join or leave', () => {
    const byLabel = new Map([
      [0, pids(0, 400)],
      [1, pids(1, 60)],
    ]);
    const test = stableTestPids({ byLabel, testFraction: 0.25, seed: 7 });
    const share = (label: number, n: number) => [...test].filter((p) => p.startsWith(`pid-${label}-`)).length / n;
    expect(share(0, 400)).toBeGreaterThan(0.18);
    expect(share(0, 400)).toBeLessThan(0.32);
    expect(share(1, 60)).toBeGreaterThan(0.1);
    expect(share(1, 60)).toBeLessThan(0.4);
    for (const leaving of [pids(0, 400)[5]!, [...test][0]!]) {
      const fewer = new Map([...byLabel].map(([l, ps]) => [l, ps.filter((p) => p !== leaving)]));
      const after = stableTestPids({ byLabel: fewer, testFraction: 0.25, seed: 7 });
      expect([...after].sort()).toEqual([...test].filter((p) => p !== leaving).sort());
    }
    const more = stableTestPids({
      byLabel: new Map([
        [0, [...pids(0, 400), 'newcomer']],
        [1, pids(1, 60)],
      ]),
      testFraction: 0.25,
      seed: 7,
    });
    expect([...more].filter((p) => p !== 'newcomer').sort()).toEqual([...test].sort());
    expect(stableTestPids({ byLabel, testFraction: 0.25, seed: 8 })).not.toEqual(test);
  });

  test('keeps at least one twin of each label with two or more twins on each side', () => {
    const small = new Map([
      [0, pids(0, 50)],
      [1, pids(1, 2)],
      [2, pids(2, 1)],
    ]);
    for (const fraction of [0.001, 0.999]) {
      const test = stableTestPids({ byLabel: small, testFraction: fraction, seed: 1 });
      expect([...test].filter((p) => p.startsWith('pid-1-'))).toHaveLength(1);
    }
  });
});

describe('twin datasets', () => {
  test('enter only twins with a current training permit and a label; fill values come from the training rows', async () => {
    const store = new MemoryTwinStore({ secret });
    const pids = await seedTwins(store, 12);
    await store.apply([
      {
        type: 'consent',
        patient: { pid: pids[0]! },
        sourceId: 'withdraw',
        purpose: 'model-training',
        decision: 'deny',
        t: T_AT + 1,
      },
      { type: 'patient', hospitalId: 'UNLABELLED' },
      {
        type: 'consent',
        patient: { hospitalId: 'UNLABELLED' },
        sourceId: 'u',
        purpose: 'model-training',
        decision: 'permit',
        t: 0,
      },
    ]);
    const twins = await readTwins(store);
    const ds = twinLocalDataset({ twins, plan, at: T_AT, testFraction: 0.25, seed: 1 });
    expect(ds.excluded).toEqual({ consent: 1, unlabelled: 1 });
    expect([...ds.trainPids, ...ds.testPids].sort()).toEqual(pids.slice(1).sort());
    expect(ds.train.n + ds.test.n).toBe(11);
    expect(ds.features).toEqual(['age', 'rhr_mean_7d']);
    // rows are the raw derived values (normalisation none): age 34 + i, rhr 60 + i
    const inTrain = ds.trainPids.indexOf(pids[5]!);
    const [split, row] = inTrain >= 0 ? [ds.train, inTrain] : [ds.test, ds.testPids.indexOf(pids[5]!)];
    expect(Array.from(split.x.subarray(row * 2, row * 2 + 2))).toEqual([39, 65]);
    const pre = trainingPreprocessing(ds, plan);
    expect(pre.standardizer).toBeNull();
    expect(
      trainingPreprocessing(ds, twinTestPlan({ data: { ...plan.data, normalization: 'per-site' } })).standardizer!.mean,
    ).toHaveLength(2);
    // the statistics training used (e.g. the federation's pooled ones) win over the site's own
    const pooled = { mean: [60, 70], std: [10, 5] };
    expect(
      trainingPreprocessing(ds, twinTestPlan({ data: { ...plan.data, normalization: 'federated' } }), pooled)
        .standardizer,
    ).toEqual(pooled);
  });

  test('TwinDatasetSource returns the same object until the store changes', async () => {
    const store = new MemoryTwinStore({ secret });
    const pids = await seedTwins(store, 12);
    const source = new TwinDatasetSource({ store, at: T_AT, testFraction: 0.25, seed: 1 });
    const a = await source.load({ plan });
    expect(await source.load({ plan })).toBe(a);
    await store.apply([
      {
        type: 'consent',
        patient: { pid: pids[3]! },
        sourceId: 'w3',
        purpose: 'model-training',
        decision: 'deny',
        t: T_AT + 5,
      },
    ]);
    const b = await source.load({ plan });
    expect(b).not.toBe(a);
    expect([...b.trainPids, ...b.testPids]).not.toContain(pids[3]);
    expect(b.train.n + b.test.n).toBe(a.train.n + a.test.n - 1);
    // a change that derives the same rows (a code no feature reads) keeps the same object, so the trainer stays
    await store.apply([
      {
        type: 'observation',
        patient: { pid: pids[4]! },
        sourceId: 'bmi',
        code: '39156-5',
        t: T_AT - DAY_MS,
        value: 24,
        unit: 'kg/m2',
        source: 'fhir',
      },
    ]);
    expect(await source.load({ plan })).toBe(b);
  });

  test('a time-to-event dataset follows a record after the snapshot that moves a censoring time (x and y unchanged)', async () => {
    const store = new MemoryTwinStore({ secret });
    const pids = await seedTwins(store, 12);
    const tte = twinTestPlan({
      model: { kind: 'cox', inputs: 2, horizonDays: 30 },
      data: {
        ...plan.data,
        labelRule: {
          kind: 'time-to-event',
          conditionCodes: [{ system: 'snomed', codes: ['233604007'] }],
          horizonDays: 30,
        },
      },
    });
    const bmi = (i: number, days: number) => ({
      type: 'observation' as const,
      patient: { pid: pids[i]! },
      sourceId: `bmi:${i}:${days}`,
      code: '39156-5',
      t: T_AT + days * DAY_MS,
      value: 24,
      unit: 'kg/m2',
      source: 'fhir' as const,
    });
    await store.apply([
      ...pids.map((_, i) => bmi(i, 1 + i)),
      ...[0, 3, 6, 9].map((i) => ({
        type: 'condition' as const,
        patient: { pid: pids[i]! },
        sourceId: `pneumonia:${i}`,
        system: 'snomed' as const,
        code: '233604007',
        onset: T_AT + 0.5 * DAY_MS,
        abatement: null,
      })),
    ]);
    const source = new TwinDatasetSource({ store, at: T_AT, testFraction: 0.25, seed: 1 });
    const timeOf = (ds: Awaited<ReturnType<TwinDatasetSource['load']>>, pid: string) => {
      const k = ds.trainPids.indexOf(pid);
      return k >= 0 ? ds.train.time![k] : ds.test.time![ds.testPids.indexOf(pid)];
    };
    const a = await source.load({ plan: tte });
    expect([0, 1, 2, 3].map((i) => timeOf(a, pids[i]!))).toEqual([0.5, 2, 3, 0.5]);
    await store.apply([bmi(1, 20)]);
    const b = await source.load({ plan: tte });
    expect(b).not.toBe(a);
    expect(timeOf(b, pids[1]!)).toBe(20);
    expect(Array.from(b.train.x)).toEqual(Array.from(a.train.x));
    expect(Array.from(b.train.y)).toEqual(Array.from(a.train.y));
  });

  test('trains at now minus the label horizon by default, so the outcome window has passed', async () => {
    const now = Date.UTC(2025, 5, 1);
    const scenario = twinScenarioPlan();
    expect(trainingSnapshot(scenario, now)).toBe(now - 30 * DAY_MS);
    expect(trainingSnapshot(plan, now)).toBe(now); // stored labels
    const source = new TwinDatasetSource({
      store: new MemoryTwinStore({ secret }),
      now: () => now,
      testFraction: 0.3,
      seed: 1,
    });
    expect(source.snapshotTime(scenario)).toBe(now - 30 * DAY_MS);
  });
});

describe('neutralizeConstantColumns', () => {
  test('keeps a column that was constant in training at z = 0 when a twin later has data for it', async () => {
    const pre = neutralizeConstantColumns({ fill: [50, 70], standardizer: { mean: [50, 70], std: [12, 0] } });
    expect(pre.standardizer!.std).toEqual([12, CONSTANT_COLUMN_STD]);
    const store = new MemoryTwinStore({ secret });
    const [p0] = await seedTwins(store, 1); // age 34, resting heart rate 60
    const perSite = twinTestPlan({ data: { ...plan.data, normalization: 'per-site' } });
    const [s] = await scoreTwins({
      twins: [(await store.getTwin(p0!))!],
      plan: perSite,
      weights: lrWeights(perSite, [1, 1], 0),
      versionId: 'v1',
      at: T_AT,
      top: 2,
      preprocessing: pre,
    });
    const rhr = s!.contributions.find((c) => c.feature === 'rhr_mean_7d')!;
    expect(Math.abs(rhr.contribution)).toBeLessThan(1e-200);
    expect(s!.contributions.find((c) => c.feature === 'age')!.contribution).toBeCloseTo((34 - 50) / 12, 6);
    expect(neutralizeConstantColumns({ fill: [1], standardizer: null })).toEqual({ fill: [1], standardizer: null });
  });
});
