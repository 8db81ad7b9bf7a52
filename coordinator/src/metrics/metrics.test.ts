import { routes, signRequest, type CurrentRound } from '@twinfed/shared';
import {
  baseWeights,
  enrollTestSite,
  json,
  operator,
  startTestCoordinator,
  testPlan,
  type TestSite,
} from '../__tests__/harness';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

/** The `/metrics` text as the operator scrapes it. */
async function scrape(c: Coordinator): Promise<string> {
  const res = await operator(c, 'GET', '/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** One series' value in a scrape (`series` with its labels, exactly as exported); NaN when absent. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

/** Seals and uploads `site`'s update (its base weights moved by `shift`) for round 1; the HTTP status. */
async function upload(site: TestSite, fid: string, shift: number): Promise<number> {
  return send(site, fid, await sealed(site, fid, shift));
}

/** `site`'s sealed update for round 1: its base weights moved by `shift`. */
async function sealed(site: TestSite, fid: string, shift: number): Promise<Uint8Array> {
  const cur = await json<CurrentRound>(site.request('GET', routes.currentRound(fid)));
  const base = await baseWeights(site, cur.round!.baseVersionId);
  return site.seal({
    federationId: fid,
    round: 1,
    baseVersionId: cur.round!.baseVersionId,
    weights: { layout: base.layout, data: base.data.map((x) => x + shift) },
    numExamples: 5,
  });
}

/** Uploads `bytes` as `site` for round 1 to the coordinator at `url` (default: the one it enrolled with); the HTTP status. */
async function send(site: TestSite, fid: string, bytes: Uint8Array, url?: string): Promise<number> {
  if (url === undefined) return (await site.request('POST', routes.updates(fid, 1), bytes)).status;
  const p = routes.updates(fid, 1);
  const headers = {
    ...signRequest({
      method: 'POST',
      path: p,
      body: bytes,
      siteId: site.siteId,
      signSecretKey: site.identity.sign.secretKey,
    }),
    'content-type': 'application/octet-stream',
  };
  return (await fetch(url + p, { method: 'POST', headers, body: bytes })).status;
}

describe('/metrics (prom-client)', () => {
  let c: Coordinator;
  afterEach(async () => c.close());

  test('a real round observes the upload, verification, opening, round and aggregation histograms; process metrics are there', async () => {
    c = await startTestCoordinator();
    const sites = [await enrollTestSite(c, 'A'), await enrollTestSite(c, 'B')];
    const fid = (await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan: testPlan({ rounds: 1 }) })))
      .id;
    const before = await scrape(c);
    expect(value(before, 'twinfed_upload_duration_seconds_count')).toBe(0);
    expect(value(before, 'twinfed_update_verify_seconds_count')).toBe(0);
    // Garbage bytes: refused by the engine with a stable code, counted by it.
    expect((await sites[0]!.request('POST', routes.updates(fid, 1), new Uint8Array(64))).status).toBe(400);
    expect(await upload(sites[0]!, fid, 0.5)).toBe(201);
    expect(await upload(sites[1]!, fid, -0.5)).toBe(201);
    const after = await scrape(c);
    expect(value(after, 'twinfed_uploads_total{outcome="accepted"}')).toBe(2);
    expect(value(after, 'twinfed_uploads_total{outcome="rejected"}')).toBe(1);
    expect(value(after, 'twinfed_uploads_rejected_total{code="INVALID_ENVELOPE"}')).toBe(1);
    expect(value(after, 'twinfed_upload_duration_seconds_count')).toBe(3);
    expect(value(after, 'twinfed_update_verify_seconds_count')).toBe(2);
    expect(value(after, 'twinfed_update_open_seconds_count')).toBe(2);
    expect(value(after, 'twinfed_upload_duration_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(value(after, 'twinfed_rounds_total{outcome="published"}')).toBe(1);
    expect(value(after, 'twinfed_round_seconds_count{outcome="published"}')).toBe(1);
    expect(value(after, 'twinfed_aggregation_seconds_count')).toBe(1);
    expect(value(after, 'twinfed_aggregation_seconds_sum')).toBeGreaterThan(0);
    expect(value(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(value(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(after, 'twinfed_uploads_in_flight')).toBe(0);
  });

  test('late uploads and closed rounds survive a restart on the same SQLite file; process counters start again', async () => {
    c = await startTestCoordinator({ store: 'sqlite' });
    const dataDir = c.dataDir;
    const sites = [await enrollTestSite(c, 'A'), await enrollTestSite(c, 'B'), await enrollTestSite(c, 'C')];
    const plan = testPlan({ rounds: 1, minSites: 2, sitesPerRound: 3, closeAt: 'quorum' });
    const fid = (await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan }))).id;
    expect(await upload(sites[0]!, fid, 0.5)).toBe(201);
    expect(await upload(sites[1]!, fid, -0.5)).toBe(201);
    const late = await sealed(sites[2]!, fid, 0.1);
    expect(await send(sites[2]!, fid, late)).toBe(409); // the round closed at the quorum: late
    expect(value(await scrape(c), 'twinfed_uploads_total{outcome="late"}')).toBe(1);
    await c.close();

    c = await startTestCoordinator({ store: 'sqlite', dataDir });
    const restarted = await scrape(c);
    expect(value(restarted, 'twinfed_uploads_total{outcome="late"}')).toBe(1);
    expect(value(restarted, 'twinfed_rounds_total{outcome="published"}')).toBe(1);
    expect(value(restarted, 'twinfed_uploads_total{outcome="accepted"}')).toBe(0);
    expect(value(restarted, 'twinfed_round_seconds_count{outcome="published"}')).toBe(0);
    expect(await send(sites[2]!, fid, late, c.url)).toBe(409);
    expect(value(await scrape(c), 'twinfed_uploads_total{outcome="late"}')).toBe(2);
    await c.close();

    c = await startTestCoordinator({ store: 'sqlite', dataDir });
    expect(value(await scrape(c), 'twinfed_uploads_total{outcome="late"}')).toBe(2);
  });
});
