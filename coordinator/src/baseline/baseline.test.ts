/**
 * A Cox federation's last step on the coordinator: after its last round it waits for the cohort's masked baseline
 * vectors, publishes the signed baseline version once all are in (the pooled Breslow estimator on the grid, learned
 * only from the sum), and ends without a baseline at the deadline when a site never contributes.
 */
import {
  baselineContext,
  baselineFromSums,
  baselineGrid,
  baselineVector,
  maskContribution,
  verifyModelVersion,
  type PlanInput,
} from '@twinfed/shared';
import { engineFixture, type FixtureSite } from '../rounds/__tests__/engine-fixture';
import type { RoundEngine } from '../rounds/engine';
import { baselineSession, contributeBaseline } from './session';

const coxPlan = (): PlanInput => ({
  name: 'cox baseline',
  model: { kind: 'cox', inputs: 3, horizonDays: 5 },
  data: { features: ['a', 'b', 'c'], label: 'event' },
  strategy: { name: 'fedavg' },
  training: { steps: 1 },
  rounds: 1,
  minSites: 3,
  roundDeadlineSeconds: 60,
});

// Each site's rows (time, event, η): ties, censoring, a time beyond the horizon.
const ROWS = [
  [
    [1, 1, 0.2],
    [2, 0, -0.1],
    [3, 1, 0.5],
  ],
  [
    [2, 1, 0],
    [2, 1, 0.3],
    [7, 0, -0.4],
  ],
  [
    [1, 0, 0.1],
    [4, 1, -0.2],
    [5, 1, 0.9],
  ],
];
const grid = baselineGrid({ horizonDays: 5 });
const vectorOf = (i: number) =>
  baselineVector(
    { time: ROWS[i]!.map((r) => r[0]!), event: ROWS[i]!.map((r) => r[1]!), eta: ROWS[i]!.map((r) => r[2]!) },
    grid,
  );

async function setup() {
  let now = Date.parse('2026-03-01T00:00:00.000Z');
  const fx = await engineFixture({ sites: 3 });
  const e = fx.engine({ deps: { now: () => now } });
  const fed = await e.createFederation(coxPlan(), 'test');
  for (const s of fx.sites) await fx.upload(e, fed.id, s); // the one round: published once all three are in
  const contribute = async (engine: RoundEngine, site: FixtureSite) => {
    const session = await baselineSession(fx.store, fed.id, engine.directory, now);
    const masked = maskContribution({
      values: vectorOf(site.index),
      siteId: site.id,
      boxSecretKey: site.identity.box.secretKey,
      cohort: session.cohort.map((m) => ({ siteId: m.siteId, boxPublicKey: Buffer.from(m.boxPublicKey, 'base64') })),
      context: baselineContext(fed.id, session.versionId),
    });
    const ack = await contributeBaseline({ store: fx.store, federationId: fed.id, siteId: site.id, masked, now });
    await engine.baselineContributed(fed.id);
    return ack;
  };
  return { fx, e, fid: fed.id, contribute, advance: (ms: number) => (now += ms), now: () => now };
}

describe('the federated baseline phase of a Cox federation', () => {
  test('waits after the last round, then signs the pooled grid baseline into <final>.baseline and ends', async () => {
    const { fx, e, fid, contribute, now } = await setup();
    expect((await fx.store.getFederation(fid))!.state).toBe('running');
    const session = await baselineSession(fx.store, fid, e.directory, now());
    expect(session).toMatchObject({ versionId: `${fid}.v1`, state: 'collecting', grid, sum: null, contributed: [] });
    expect(session.cohort.map((m) => m.siteId)).toEqual(['site-a', 'site-b', 'site-c']);

    expect(await contribute(e, fx.sites[0]!)).toMatchObject({ status: 'accepted', contributed: 1, cohort: 3 });
    expect(await contribute(e, fx.sites[0]!)).toMatchObject({ status: 'duplicate' });
    await contribute(e, fx.sites[1]!);
    expect((await fx.store.getFederation(fid))!.state).toBe('running');
    await contribute(e, fx.sites[2]!);

    const fed = (await fx.store.getFederation(fid))!;
    expect(fed).toMatchObject({ state: 'completed', latestVersionId: `${fid}.v1.baseline` });
    const version = (await fx.store.getVersion(`${fid}.v1.baseline`))!;
    const meta = verifyModelVersion({
      meta: version.meta,
      signature: version.signature,
      weightsBytes: (await fx.store.getVersionWeights(`${fid}.v1.baseline`))!,
      coordinatorSignPublicKey: fx.identity.sign.publicKey,
    });
    expect(meta).toMatchObject({ parentVersionId: `${fid}.v1`, round: 1 });
    expect(meta.weightsSha256).toBe((await fx.store.getVersion(`${fid}.v1`))!.weightsSha256);
    const pooled = baselineFromSums(
      vectorOf(0).map((v, k) => v + vectorOf(1)[k]! + vectorOf(2)[k]!),
      grid,
    );
    expect(meta.coxBaseline).toMatchObject({ etaVersionId: `${fid}.v1`, times: grid, sites: 3, events: 6 });
    meta.coxBaseline!.cumulativeHazard.forEach((h, k) => expect(h).toBeCloseTo(pooled.cumulativeHazard[k]!, 5));
    expect((await baselineSession(fx.store, fid, e.directory, now())).state).toBe('published');
    e.close();
  });

  test('a site that never contributes does not block: at the deadline the federation ends without a baseline', async () => {
    const { fx, e, fid, contribute, advance, now } = await setup();
    await contribute(e, fx.sites[0]!);
    await contribute(e, fx.sites[1]!);
    advance(61_000);
    await e.baselineContributed(fid); // what the deadline timer runs (openNext), without waiting a minute
    const fed = (await fx.store.getFederation(fid))!;
    expect(fed).toMatchObject({ state: 'completed', latestVersionId: `${fid}.v1` });
    expect(await fx.store.getVersion(`${fid}.v1.baseline`)).toBeNull();
    const audit = (await fx.store.listAudit({ limit: 100 })).filter((a) => a.action === 'baseline.failed');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).toMatchObject({ contributed: 2, cohort: 3 });
    expect((await baselineSession(fx.store, fid, e.directory, now())).state).toBe('failed');
    await expect(
      contributeBaseline({
        store: fx.store,
        federationId: fid,
        siteId: 'site-c',
        masked: new Uint8Array(80),
        now: now(),
      }),
    ).rejects.toMatchObject({ code: 'FEDERATION_NOT_RUNNING' });
    e.close();
  });

  test('the deadline is a timer: it ends the federation with no one calling', async () => {
    const { fx, e, fid, contribute, advance } = await setup();
    await contribute(e, fx.sites[0]!);
    advance(59_950);
    await contribute(e, fx.sites[1]!); // re-arms the federation's timer for the 50 ms left
    advance(100);
    const until = Date.now() + 5000;
    while ((await fx.store.getFederation(fid))!.state === 'running' && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    expect((await fx.store.getFederation(fid))!).toMatchObject({ state: 'completed', latestVersionId: `${fid}.v1` });
    e.close();
  });

  test('a restarted coordinator resumes the phase from the store and publishes once the last vector arrives', async () => {
    const { fx, e, fid, contribute, now } = await setup();
    await contribute(e, fx.sites[0]!);
    await contribute(e, fx.sites[1]!);
    e.close();
    const second = fx.engine({ deps: { now } });
    await second.resume();
    expect((await fx.store.getFederation(fid))!.state).toBe('running');
    await contribute(second, fx.sites[2]!);
    expect((await fx.store.getFederation(fid))!).toMatchObject({
      state: 'completed',
      latestVersionId: `${fid}.v1.baseline`,
    });
    second.close();
  });

  test('refuses a site outside the cohort, a vector of the wrong length, and a plan that is not Cox', async () => {
    const { fx, e, fid, now } = await setup();
    await expect(
      contributeBaseline({
        store: fx.store,
        federationId: fid,
        siteId: 'site-z',
        masked: new Uint8Array(80),
        now: now(),
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      contributeBaseline({
        store: fx.store,
        federationId: fid,
        siteId: 'site-a',
        masked: new Uint8Array(8),
        now: now(),
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const other = await e.createFederation({ ...coxPlan(), model: { kind: 'logistic-regression', inputs: 3 } }, 't');
    await expect(baselineSession(fx.store, other.id, e.directory, now())).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    e.close();
  });
});
