import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { PlanSchema, routes, type PlanInput } from '@twinfed/shared';
import { runFederation, watchFederation, type RunSite } from '../demo/federation-run';
import { heartPlan } from '../demo/heart-plan';
import { suiteConsortium } from './__tests__/consortium';
import { readOperatorToken } from '../support/operator-token';

const SITES: RunSite[] = [
  { name: 'Cleveland', center: 0 },
  { name: 'Hungarian', center: 1 },
];

/** Resident memory of a process in MiB, from /proc (Linux), or NaN elsewhere. */
function rssMiB(pid: number | undefined): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? Number.NaN : Number(kb) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** `n` anonymous uploads declaring 1 MB and trickling a byte every 2 s, each reconnecting when it is closed. */
function slowUploads(
  url: string,
  p: string,
  n: number,
): { attempts: () => number; statuses: Map<number, number>; stop(): void } {
  let stopped = false;
  let attempts = 0;
  const statuses = new Map<number, number>();
  const live = new Set<http.ClientRequest>();
  const open = (): void => {
    if (stopped) return;
    attempts++;
    const req = http.request(
      url + p,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/octet-stream', 'content-length': '1000000' },
      },
      (res) => {
        statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
        res.resume();
      },
    );
    const timer = setInterval(() => {
      if (!req.destroyed) req.write('x');
    }, 2000);
    live.add(req);
    req.on('error', () => undefined);
    req.on('close', () => {
      clearInterval(timer);
      live.delete(req);
      setTimeout(open, 200); // the attacker reconnects at once
    });
    req.write('x');
  };
  for (let i = 0; i < n; i++) open();
  return {
    attempts: () => attempts,
    statuses,
    stop: () => {
      stopped = true;
      for (const r of live) r.destroy();
    },
  };
}

/** Finding 1: anonymous slow uploads must not take the upload slots real sites need. */
describe('100 anonymous slow uploads against a real federation', () => {
  const suite = suiteConsortium('slow', SITES, { autoApprove: true }); // each site's policy approves every plan

  test('two site processes complete a federation without a single 503 while 100 anonymous uploads trickle', async () => {
    const token = readOperatorToken(path.join(suite.workDir, 'coordinator'));
    const rssBefore = rssMiB(suite.c.coordinator.proc.pid);
    const attack = slowUploads(suite.c.url, routes.updates('f-target', 1), 100);
    try {
      await new Promise((r) => setTimeout(r, 3000));
      const rssHeld = rssMiB(suite.c.coordinator.proc.pid);
      const plan: PlanInput = {
        ...heartPlan({ rounds: 2, minSites: 2 }),
        strategy: { name: 'fedavg' },
        training: { steps: 20, batchSize: 4, optimizer: 'sgd', lr: 0.01 },
      };
      const fed = await runFederation(suite.c, { workDir: suite.workDir, sites: SITES, plan: PlanSchema.parse(plan) });
      const done = await watchFederation(suite.c, { federationId: fed.id, timeoutMs: 120_000 });
      const rssEnd = rssMiB(suite.c.coordinator.proc.pid);
      console.log(
        `coordinator RSS: ${rssBefore.toFixed(0)} MiB before, ${rssHeld.toFixed(0)} MiB with 100 anonymous slow uploads held, ${rssEnd.toFixed(0)} MiB after the federation; attacker connections opened: ${attack.attempts()}, answers: ${JSON.stringify(Object.fromEntries(attack.statuses))}`,
      );
      expect(done.federation.state).toBe('completed');
      expect(done.rounds.map((r) => r.state)).toEqual(['published', 'published']);
      const metrics = await (
        await fetch(`${suite.c.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
      ).text();
      // Not a single upload was refused for want of a slot, and no site saw a 503.
      expect(metrics).toMatch(/^twinfed_uploads_total\{outcome="accepted"\} 4$/m);
      expect(metrics).not.toMatch(/^twinfed_uploads_total\{outcome="overloaded"\} [1-9]/m);
      for (const s of suite.c.sites) expect(s.lines.filter((l) => /OVERLOADED|\b503\b/.test(l))).toEqual([]);
      expect(attack.statuses.get(503) ?? 0).toBe(0);
      for (const s of suite.c.sites) expect(await s.exited).toBe(0);
    } finally {
      attack.stop();
    }
  }, 180_000);
});
