import { DataSchema, DAY_MS, LabelDerivationSchema } from '@twinfed/shared';
import { trainingSnapshot, twinLocalDataset } from '../training/twin-dataset';
import { AT, day, derivation, obs, twin } from './__tests__/builders';
import { buildDataset } from './dataset';
import { deriveOutcome } from './label';

const PNEUMONIA = [{ system: 'snomed' as const, codes: ['233604007'] }];
const RHR = '40443-4';
const rule = LabelDerivationSchema.parse({ kind: 'time-to-event', conditionCodes: PNEUMONIA, horizonDays: 30 });
const onset = (t: number | null, abatement: number | null = null) => ({
  system: 'snomed' as const,
  code: '233604007',
  onset: t,
  abatement,
});
/** A twin seen at `seen` days from AT (a resting heart rate), with the given conditions. */
const followed = (seen: number[], conditions: ReturnType<typeof onset>[] = []) =>
  twin({ observations: seen.map((d) => obs(RHR, d, 60)), conditions });

describe('time-to-event labels from twins', () => {
  test('an onset in (at, at + horizon] is an event at its day; the first one counts', () => {
    expect(deriveOutcome({ twin: followed([-3], [onset(day(12.5))]), rule, at: AT })).toEqual({ label: 1, time: 12.5 });
    expect(deriveOutcome({ twin: followed([], [onset(day(20)), onset(day(4))]), rule, at: AT })).toEqual({
      label: 1,
      time: 4,
    });
    expect(deriveOutcome({ twin: followed([], [onset(day(30))]), rule, at: AT })).toEqual({ label: 1, time: 30 });
    // Another diagnosis does not count, but it is a record: the twin was seen on day 9.
    const other = { system: 'snomed' as const, code: '44054006', onset: day(9), abatement: null };
    expect(deriveOutcome({ twin: twin({ conditions: [other] }), rule, at: AT })).toEqual({ label: 0, time: 9 });
  });

  test('no onset: censored at the last record, or at the horizon when follow-up reaches it', () => {
    expect(deriveOutcome({ twin: followed([-5, 3, 11]), rule, at: AT })).toEqual({ label: 0, time: 11 });
    expect(deriveOutcome({ twin: followed([-5, 3, 45]), rule, at: AT })).toEqual({ label: 0, time: 30 });
    const immunized = twin({ immunizations: [{ cvx: '158', t: day(7) }], exposures: [{ kind: 'x', t: day(2) }] });
    expect(deriveOutcome({ twin: immunized, rule, at: AT })).toEqual({ label: 0, time: 7 });
  });

  test('an onset after the horizon is censored at the horizon (its record shows follow-up that long)', () => {
    expect(deriveOutcome({ twin: followed([1], [onset(day(30) + 1)]), rule, at: AT })).toEqual({ label: 0, time: 30 });
    expect(deriveOutcome({ twin: followed([1], [onset(day(31))]), rule, at: AT })).toEqual({ label: 0, time: 30 });
  });

  test('an onset at or before the snapshot leaves the twin out, unless excludePrior is false', () => {
    expect(deriveOutcome({ twin: followed([5], [onset(AT)]), rule, at: AT })).toBeNull();
    expect(deriveOutcome({ twin: followed([5], [onset(day(-3))]), rule, at: AT })).toBeNull();
    expect(deriveOutcome({ twin: followed([5], [onset(null)]), rule, at: AT })).toBeNull();
    // Recovered before the snapshot: at risk again, and a new onset is an event.
    const recovered = followed([5], [onset(day(-90), day(-60)), onset(day(6))]);
    expect(deriveOutcome({ twin: recovered, rule, at: AT })).toEqual({ label: 1, time: 6 });
    const keep = { ...rule, excludePrior: false };
    expect(deriveOutcome({ twin: followed([5], [onset(day(-3))]), rule: keep, at: AT })).toEqual({ label: 0, time: 5 });
  });

  test('missing observations: a twin with no record after the snapshot was not followed up and gets no label', () => {
    expect(deriveOutcome({ twin: twin(), rule, at: AT })).toBeNull();
    expect(deriveOutcome({ twin: followed([-10, 0]), rule, at: AT })).toBeNull(); // the last one at the snapshot itself
    // Consent decisions are not follow-up.
    const consented = twin({ consent: [{ purpose: 'model-training', decision: 'permit', t: day(5) }] });
    expect(deriveOutcome({ twin: consented, rule, at: AT })).toBeNull();
  });

  test('the binary rule on the same twins still labels 0/1 without times', () => {
    const binary = LabelDerivationSchema.parse({ kind: 'condition-onset', conditionCodes: PNEUMONIA, horizonDays: 30 });
    expect(deriveOutcome({ twin: twin(), rule: binary, at: AT })).toEqual({ label: 0 });
    expect(deriveOutcome({ twin: followed([], [onset(day(2))]), rule: binary, at: AT })).toEqual({ label: 1 });
  });

  test('the training snapshot lies the horizon before the clock, as for binary onsets', () => {
    const data = DataSchema.parse({
      features: ['rhr'],
      derive: [{ name: 'rhr', kind: 'latest', source: { loinc: [RHR] }, unit: '/min' }],
      labelRule: { kind: 'time-to-event', conditionCodes: PNEUMONIA, horizonDays: 30 },
    });
    expect(trainingSnapshot({ data }, AT)).toBe(AT - 30 * DAY_MS);
  });
});

describe('time-to-event datasets', () => {
  const data = DataSchema.parse({
    features: ['rhr'],
    derive: [derivation({ name: 'rhr', kind: 'latest', source: { loinc: [RHR] }, unit: '/min' })],
    labelRule: { kind: 'time-to-event', conditionCodes: PNEUMONIA, horizonDays: 30 },
  });
  const twins = [
    twin({ pid: 'a', observations: [obs(RHR, -1, 80), obs(RHR, 40, 81)] }), // censored at 30
    twin({ pid: 'b', observations: [obs(RHR, -1, 60)], conditions: [onset(day(3))] }), // event on day 3
    twin({ pid: 'c', observations: [obs(RHR, -2, 70)] }), // not followed up: out
    twin({ pid: 'd', observations: [obs(RHR, -1, 65), obs(RHR, 8, 66)] }), // censored on day 8
    twin({ pid: 'e', observations: [obs(RHR, 2, 90)], conditions: [onset(day(-5))] }), // ill at the snapshot: out
  ];

  test('rows carry the event indicator in y and the days in time; unlabelled twins are counted', () => {
    const ds = buildDataset({ twins, plan: { data }, at: AT });
    expect(ds.pids).toEqual(['a', 'b', 'd']);
    expect(Array.from(ds.y)).toEqual([0, 1, 0]);
    expect(Array.from(ds.time!)).toEqual([30, 3, 8]);
    expect(Array.from(ds.x)).toEqual([80, 60, 65]); // features only up to the snapshot
    expect(ds.excluded).toEqual({ consent: 0, unlabelled: 2 });
  });

  test('the train/test split keeps each row’s time with it', () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      twin({
        pid: `p${i}`,
        observations: [obs(RHR, -1, 50 + i), obs(RHR, 1 + (i % 29), 50)],
        conditions: i % 4 === 0 ? [onset(day(0.5 + (i % 7)))] : [],
      }),
    );
    const ds = twinLocalDataset({ twins: many, plan: { data }, at: AT, testFraction: 0.3, seed: 1 });
    const expected = (pid: string) => {
      const i = Number(pid.slice(1));
      return i % 4 === 0 ? 0.5 + (i % 7) : 1 + (i % 29);
    };
    expect(ds.train.n + ds.test.n).toBe(40);
    expect(Array.from(ds.train.time!)).toEqual(ds.trainPids.map(expected));
    expect(Array.from(ds.test.time!)).toEqual(ds.testPids.map(expected));
    expect(Array.from(ds.test.x)).toEqual(ds.testPids.map((p) => 50 + Number(p.slice(1))));
  });
});
