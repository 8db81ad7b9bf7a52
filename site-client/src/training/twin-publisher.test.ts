import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DataSchema,
  ERROR_CODES,
  TwinfedError,
  clientBehaviour,
  layoutOf,
  planDigest,
  refusesRequest,
  type ErrorCode,
  type Plan,
  type PopulationReport,
} from '@twinfed/shared';
import { FakeCoordinator } from '../__tests__/fake-coordinator';
import { T_AT, lrWeights, seedTwins, twinTestPlan } from '../__tests__/twin-site';
import { seededUniform } from '../population/noise';
import { MemoryTwinStore } from '../twins/memory-store';
import { ModelStore } from './model-store';
import { PopulationOutbox, type PopulationApi } from './population-outbox';
import type { RunnerProgress } from './progress';
import { TwinDatasetSource } from './twin-dataset';
import { twinVersionHook } from './twin-publisher';
import { fetchVerifiedModel } from './verified-model';

async function setup(plan: Plan, api: PopulationApi, siteK?: () => number | undefined) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-publisher-'));
  const c = new FakeCoordinator(plan);
  c.publish({ versionId: 'v1', round: 1, weights: lrWeights(plan, [0.05, 0], -2), parent: 'v0' });
  const store = new MemoryTwinStore({ secret: new Uint8Array(32).fill(4) });
  await seedTwins(store, 20);
  const dataset = await new TwinDatasetSource({ store, at: T_AT, testFraction: 0.25, seed: 1 }).load({ plan });
  const models = new ModelStore(dir, c.identity.sign.publicKey);
  const hook = twinVersionHook({
    federationId: 'fed-1',
    store,
    models,
    outbox: PopulationOutbox.open(dir),
    api,
    at: T_AT,
    rng: seededUniform(2),
    ...(siteK ? { siteK } : {}),
  });
  const events: RunnerProgress[] = [];
  const call = async (versionId: string) => {
    const model = await fetchVerifiedModel({
      api: c,
      versionId,
      federationId: 'fed-1',
      coordinatorSignPublicKey: c.identity.sign.publicKey,
      expectedLayout: layoutOf(plan.model),
      planSha256: planDigest(plan),
    });
    await hook({
      versionId,
      model,
      plan,
      dataset,
      standardizer: null,
      signal: new AbortController().signal,
      emit: (e) => events.push(e),
    });
  };
  return { call, events, models, dir };
}

describe('twinVersionHook', () => {
  test('skips the untrained initial version and sends nothing when the plan has no population settings', async () => {
    const base = twinTestPlan();
    const { population: _p, ...data } = base.data;
    const plan = { ...base, data: DataSchema.parse(data) };
    const posted: PopulationReport[] = [];
    const { call, events, models } = await setup(plan, {
      postPopulationReport: async ({ report }) => void posted.push(report),
    });
    await call('v0');
    expect(models.load('fed-1')).toBeNull();
    expect(events).toEqual([]);
    await call('v1');
    expect(models.load('fed-1')!.meta.versionId).toBe('v1');
    expect(models.load('fed-1')!.preprocessing!.fill).toHaveLength(2);
    expect(posted).toEqual([]);
    expect(events).toEqual([
      { type: 'population', versionId: 'v1', status: 'skipped', reason: 'the plan has no population settings' },
    ]);
  });

  test("the site's own k floor (its policy, read when the report is made) raises the plan's k", async () => {
    const plan = twinTestPlan({ data: { ...twinTestPlan().data, population: { k: 3, ageBands: [45, 65] } } });
    const posted: PopulationReport[] = [];
    const api: PopulationApi = { postPopulationReport: async ({ report }) => void posted.push(report) };
    await (await setup(plan, api)).call('v1');
    await (await setup(plan, api, () => 20)).call('v1');
    await (await setup(plan, api, () => undefined)).call('v1');
    expect(posted.map((r) => r.k)).toEqual([3, 20, 3]);
    expect(posted[0]!.cells.some((c) => c.count !== null)).toBe(true); // 20 twins: some cell of at least 3
    expect(posted[1]!.cells.every((c) => c.count === null)).toBe(true); // none of at least 20 in one cell
  });

  test('a refusal (4xx) ends the attempt without throwing; a transient failure throws for the runner to retry; noise is drawn once', async () => {
    const plan = twinTestPlan({
      data: { ...twinTestPlan().data, population: { k: 3, epsilon: 0.5, ageBands: [45, 65] } },
    });
    let answer: TwinfedError | null = new TwinfedError('NETWORK');
    const posted: PopulationReport[] = [];
    const { call, events } = await setup(plan, {
      postPopulationReport: async ({ report }) => {
        posted.push(report);
        if (answer) throw answer;
      },
    });
    await expect(call('v1')).rejects.toMatchObject({ code: 'NETWORK' });
    answer = new TwinfedError('VALIDATION_FAILED', 'bad report');
    await call('v1');
    expect(posted).toHaveLength(2);
    expect(posted[1]).toEqual(posted[0]); // the same noisy draw, not a second one
    expect(posted[0]!.epsilon).toBe(0.5);
    expect(events.filter((e) => e.type === 'population')).toEqual([
      { type: 'population', versionId: 'v1', status: 'refused', reason: 'bad report [VALIDATION_FAILED]' },
    ]);
    answer = null;
    await call('v1');
    expect(posted).toHaveLength(3);
    await call('v1');
    expect(posted).toHaveLength(3); // sent: never again
    expect(events.filter((e) => e.type === 'population').map((e) => (e as { status: string }).status)).toEqual([
      'refused',
      'sent',
      'already-sent',
    ]);
  });
  // The error table decides, code by code: a refusal of this one report is reported; anything to retry or fatal (a
  // revoked site, an unknown federation) is thrown to the runner, which tries again at its next wake-up or stops.
  test.each(Object.keys(ERROR_CODES) as ErrorCode[])(
    'a report answered %s: refused, sent (ALREADY_EXISTS) or thrown, as the table says',
    async (code) => {
      const plan = twinTestPlan({
        data: { ...twinTestPlan().data, population: { k: 3, epsilon: 0.5, ageBands: [45, 65] } },
      });
      const { call, events } = await setup(plan, {
        postPopulationReport: async () => {
          throw new TwinfedError(code);
        },
      });
      const statuses = () => events.filter((e) => e.type === 'population').map((e) => (e as { status: string }).status);
      if (!refusesRequest(clientBehaviour(code))) {
        await expect(call('v1')).rejects.toMatchObject({ code });
        expect(statuses()).toEqual([]);
      } else {
        await call('v1');
        expect(statuses()).toEqual([code === 'ALREADY_EXISTS' ? 'sent' : 'refused']);
      }
    },
  );
});
