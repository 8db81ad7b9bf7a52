import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type StatsAck, type StatsContribution, type StatsSession } from '@twinfed/shared';
import { FakeCoordinator, TEST_FEATURES, testEnrollment, testPlan } from '../__tests__/fake-coordinator';
import { APPROVE_EVERY_PLAN, fakeModelOps, siteRecords, syntheticDataset } from '../__tests__/fixtures';
import type { LocalDataset } from './dataset';
import type { DatasetSource } from './dataset-source';
import type { RunnerProgress } from './progress';
import { SiteRunner } from './runner';

/** The fake coordinator with the secure-sum calls, recording them (a contribution would be a leak here). */
class RecordingCoordinator extends FakeCoordinator {
  async statsSession(federationId: string): Promise<StatsSession> {
    this.calls.push('statsSession');
    return { federationId, length: 7, fractionBits: 16, cohort: [], contributed: [], sum: null };
  }
  async contributeStats(opts: { federationId: string; contribution: StatsContribution }): Promise<StatsAck> {
    this.calls.push('contributeStats');
    return { federationId: opts.federationId, siteId: 'site-a', status: 'accepted', contributed: 1, cohort: 2 };
  }
}

function run(coordinator: FakeCoordinator, data: { dataset?: LocalDataset; datasetSource?: DatasetSource }) {
  const enrollment = testEnrollment(coordinator.identity);
  coordinator.trust(enrollment);
  const events: RunnerProgress[] = [];
  const ops = fakeModelOps();
  const runner = new SiteRunner({
    federationId: coordinator.federationId,
    enrollment,
    api: coordinator,
    ...data,
    modelOps: ops,
    pollIntervalMs: 10,
    ...siteRecords(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-refusal-'))),
    policy: APPROVE_EVERY_PLAN,
    onProgress: (e) => events.push(e),
  });
  return { promise: runner.run(), events, ops };
}

const singleClass = (): LocalDataset => {
  const ds = syntheticDataset();
  return { ...ds, train: { ...ds.train, y: ds.train.y.map(() => 0) }, test: { ...ds.test, y: ds.test.y.map(() => 0) } };
};

describe('a site refused by its data guardrails sends nothing', () => {
  test.each([
    [
      'too few rows',
      { data: { features: TEST_FEATURES, normalization: 'federated' as const, minExamplesPerSite: 41 } },
      syntheticDataset,
      'DATA_TOO_FEW_ROWS',
    ],
    [
      'single class',
      { data: { features: TEST_FEATURES, normalization: 'federated' as const } },
      singleClass,
      'DATA_SINGLE_CLASS',
    ],
  ])(
    '%s: the run ends with the error; no stats contribution, no model fetch, no upload, no evaluation',
    async (_name, over, data, code) => {
      const coordinator = new RecordingCoordinator(testPlan(over));
      const { promise, events, ops } = run(coordinator, { dataset: data() });
      await expect(promise).rejects.toMatchObject({ code });
      expect(coordinator.calls.every((c) => c === 'currentRound')).toBe(true);
      expect(coordinator.updates).toHaveLength(0);
      expect(coordinator.evaluations).toHaveLength(0);
      expect(ops.trainCalls).toBe(0);
      expect(events.some((e) => e.type === 'started')).toBe(false);
    },
  );

  test('a dataset source (the twin store) whose data turn single-class at round 2 stops the site before it trains or evaluates again', async () => {
    const coordinator = new FakeCoordinator(testPlan({ rounds: 3 }));
    const good = syntheticDataset();
    let bad = false;
    const source: DatasetSource = {
      load: async (input) => {
        if (input.round === 2 && !bad) {
          bad = true;
          coordinator.calls.push('load:2');
        }
        return bad ? singleClass() : good;
      },
    };
    const { promise, ops } = run(coordinator, { datasetSource: source });
    await expect(promise).rejects.toMatchObject({ code: 'DATA_SINGLE_CLASS' });
    expect(coordinator.updates.map((u) => u.round)).toEqual([1]);
    expect(ops.trainCalls).toBe(1);
    // round 2's data were refused before training: nothing was uploaded or evaluated after they were loaded
    const after = coordinator.calls.slice(coordinator.calls.indexOf('load:2'));
    expect(after[0]).toBe('load:2');
    expect(after.filter((c) => c.startsWith('evaluate:') || c.startsWith('upload:'))).toEqual([]);
  });
});
