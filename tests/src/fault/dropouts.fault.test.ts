import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AdminClient } from '@twinfed/coordinator';
import type { PlanInput } from '@twinfed/shared';
import type { Child } from '../support/processes';
import { adminOf, spawnCoordinator, until } from './__tests__/coordinator-process';
import { freePort } from '../support/net';
import { LightSite, lightPlan } from './__tests__/light-site';
import { readOperatorToken } from '../support/operator-token';

const DEADLINE_S = 3;

const PLAN: PlanInput = lightPlan({
  name: 'dropouts',
  rounds: 4,
  minSites: 7,
  maxMissedRounds: 1,
  roundDeadlineSeconds: DEADLINE_S,
});

async function metric(url: string, token: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const hit = text.split('\n').find((l) => line.test(l));
  return hit ? Number(hit.split(' ').pop()) : Number.NaN;
}

/** Ten sites, three of which die in round 2: quorum at the deadline, then the dead are skipped until one comes back. */
describe('30% of the sites drop out in a round', () => {
  let dataDir: string;
  let coordinator: Child;
  let admin: AdminClient;
  let url: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-dropouts-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    coordinator = spawnCoordinator({ dataDir, port });
    await until(async () => (await fetch(`${url}/healthz`)).ok, { timeoutMs: 30_000, what: 'the coordinator' });
    admin = adminOf({ dataDir, port });
  });
  afterAll(async () => {
    coordinator.proc.kill('SIGTERM');
    await coordinator.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('the round completes at quorum by its deadline; the dead are counted late, skipped, and taken back when seen', async () => {
    const sites: LightSite[] = [];
    for (let i = 0; i < 10; i++) {
      const inv = await admin.createInvitation({ siteName: `Hospital ${String(i).padStart(2, '0')}` });
      sites.push(await LightSite.enroll({ index: i, token: inv.token, url: () => url }));
    }
    const fed = await admin.createFederation(PLAN);
    const doomed = sites.slice(7);
    // Round 1 with everyone.
    for (const s of sites) await s.step(fed.id);
    await until(async () => (await admin.listRounds(fed.id))[0]?.state === 'published', {
      timeoutMs: 60_000,
      what: 'round 1',
    });
    // Round 2: three sites (30%) die after training (their updates are sealed, never sent); the others deliver.
    const r2 = (await admin.listRounds(fed.id))[1]!;
    expect(r2.selectedSiteIds).toHaveLength(10);
    for (const d of doomed) await d.prepare(fed.id, r2);
    for (const s of sites.slice(0, 7)) await s.step(fed.id);
    await until(async () => (await admin.listRounds(fed.id))[1]?.state === 'published', {
      timeoutMs: (DEADLINE_S + 60) * 1000,
      what: 'round 2 at its deadline',
    });
    const closed = (await admin.listRounds(fed.id))[1]!;
    const tookMs = Date.parse(closed.closedAt!) - Date.parse(closed.openedAt);
    expect(tookMs).toBeGreaterThanOrEqual(DEADLINE_S * 1000 - 50);
    expect(tookMs).toBeLessThan(DEADLINE_S * 1000 + 15_000); // closed by the deadline timer, not left waiting
    const v2 = await admin.getModel(closed.versionId!);
    expect((v2.meta.contributors as unknown[]).length).toBe(7);
    expect(v2.meta.metrics).toMatchObject({ sites: 7, failures: 3 });

    // Round 3 opened without the three: they missed round 2 and have not been seen since.
    const r3 = (await admin.listRounds(fed.id))[2]!;
    expect(r3.selectedSiteIds).toHaveLength(7);
    expect(r3.selectedSiteIds.some((id) => doomed.some((d) => d.siteId === id))).toBe(false);
    expect(
      (await admin.listSites())
        .filter((v) => v.missedRounds === 1)
        .map((v) => v.id)
        .sort(),
    ).toEqual(doomed.map((d) => d.siteId).sort());

    // One of them comes back and delivers its round-2 update late: refused with a clear code, and counted.
    const token = readOperatorToken(dataDir);
    const late = await doomed[0]!.deliver(fed.id, 2);
    expect(late.status).toBe(409);
    const body = (await late.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('ROUND_CLOSED');
    expect(body.error.message).toMatch(/^Round 2 closed at .* before this update arrived\.$/);
    expect(await metric(url, token, /^twinfed_uploads_total\{outcome="late"\}/)).toBe(1);

    // Round 3 closes as soon as its seven answered (no deadline wait); round 4 takes back the site seen again.
    for (const s of sites.slice(0, 7)) await s.step(fed.id);
    const lastAnswer = Date.now();
    await until(async () => (await admin.listRounds(fed.id))[3] !== undefined, { timeoutMs: 60_000, what: 'round 4' });
    const c3 = (await admin.listRounds(fed.id))[2]!;
    // All seven answered and the round closed right after the last answer (bounded by wall time, not by the
    // deadline, so a slow machine that needs longer than the deadline for seven steps cannot fail this).
    expect(c3.received).toBe(7);
    expect(Date.parse(c3.closedAt!)).toBeLessThanOrEqual(lastAnswer + 2000);
    const r4 = (await admin.listRounds(fed.id))[3]!;
    expect(r4.selectedSiteIds).toContain(doomed[0]!.siteId);
    expect(r4.selectedSiteIds).not.toContain(doomed[1]!.siteId);
    expect(r4.selectedSiteIds).not.toContain(doomed[2]!.siteId);
    for (const s of sites.slice(0, 8)) await s.step(fed.id);
    await until(async () => (await admin.getFederation(fed.id)).state === 'completed', {
      timeoutMs: 60_000,
      what: 'the federation to complete',
    });
  }, 240_000);
});
