import { cIndex } from '@twinfed/models/c-index';
import { DAY_MS } from '@twinfed/shared';
import { twinLocalDataset } from '../training/twin-dataset';
import { generateCohort } from './cohort';
import { LOST_TO_FOLLOW_UP } from './follow-up';
import { susceptibilityLogit } from './ground-truth';
import { twinScenarioCoxPlan } from './plan';
import { cohortTwins } from './twins';

const START = '2024-01-01T00:00:00Z';
const cohort = (followUpDays?: number) =>
  generateCohort({
    patients: 800,
    profile: 'rural-elderly',
    seed: 3,
    start: START,
    days: 28,
    ...(followUpDays !== undefined ? { followUpDays } : {}),
  });

describe('simulated follow-up after the snapshot', () => {
  const before = cohort();
  const after = cohort(30);

  test('leaves every record before the snapshot as it was, and adds contacts after it', () => {
    expect(cohort(0)).toEqual(before);
    after.patients.forEach((p, i) => {
      const b = before.patients[i]!;
      expect(p.observations.filter((o) => o.t <= after.at)).toEqual(b.observations);
      const contacts = p.observations.filter((o) => o.t > after.at);
      expect(contacts.length).toBeGreaterThanOrEqual(1);
      expect(Math.max(...contacts.map((o) => o.t))).toBe(p.truth.followedUntil);
      expect(p.truth.followedUntil! - after.at).toBeLessThanOrEqual(30 * DAY_MS);
    });
    const lost = after.patients.filter((p) => p.truth.followedUntil! < after.at + 30 * DAY_MS).length;
    expect(lost / after.patients.length).toBeGreaterThan(LOST_TO_FOLLOW_UP - 0.06);
    expect(lost / after.patients.length).toBeLessThan(LOST_TO_FOLLOW_UP + 0.06);
    expect(() => cohort(-1)).toThrow(/follow-up days/);
  });

  test('an outcome after the last contact is not recorded; one before it is', () => {
    let unrecorded = 0;
    for (const p of after.patients) {
      const recorded = p.conditions.some((c) => c.key === 'pneumonia' && c.onset > after.at);
      const due = p.truth.outcomeAt !== null && p.truth.outcomeAt <= p.truth.followedUntil!;
      expect(recorded).toBe(due);
      if (p.truth.outcome && !due) unrecorded++;
    }
    expect(unrecorded).toBeGreaterThan(0);
  });

  test('time-to-event labels derived from the twins: events at the onset day, censoring at the last contact, ordered by the true risk', () => {
    const plan = twinScenarioCoxPlan();
    const ds = twinLocalDataset({ twins: cohortTwins(after), plan, at: after.at, testFraction: 0.3, seed: 1 });
    const rows = [ds.train, ds.test];
    const time = rows.flatMap((s) => Array.from(s.time!));
    const event = rows.flatMap((s) => Array.from(s.y));
    expect(time.every((t) => t > 0 && t <= 30)).toBe(true);
    const censoredEarly = time.filter((t, i) => event[i] === 0 && t < 29.99).length;
    expect(censoredEarly).toBeGreaterThan(0.1 * time.length);
    expect(event.filter((e) => e === 1).length).toBeGreaterThan(10);
    // The documented ground truth ranks the derived times well: the labels carry the signal a model should learn.
    const byPid = new Map(cohortTwins(after).map((t, i) => [t.pid, after.patients[i]!]));
    const pids = [...ds.trainPids, ...ds.testPids];
    const risk = pids.map((pid) => susceptibilityLogit(byPid.get(pid)!.truth.inputs));
    expect(cIndex({ risk, time, event })).toBeGreaterThan(0.7);
  });
});
