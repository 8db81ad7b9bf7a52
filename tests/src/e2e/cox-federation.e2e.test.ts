/**
 * A Cox model federated across processes from CSV files with time and event columns: a coordinator and three sites
 * (separate processes on 127.0.0.1), each holding a third of the Rossi recidivism data (data/rossi) as its own CSV
 * with a `{"time": "week", "event": "arrest"}` mapping. The federation completes with FedAvg and with FedProx, and
 * every site evaluates every version with the C-index and the partial-likelihood loss (no accuracy or AUC). After the
 * last round the sites compute the federated Breslow baseline through the secure sum with no one's help: the coordinator
 * signs it into the baseline version, which the sites evaluate with the integrated Brier score too, and a site scores
 * a patient with it (`twinfed-site export` + `predict`: the risk of arrest within the horizon).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoxBaselineSchema, PlanSchema, type Plan } from '@twinfed/shared';
import { siteDir, startConsortium, watchFederation, type RunSite, type SingleConsortium } from '../demo/federation-run';
import { repoRoot, siteCli } from '../support/paths';
import { runNode, startNode } from '../support/processes';

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
      const done = await watchFederation(c, { federationId: fed.id, timeoutMs: 180_000 });
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

      // The federated baseline: signed into `<last>.baseline`, the federation's head, over the three sites' rows.
      const federation = await c.admin.getFederation(fed.id);
      expect(federation.latestVersionId).toBe(`${last}.baseline`);
      const baselineVersion = await c.admin.getModel(`${last}.baseline`);
      const baseline = CoxBaselineSchema.parse(baselineVersion.meta.coxBaseline);
      expect(baselineVersion.meta).toMatchObject({ parentVersionId: last, weightsSha256: expect.any(String) });
      expect(baselineVersion.meta.weightsSha256).toBe((await c.admin.getModel(last)).meta.weightsSha256);
      expect(baseline).toMatchObject({ etaVersionId: last, sites: 3 });
      expect(baseline.times).toHaveLength(52);
      expect(baseline.times[51]).toBe(52);
      // Every arrest of the sites' training rows is an event of the sum (Rossi: 114 arrests in 432 rows, all within 52 weeks).
      expect(baseline.events).toBeGreaterThan(60);
      expect(baseline.events).toBeLessThan(114);
      baseline.cumulativeHazard.forEach((h, k) =>
        expect(h).toBeGreaterThanOrEqual(k ? baseline.cumulativeHazard[k - 1]! : 0),
      );
      expect(baseline.cumulativeHazard[51]).toBeGreaterThan(0);

      // Each site evaluated the baseline version, now with the integrated Brier score.
      await Promise.all(c.sites.splice(0).map((s) => s.exited));
      const withBaseline = await c.admin.listEvaluations(`${last}.baseline`);
      expect(withBaseline).toHaveLength(3);
      for (const e of withBaseline) {
        expect(Object.keys(e.metrics).sort()).toEqual(['cIndex', 'integratedBrier', 'loss']);
        expect(e.metrics.integratedBrier).toBeGreaterThan(0);
        expect(e.metrics.integratedBrier).toBeLessThan(0.25);
      }

      // A site scores a patient with the baseline version: the risk of arrest within 52 weeks.
      const s = SITES[0]!;
      const bundle = path.join(workDir, `bundle-${strategy.name}`);
      await runNode({
        name: 'site export',
        script: siteCli(),
        args: [
          'export',
          '--federation',
          fed.id,
          '--version',
          'latest',
          '--out',
          bundle,
          '--data-dir',
          siteDir(workDir, s),
        ],
      });
      const patients = path.join(workDir, `patients-${strategy.name}.csv`);
      fs.writeFileSync(
        patients,
        `${FEATURES.join(',')}
0,22,1,0,0,1,6
1,40,0,1,1,1,0
`,
      );
      const out = path.join(workDir, `scores-${strategy.name}.csv`);
      await runNode({
        name: 'site predict',
        script: siteCli(),
        args: [
          'predict',
          '--model',
          bundle,
          '--data',
          patients,
          '--mapping',
          mapping(),
          '--out',
          out,
          '--data-dir',
          siteDir(workDir, s),
        ],
      });
      const [header, ...rows] = fs.readFileSync(out, 'utf8').trim().split('\n');
      expect(header).toBe('line,score,tier');
      expect(rows).toHaveLength(2);
      const risks = rows.map((r) => Number(r.split(',')[1]));
      for (const r of risks) {
        expect(r).toBeGreaterThan(0);
        expect(r).toBeLessThan(1);
      }
      // Young, many priors, no financial aid, no work experience: a higher risk than older, aided, employed, married.
      expect(risks[0]).toBeGreaterThan(risks[1]!);
    },
    300_000,
  );
});
