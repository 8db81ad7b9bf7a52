import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { PlanInput } from '@twinfed/shared';
import { siteRunArgs, startConsortium, watchFederation, type Consortium, type RunSite } from '../demo/federation-run';
import { heartPlan } from '../demo/heart-plan';
import { siteCli } from '../support/paths';
import { startNode } from '../support/processes';
import { startRoundRobinProxy } from '../support/round-robin-proxy';

const SITES: RunSite[] = [
  { name: 'Cleveland', center: 0 },
  { name: 'Hungarian', center: 1 },
];

const plan = (): PlanInput => ({
  ...heartPlan({ rounds: 2, minSites: 2 }),
  strategy: { name: 'fedavg' },
  training: { steps: 20, batchSize: 4, optimizer: 'sgd', lr: 0.01 },
});

/** A URL on 127.0.0.1 where nothing listens (bound, then released). */
async function closedUrl(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** Starts `twinfed-site run` for every site with `urls` as its coordinator list (polling every 300 ms). */
function runSites(c: Consortium, workDir: string, federationId: string, urls: string[]): void {
  for (const site of SITES)
    c.sites.push(
      startNode({
        name: site.name,
        script: siteCli(),
        args: [...siteRunArgs({ workDir, site, federationId }), '--coordinator', urls.join(',')],
        env: { TWINFED_LOG_LEVEL: 'warn', TWINFED_POLL_INTERVAL_MS: '300' },
      }),
    );
}

/** Sites given two coordinator URLs: the first fails, the federation completes through the second. */
describe('site fail-over between coordinator URLs', () => {
  let workDir = '';
  let c: Consortium | undefined;
  beforeEach(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-failover-'));
    c = await startConsortium({ workDir, sites: SITES, sitePolicy: { autoApprove: true } });
  });
  afterEach(async () => {
    await c?.stopAll();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  test('the first URL refuses connections: every site completes the federation via the second', async () => {
    const fed = await c!.admin.createFederation(plan());
    runSites(c!, workDir, fed.id, [await closedUrl(), c!.url]);
    const done = await watchFederation(c!, { federationId: fed.id, timeoutMs: 120_000 });
    expect(done.federation.state).toBe('completed');
    expect(done.rounds.map((r) => [r.state, r.received])).toEqual([
      ['published', 2],
      ['published', 2],
    ]);
    for (const s of c!.sites) expect(await s.exited).toBe(0);
  }, 180_000);

  test('the first URL is cut in the middle of the run: the sites move to the second and finish', async () => {
    const proxy = await startRoundRobinProxy({ backends: [{ host: '127.0.0.1', port: Number(new URL(c!.url).port) }] });
    try {
      const fed = await c!.admin.createFederation(plan());
      runSites(c!, workDir, fed.id, [proxy.url, c!.url]);
      // Round 1 goes through the proxy; then the proxy dies (open connections cut, new ones refused).
      for (let i = 0; ; i++) {
        const rounds = await c!.admin.listRounds(fed.id);
        if (rounds[0]?.state === 'published') break;
        if (i > 400) throw new Error('round 1 was not published within 2 minutes');
        await new Promise((r) => setTimeout(r, 300));
      }
      const throughProxy = proxy.stats().forwarded[0]!;
      await proxy.close();
      const done = await watchFederation(c!, { federationId: fed.id, timeoutMs: 120_000 });
      expect(throughProxy).toBeGreaterThan(0);
      expect(done.federation.state).toBe('completed');
      expect(done.rounds.map((r) => [r.state, r.received])).toEqual([
        ['published', 2],
        ['published', 2],
      ]);
      for (const s of c!.sites) expect(await s.exited).toBe(0);
    } finally {
      await proxy.close().catch(() => undefined);
    }
  }, 240_000);
});
