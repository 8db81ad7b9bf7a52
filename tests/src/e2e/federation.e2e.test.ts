import fs from 'node:fs';
import path from 'node:path';
import { evaluate, loadHeartDisease } from '@twinfed/models';
import {
  FullModelVersionMetaSchema,
  PlanSchema,
  deserializeWeights,
  fromB64,
  generateIdentity,
  routes,
  signRequest,
  verifyModelVersion,
  type PlanInput,
} from '@twinfed/shared';
import { runFederation, watchFederation } from '../demo/federation-run';
import { heartPlan } from '../demo/heart-plan';
import { siteCli } from '../support/paths';
import { runNode, startNode, stop } from '../support/processes';
import { writeSitePolicy } from '../support/site-policy';
import { startTamperProxy } from '../support/tamper-proxy';
import { THREE_SITES, suiteConsortium } from './__tests__/consortium';

function fedAvgPlan(overrides: Partial<PlanInput> = {}): PlanInput {
  return {
    ...heartPlan({ rounds: 3, minSites: 3 }),
    strategy: { name: 'fedavg' },
    training: { steps: 50, batchSize: 4, optimizer: 'sgd', lr: 0.01 },
    ...overrides,
  };
}

/** Coordinator, sites and this test are separate processes talking HTTP + socket.io on 127.0.0.1. */
describe('federation across processes', () => {
  const suite = suiteConsortium('e2e', THREE_SITES, { autoApprove: true }); // each site's policy approves every plan

  test('three sites, three rounds: every version is signed and the global model’s loss falls', async () => {
    const plan = PlanSchema.parse(fedAvgPlan());
    const fed = await runFederation(suite.c, { workDir: suite.workDir, sites: THREE_SITES, plan });
    const done = await watchFederation(suite.c, { federationId: fed.id, timeoutMs: 120_000 });
    expect(done.federation.state).toBe('completed');
    expect(done.rounds.map((r) => r.state)).toEqual(['published', 'published', 'published']);
    for (const r of done.rounds) expect(r.received).toBe(3);

    const keys = await suite.c.admin.coordinatorKeys();
    const data = loadHeartDisease({ normalization: 'per-site' }).filter((d) =>
      THREE_SITES.some((s) => s.center === d.center),
    );
    const losses: number[] = [];
    for (let v = 0; v <= 3; v++) {
      const vid = `${fed.id}.v${v}`;
      const meta = await suite.c.admin.getModel(vid);
      const dl = await suite.c.admin.downloadWeights(vid);
      const verified = verifyModelVersion({
        meta: meta.meta,
        signature: meta.signature,
        weightsBytes: dl.bytes,
        coordinatorSignPublicKey: fromB64(keys.signPublicKey),
      });
      expect(verified.round).toBe(v);
      if (v > 0) expect(FullModelVersionMetaSchema.parse(verified).contributors).toHaveLength(3);
      const weights = deserializeWeights(dl.bytes, { expectedLayout: verified.layout });
      let loss = 0;
      for (const d of data) loss += (await evaluate({ spec: plan.model, weights, data: d.train })).loss / data.length;
      losses.push(loss);
    }
    expect(losses[3]!).toBeLessThan(losses[0]!);
    expect(losses[2]!).toBeLessThan(losses[0]!);
    // Sites evaluated every published version on their own held-out rows.
    for (const r of done.rounds) expect(done.evaluations.get(r.versionId!)).toHaveLength(3);
    // ...with the calibration of the model: 10 bins summing to n, rates withheld in bins under the default k (10).
    for (const e of done.evaluations.get(done.rounds[2]!.versionId!)!) {
      expect(e.calibration!.bins.reduce((a, b) => a + b.n, 0)).toBe(e.n);
      expect(e.calibration!.bins.filter((b) => b.n < 10).every((b) => b.meanPredicted === null)).toBe(true);
      expect(e.calibration!.bins.some((b) => b.meanPredicted !== null)).toBe(true);
      expect(e.calibration!.ece).toBeGreaterThanOrEqual(0);
    }
    for (const s of suite.c.sites) expect(await s.exited).toBe(0);
  }, 180_000);

  test('a fourth process with a forged signature or a replayed request is rejected', async () => {
    const fed = (await suite.c.admin.listFederations())[0]!;
    const p = routes.currentRound(fed.id);
    const victim = suite.c.siteIds.get('Cleveland')!;
    const forger = generateIdentity();
    const forged = await fetch(suite.c.url + p, {
      headers: signRequest({ method: 'GET', path: p, siteId: victim, signSecretKey: forger.sign.secretKey }),
    });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('BAD_SIGNATURE');
    // A captured, genuinely signed request: accepted once, refused when replayed.
    const key = JSON.parse(fs.readFileSync(path.join(suite.workDir, 'site-0', 'site.key.json'), 'utf8')) as {
      signSecretKey: string;
    };
    const headers = signRequest({ method: 'GET', path: p, siteId: victim, signSecretKey: fromB64(key.signSecretKey) });
    expect((await fetch(suite.c.url + p, { headers })).status).toBe(200);
    const replay = await fetch(suite.c.url + p, { headers });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('REPLAYED_REQUEST');
  });

  test('a revoked site is refused, a site behind a tampering proxy refuses the model, the round closes at quorum', async () => {
    // A fourth site enrolls, then runs through a man in the middle that corrupts model signatures.
    const inv = await suite.c.admin.createInvitation({ siteName: 'Switzerland' });
    const swissDir = path.join(suite.workDir, 'site-2');
    await runNode({
      name: 'enroll Switzerland',
      script: siteCli(),
      args: ['enroll', '--coordinator', suite.c.url, '--token', inv.token, '--data-dir', swissDir],
    });
    writeSitePolicy(swissDir, { autoApprove: true });
    const paths: string[] = [];
    const proxy = await startTamperProxy({
      target: suite.c.url,
      tamper: (p, body) =>
        /^\/v1\/models\/[^/]+$/.test(p) && typeof body.signature === 'string'
          ? { ...body, signature: flipFirstChar(body.signature) }
          : null,
      onRequest: (r) => paths.push(r.path),
    });
    await suite.c.admin.revokeSite(suite.c.siteIds.get('VA')!);
    // The tampered site never uploads, so each round closes at its deadline; a round that closes before the two
    // healthy sites (cold processes on a busy machine) have answered fails and the next one starts — not a flake.
    const plan = PlanSchema.parse(
      fedAvgPlan({ rounds: 1, minSites: 2, roundDeadlineSeconds: 8, maxConsecutiveFailedRounds: 5 }),
    );
    const fed = await suite.c.admin.createFederation(plan);
    const args = (center: number) => [
      'run',
      '--heart-disease',
      String(center),
      '--federation',
      fed.id,
      '--data-dir',
      path.join(suite.workDir, `site-${center}`),
    ];
    const runs = [
      startNode({ name: 'Cleveland', script: siteCli(), args: args(0) }),
      startNode({ name: 'Hungarian', script: siteCli(), args: args(1) }),
      startNode({ name: 'VA (revoked)', script: siteCli(), args: args(3) }),
      startNode({
        name: 'Switzerland (tampered)',
        script: siteCli(),
        args: [...args(2), '--coordinator', proxy.url, '--no-push', '--poll-interval', '300', '--json'],
      }),
    ];
    try {
      expect(await runs[2]!.exited).toBe(1);
      expect(runs[2]!.lines.join('\n')).toMatch(/SITE_REVOKED/);
      await runs[3]!.waitForLine(/MODEL_SIGNATURE_INVALID/, 30_000);
      // The version came with the current round (the route the proxy must tamper too), not by a download of its own.
      expect(paths.some((p) => /\/rounds\/current\/download(\?|$)/.test(p))).toBe(true);
      const done = await watchFederation(
        { ...suite.c, sites: runs.slice(0, 2) },
        { federationId: fed.id, timeoutMs: 90_000 },
      );
      expect(done.federation.state).toBe('completed');
      const published = done.rounds.filter((r) => r.state === 'published');
      expect(published).toHaveLength(1);
      const meta = await suite.c.admin.getModel(published[0]!.versionId!);
      const contributors = (meta.meta.contributors as Array<{ siteId: string }>).map((x) => x.siteId).sort();
      expect(contributors).toEqual([suite.c.siteIds.get('Cleveland'), suite.c.siteIds.get('Hungarian')].sort());
    } finally {
      await Promise.all(runs.map((r) => stop(r)));
      await proxy.close();
    }
  }, 150_000);
});

function flipFirstChar(b64: string): string {
  return (b64[0] === 'A' ? 'B' : 'A') + b64.slice(1);
}
