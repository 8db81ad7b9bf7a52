/**
 * A Cox model federated across processes from CSV files with time and event columns: a coordinator and three sites
 * (separate processes on 127.0.0.1), each holding a third of the Rossi recidivism data (data/rossi) as its own CSV
 * with a `{"time": "week", "event": "arrest"}` mapping. The federation completes with FedAvg and with FedProx, and
 * every site evaluates every version with the C-index and the partial-likelihood loss (no accuracy or AUC).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PlanSchema, type Plan } from '@twinfed/shared';
import { siteDir, startConsortium, watchFederation, type RunSite, type SingleConsortium } from '../demo/federation-run';
import { repoRoot, siteCli } from '../support/paths';
import { startNode } from '../support/processes';

const SITES: RunSite[] = [
  { name: 'North', center: 0 },
  { name: 'Centre', center: 1 },
  { name: 'South', center: 2 },
];
const FEATURES = ['fin', 'age', 'race', 'wexp', 'mar', 'paro', 'prio'];

function coxPlan(strategy: Plan['strategy']): Plan {
  return PlanSchema.parse({
    name: `rossi cox ${strategy.name}`,
    model: { kind: 'cox', inputs: FEATURES.length, horizonDays: 52 },
    data: { features: FEATURES, label: 'arrest', normalization: 'per-site' },
    strategy,
    training: { steps: 30, batchSize: 32, optimizer: 'adam', lr: 0.05 },
    rounds: 3,
    minSites: 3,
    roundDeadlineSeconds: 120,
  });
}

describe('a Cox federation from time-to-event CSV files, across processes', () => {
  let workDir: string;
  let c: SingleConsortium;
  const mapping = () => path.join(workDir, 'rossi.mapping.json');
  const csv = (s: RunSite) => path.join(workDir, `rossi-${s.center}.csv`);

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-cox-e2e-'));
    // Each site's export: every third row of the Rossi file, with the header.
    const [header, ...rows] = fs
      .readFileSync(path.join(repoRoot(), 'data', 'rossi', 'rossi.csv'), 'utf8')
      .trim()
      .split('\n');
    for (const s of SITES)
      fs.writeFileSync(csv(s), [header, ...rows.filter((_, i) => i % SITES.length === s.center)].join('\n') + '\n');
    fs.writeFileSync(
      mapping(),
      JSON.stringify({
        features: FEATURES.map((f) => ({ column: f, name: f })),
        label: { time: 'week', event: 'arrest' },
      }),
    );
    c = await startConsortium({ workDir, sites: SITES, sitePolicy: { autoApprove: true } });
  }, 60_000);
  afterAll(async () => {
    await c?.stopAll();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  test.each([{ name: 'fedavg' }, { name: 'fedprox', mu: 0.1 }] as Plan['strategy'][])(
    '%o: the federation completes and each site reports the C-index of each version',
    async (strategy) => {
      const plan = coxPlan(strategy);
      const fed = await c.admin.createFederation(plan);
      for (const s of SITES) {
        c.sites.push(
          startNode({
            name: s.name,
            script: siteCli(),
            args: [
              'run',
              '--federation',
              fed.id,
              '--data',
              csv(s),
              '--mapping',
              mapping(),
              '--data-dir',
              siteDir(workDir, s),
            ],
            env: { TWINFED_LOG_LEVEL: 'warn' },
          }),
        );
      }
      const done = await watchFederation(c, { federationId: fed.id, timeoutMs: 150_000 });
      expect(done.federation.state).toBe('completed');
      expect(done.rounds.filter((r) => r.versionId)).toHaveLength(plan.rounds);
      const last = done.rounds[done.rounds.length - 1]!.versionId!;
      const evaluations = done.evaluations.get(last)!;
      expect(evaluations.map((e) => e.siteId).sort()).toEqual([...c.siteIds.values()].sort());
      for (const e of evaluations) {
        expect(Object.keys(e.metrics).sort()).toEqual(['cIndex', 'loss']);
        expect(e.metrics.cIndex).toBeGreaterThanOrEqual(0);
        expect(e.metrics.cIndex).toBeLessThanOrEqual(1);
        expect(e.metrics.loss).toBeGreaterThan(0);
      }
      // The sites' test rows together: the global model ranks arrests better than chance.
      const pooled =
        evaluations.reduce((acc, e) => acc + e.n * e.metrics.cIndex!, 0) / evaluations.reduce((a, e) => a + e.n, 0);
      expect(pooled).toBeGreaterThan(0.55);
      await Promise.all(c.sites.splice(0).map((s) => s.exited));
    },
    200_000,
  );
});
