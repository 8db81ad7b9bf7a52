import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PopulationReportSchema, TwinfedError, type Plan, type PopulationReport } from '@twinfed/shared';
import { FakeCoordinator, testEnrollment } from '../__tests__/fake-coordinator';
import { APPROVE_EVERY_PLAN, fakeModelOps, siteRecords } from '../__tests__/fixtures';
import { T_AT, lrWeights, seedTwins, twinTestPlan } from '../__tests__/twin-site';
import { seededUniform } from '../population/noise';
import { MemoryTwinStore } from '../twins/memory-store';
import type { DatasetSource } from './dataset-source';
import { ModelStore } from './model-store';
import { PopulationOutbox, type PopulationApi } from './population-outbox';
import type { RunnerProgress } from './progress';
import { SiteRunner } from './runner';
import { TwinDatasetSource } from './twin-dataset';
import { twinVersionHook } from './twin-publisher';
import type { StoredModel } from './model-store';
import type { TwinLocalDataset } from '../features/dataset';

async function setup(plan: Plan, n = 20) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-twin-runner-'));
  const coordinator = new FakeCoordinator(plan);
  const enrollment = testEnrollment(coordinator.identity);
  coordinator.trust(enrollment);
  const store = new MemoryTwinStore({ secret: new Uint8Array(32).fill(1) });
  const pids = await seedTwins(store, n);
  return { dir, coordinator, enrollment, store, pids };
}

/** A runner over the twin store whose version hook scores the twins and posts population reports to `api`; progress events collected. */
function twinRunner(
  { dir, coordinator, enrollment, store }: Awaited<ReturnType<typeof setup>>,
  api: PopulationApi,
  onModel?: (m: StoredModel) => void,
) {
  const models = new ModelStore(dir, coordinator.identity.sign.publicKey);
  const afterVersion = twinVersionHook({
    federationId: 'fed-1',
    store,
    models,
    outbox: PopulationOutbox.open(dir),
    api,
    at: T_AT,
    rng: seededUniform(1),
    ...(onModel ? { onModel } : {}),
  });
  const events: RunnerProgress[] = [];
  const runner = new SiteRunner({
    federationId: 'fed-1',
    enrollment,
    api: coordinator,
    datasetSource: new TwinDatasetSource({ store, at: T_AT, testFraction: 0.25, seed: 3 }),
    afterVersion,
    ...siteRecords(dir),
    policy: APPROVE_EVERY_PLAN,
    pollIntervalMs: 10,
    modelOps: fakeModelOps(),
    onProgress: (e) => events.push(e),
  });
  return { runner, models, events };
}

describe('SiteRunner over the twin store', () => {
  test('rebuilds the training set every round: a consent withdrawn after round 1 is absent from round 2’s training data', async () => {
    const plan = twinTestPlan({ rounds: 3 });
    const { dir, coordinator, enrollment, store } = await setup(plan);
    const inner = new TwinDatasetSource({ store, at: T_AT, testFraction: 0.25, seed: 3 });
    const loaded: Array<{ round: number | null; dataset: TwinLocalDataset }> = [];
    let withdrawn: string | undefined;
    const source: DatasetSource = {
      async load(input) {
        if (input.round === 2 && !withdrawn) {
          withdrawn = loaded[0]!.dataset.trainPids[0]!; // a twin that trained in round 1 withdraws before round 2
          await store.apply([
            {
              type: 'consent',
              patient: { pid: withdrawn },
              sourceId: 'withdrawal',
              purpose: 'model-training',
              decision: 'deny',
              t: Date.now(),
            },
          ]);
        }
        const dataset = await inner.load(input);
        loaded.push({ round: input.round, dataset });
        return dataset;
      },
    };
    const ops = fakeModelOps();
    const events: RunnerProgress[] = [];
    const runner = new SiteRunner({
      federationId: 'fed-1',
      enrollment,
      api: coordinator,
      datasetSource: source,
      ...siteRecords(dir),
      policy: APPROVE_EVERY_PLAN,
      pollIntervalMs: 10,
      modelOps: ops,
      onProgress: (e) => events.push(e),
    });
    const summary = await runner.run();
    expect(summary.roundsUploaded).toEqual([1, 2, 3]);
    // The withdrawn twin's row (its age, 34 + i, is unique; no normalisation) is in the first trainer's data and not in the next.
    const twin = (await store.getTwin(withdrawn!))!;
    const age = 2024 - Number(twin.birthDate!.slice(0, 4)) - 1;
    const ages = (i: number) => Array.from({ length: ops.trainData[i]!.n }, (_, r) => ops.trainData[i]!.x[r * 2]);
    expect(ops.trainData).toHaveLength(2); // one trainer for round 1, a new one when the data changed
    expect(ages(0)).toContain(age);
    expect(ages(1)).not.toContain(age);
    expect(ops.trainData[1]!.n).toBe(ops.trainData[0]!.n - 1);
    expect(coordinator.updates.map((u) => u.numExamples)).toEqual([
      ops.trainData[0]!.n,
      ops.trainData[1]!.n,
      ops.trainData[1]!.n,
    ]);
    expect(
      loaded
        .filter((l) => l.round === 2)
        .every((l) => !l.dataset.trainPids.includes(withdrawn!) && !l.dataset.testPids.includes(withdrawn!)),
    ).toBe(true);
    expect(events).toContainEqual({
      type: 'dataset',
      round: 2,
      trainRows: ops.trainData[1]!.n,
      testRows: expect.any(Number),
    });
  });

  test('after each published version: stores it, scores the twins and sends one k-anonymous population report (retried unchanged)', async () => {
    const plan = twinTestPlan({
      rounds: 2,
      data: { ...twinTestPlan().data, population: { k: 5, ageBands: [45, 65] } },
    });
    const site = await setup(plan);
    const { dir, coordinator } = site;
    coordinator.aggregate = () => lrWeights(plan, [0.05, 0], -2); // score = σ(0.05·age − 2): ages 34–48 medium, 49–53 high
    const posted: PopulationReport[] = [];
    let failures = 1;
    const api: PopulationApi = {
      async postPopulationReport({ report }) {
        posted.push(JSON.parse(JSON.stringify(report)) as PopulationReport);
        if (failures-- > 0) throw new TwinfedError('OVERLOADED');
      },
    };
    const active: StoredModel[] = [];
    const { runner, models, events } = twinRunner(site, api, (m) => active.push(m));
    await runner.run();
    // v0 (untrained) is not reported; v1 twice (the first attempt failed, the retry sends the very same report,
    // even though v2 was out by then); v2 once
    expect(posted.map((r) => r.versionId).sort()).toEqual(['v1', 'v1', 'v2']);
    const v1 = posted.filter((r) => r.versionId === 'v1');
    expect(v1[1]).toEqual(v1[0]);
    for (const r of posted) {
      expect(PopulationReportSchema.safeParse(r).success).toBe(true);
      const released = [
        ...r.cells.map((c) => c.count),
        r.totals.all,
        ...r.totals.byTier.map((t) => t.count),
        ...r.totals.byAgeBand.map((b) => b.count),
      ];
      for (const count of released) if (count !== null) expect(count).toBeGreaterThanOrEqual(5);
      expect(r.cells.find((c) => c.tier === 'medium' && c.ageBand === '45-64')!.count).toBeNull(); // 4 twins (ages 45–48) < k
      // Medium is 11 (ages 0–44) + 4: releasing the 11 beside the row total 15 would give away the hidden 4.
      const medium = r.totals.byTier.find((t) => t.tier === 'medium')!.count;
      const releasedMedium = r.cells.filter((c) => c.tier === 'medium').reduce((s, c) => s + (c.count ?? 0), 0);
      if (medium !== null) expect(medium - releasedMedium === 0 || medium - releasedMedium >= 5).toBe(true);
      expect(r.suppressedCells).toBeGreaterThan(0);
    }
    expect(events).toContainEqual({ type: 'scored', versionId: 'v1', twins: 20, byTier: { medium: 15, high: 5 } });
    expect(
      events
        .filter((e) => e.type === 'population' && e.status === 'sent')
        .map((e) => (e as { versionId: string }).versionId)
        .sort(),
    ).toEqual(['v1', 'v2']);
    expect(models.load('fed-1')!.meta.versionId).toBe('v2');
    expect(active.map((m) => m.meta.versionId)).toEqual(['v1', 'v2']);
    // A restarted site does not report again: the outbox remembers what was sent.
    expect(PopulationOutbox.open(dir).get('v2')).toEqual({
      report: posted.find((r) => r.versionId === 'v2'),
      sent: true,
    });
  });
  test('stops like the runner when the coordinator answers a population report with SITE_REVOKED (no retry, no later report)', async () => {
    const plan = twinTestPlan({
      rounds: 2,
      data: { ...twinTestPlan().data, population: { k: 5, ageBands: [45, 65] } },
    });
    const site = await setup(plan);
    const posted: string[] = [];
    const api: PopulationApi = {
      async postPopulationReport({ report }) {
        posted.push(report.versionId);
        throw new TwinfedError('SITE_REVOKED');
      },
    };
    const { runner, events } = twinRunner(site, api);
    await expect(runner.run()).rejects.toMatchObject({ code: 'SITE_REVOKED' });
    expect(posted).toEqual(['v1']);
    expect(events.filter((e) => e.type === 'warning' && e.code === 'SITE_REVOKED')).toEqual([]);
  });
});
