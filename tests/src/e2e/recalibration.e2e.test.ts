/**
 * Federated recalibration across processes: the four heart-disease hospitals (a coordinator and four site processes on
 * 127.0.0.1, no person involved) train the demo's plan with `recalibration` set. After the last round each site sends
 * its masked histogram of the final version's held-out log-odds; the coordinator fits Platt scaling on the secure sum,
 * signs the recalibrated version, every site evaluates it, and `twinfed federations report` shows each site's ECE before
 * and after. The fit is checked against a pooled fit on the same rows, computed here from the public data.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadHeartDisease, modelOutputs } from '@twinfed/models';
import {
  PlanSchema,
  deserializeWeights,
  fitRecalibration,
  fromB64,
  logitHistogram,
  verifyModelVersion,
  type FederationEvaluations,
  type RecalibrationSession,
} from '@twinfed/shared';
import { runFederation, startConsortium, watchFederation, type SingleConsortium } from '../demo/federation-run';
import { HEART_SITES, HEART_SITE_POLICY, heartPlan } from '../demo/heart-plan';
import { coordinatorCli } from '../support/paths';
import { runNode } from '../support/processes';
import { readOperatorToken } from '../support/operator-token';

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('federated recalibration across processes', () => {
  let workDir: string;
  let c: SingleConsortium;

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-recal-e2e-'));
    c = await startConsortium({ workDir, sites: HEART_SITES, sitePolicy: HEART_SITE_POLICY });
  }, 60_000);
  afterAll(async () => {
    await c?.stopAll();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  test('four hospitals: Platt scaling fitted through the secure sum, signed, evaluated, reported before/after', async () => {
    const plan = PlanSchema.parse({ ...heartPlan(), recalibration: { method: 'platt', deadlineSeconds: 120 } });
    const fed = await runFederation(c, { workDir, sites: HEART_SITES, plan });
    const done = await watchFederation(c, { federationId: fed.id, timeoutMs: 240_000 });
    expect(done.federation.state).toBe('completed');
    const finalId = `${fed.id}.v${plan.rounds}`;

    const session = await until('the recalibrated version', 120_000, async () => {
      const s: RecalibrationSession = await c.admin.recalibration(fed.id);
      return s.state === 'fitted' ? s : s.state === 'open' ? undefined : s;
    });
    expect(session.state).toBe('fitted');
    expect(session.baseVersionId).toBe(finalId);
    expect(session.contributed).toHaveLength(4);
    const versionId = session.versionId!;
    expect(versionId).toBe(`${finalId}.recalibrated`);

    // The signed version: the final weights, the fitted parameters in its signed metadata, the federation's head now.
    const keys = await c.admin.coordinatorKeys();
    const view = await c.admin.getModel(versionId);
    const dl = await c.admin.downloadWeights(versionId);
    const meta = verifyModelVersion({
      meta: view.meta,
      signature: view.signature,
      weightsBytes: dl.bytes,
      coordinatorSignPublicKey: fromB64(keys.signPublicKey),
    });
    expect(meta.recalibration).toEqual(session.params);
    expect(meta.weightsSha256).toBe((await c.admin.getModel(finalId)).weightsSha256);
    expect((await c.admin.getFederation(fed.id)).latestVersionId).toBe(versionId);

    // Federated = pooled: the fit on every hospital's held-out rows pooled here gives the same parameters.
    const weights = deserializeWeights(dl.bytes, { expectedLayout: meta.layout });
    const data = loadHeartDisease({ normalization: 'per-site' });
    const z: number[] = [];
    const y: number[] = [];
    for (const d of data) {
      z.push(...(await modelOutputs({ spec: plan.model, weights, x: d.test.x, n: d.test.n })));
      y.push(...d.test.y);
    }
    const pooled = fitRecalibration(logitHistogram(z, y), 'platt');
    expect(session.params!.rows).toBe(z.length);
    expect(session.params!.a).toBeCloseTo(pooled.a, 4);
    expect(session.params!.b).toBeCloseTo(pooled.b, 4);

    // Every hospital evaluated the recalibrated version, then its run ended on its own.
    const evaluations = await until('four evaluations of the recalibrated version', 60_000, async () => {
      const all: FederationEvaluations = await c.admin.federationEvaluations(fed.id);
      const v = all.versions.find((x) => x.versionId === versionId);
      return v && v.evaluations.length === 4 ? all : undefined;
    });
    for (const s of c.sites) expect(await s.exited).toBe(0);
    const of = (id: string) => evaluations.versions.find((v) => v.versionId === id)!.evaluations;
    // Platt scaling minimises the pooled log loss over exactly these rows, starting from the identity: it cannot rise.
    const pooledLoss = (id: string) =>
      of(id).reduce((a, e) => a + e.n * e.metrics.loss!, 0) / of(id).reduce((a, e) => a + e.n, 0);
    expect(pooledLoss(versionId)).toBeLessThanOrEqual(pooledLoss(finalId) + 1e-4);
    // ...and keeps every site's ranking.
    for (const e of of(versionId)) {
      const before = of(finalId).find((b) => b.siteId === e.siteId)!;
      if (before.metrics.auc !== undefined) expect(e.metrics.auc).toBeCloseTo(before.metrics.auc, 6);
    }

    // The operator's report: each site's ECE before and after.
    const token = readOperatorToken(path.join(workDir, 'coordinator'));
    const cli = (args: string[]) =>
      runNode({
        name: 'twinfed federations report',
        script: coordinatorCli(),
        args: ['--url', c.url, '--token', token, ...args],
      });
    const text = (await cli(['federations', 'report', fed.id])).join('\n');
    expect(text).toContain('recalibration (platt): fitted, 4 of 4 sites');
    expect(text).toMatch(/SITE\s+N\s+ECE BEFORE\s+ECE AFTER\s+CHANGE/);
    const json = JSON.parse((await cli(['--json', 'federations', 'report', fed.id])).join('\n')) as {
      calibration: {
        sites: Array<{ siteId: string; n: number; before: number; after: number }>;
        mean: { before: number; after: number };
      };
    };
    expect(json.calibration.sites).toHaveLength(4);
    for (const s of json.calibration.sites) {
      const before = of(finalId).find((e) => e.siteId === s.siteId)!.calibration!.ece;
      const after = of(versionId).find((e) => e.siteId === s.siteId)!.calibration!.ece;
      expect(s).toMatchObject({ before, after });
    }
    process.stdout.write(`${text}\n`);
  }, 420_000);
});
