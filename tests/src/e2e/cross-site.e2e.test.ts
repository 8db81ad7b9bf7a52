/**
 * The cross-site evaluation matrix across processes: a coordinator process and four `twinfed-site` processes of the
 * heart-disease hospitals run a federation whose plan asks for it. When the federation completes, each site trains its
 * local-only model and seals it to the others (the coordinator relays ciphertext), then evaluates the global model and
 * every local model on its own test rows; VA's policy refuses to take part, and Switzerland's k (20) is above its 16
 * test rows, so its column is withheld. No person acts: the sites run to the end and exit, and
 * `twinfed federations report` prints the signed matrix.
 */
import path from 'node:path';
import { PlanSchema, fromB64, verifyCrossSiteMatrix } from '@twinfed/shared';
import { heartPlan } from '../demo/heart-plan';
import { runFederation, siteDir, watchFederation, type RunSite } from '../demo/federation-run';
import { coordinatorCli } from '../support/paths';
import { runNode } from '../support/processes';
import { writeSitePolicy } from '../support/site-policy';
import { suiteConsortium } from './__tests__/consortium';
import { readOperatorToken } from '../support/operator-token';

const SITES: RunSite[] = [
  { name: 'Cleveland', center: 0 },
  { name: 'Hungarian', center: 1 },
  { name: 'Switzerland', center: 2 },
  { name: 'VA', center: 3 },
];

describe('cross-site evaluation across processes', () => {
  const suite = suiteConsortium('e2e-xsite', SITES, { autoApprove: true });

  test('four hospitals: the signed matrix of the global and each local model on every site’s test data', async () => {
    writeSitePolicy(siteDir(suite.workDir, SITES[2]!), {
      autoApprove: true,
      populationReports: { allowed: true, k: 20 },
    });
    writeSitePolicy(siteDir(suite.workDir, SITES[3]!), { autoApprove: true, crossSiteEvaluation: { allowed: false } });
    const plan = PlanSchema.parse({
      ...heartPlan({ rounds: 2, minSites: 4 }),
      strategy: { name: 'fedavg' },
      training: { steps: 30, batchSize: 4, optimizer: 'sgd', lr: 0.01 },
      roundDeadlineSeconds: 90,
      crossSiteEvaluation: { deadlineSeconds: 90 },
    });
    const fed = await runFederation(suite.c, { workDir: suite.workDir, sites: SITES, plan });
    const done = await watchFederation(suite.c, { federationId: fed.id, timeoutMs: 150_000 });
    expect(done.federation.state).toBe('completed');
    // The sites stay for the cross-site evaluation and leave once their part is done.
    for (const s of suite.c.sites) expect(await s.exited).toBe(0);

    const view = await suite.c.admin.crossSite(fed.id);
    expect(view.state).toBe('complete');
    const m = view.matrix!;
    const id = (name: string) => suite.c.siteIds.get(name)!;
    const participants = ['Cleveland', 'Hungarian', 'Switzerland'].map(id).sort();
    expect(m.participants).toEqual(participants);
    expect(m.refused).toEqual([id('VA')]);
    expect(m.silent).toEqual([]);
    expect(m.metric).toBe('auc');
    expect(m.globalVersionId).toBe(`${fed.id}.v2`);
    const column = (name: string) => m.columns.find((c) => c.siteId === id(name))!;
    expect(column('Cleveland')).toEqual({ siteId: id('Cleveland'), status: 'reported', n: 104 });
    expect(column('Hungarian')).toEqual({ siteId: id('Hungarian'), status: 'reported', n: 89 });
    expect(column('Switzerland')).toEqual({ siteId: id('Switzerland'), status: 'withheld', n: null });
    expect(m.rows.map((r) => r.siteId)).toEqual([null, ...participants]);
    for (const r of m.rows)
      m.columns.forEach((c, i) => {
        if (c.status === 'reported')
          expect(r.values[i]).toBeGreaterThan(0.5); // every model separates better than chance
        else expect(r.values[i]).toBeNull();
      });
    const keys = await suite.c.admin.coordinatorKeys();
    expect(verifyCrossSiteMatrix(m, fromB64(keys.signPublicKey))).toBe(true);
    const audit = await suite.c.admin.auditPage(0, 1000);
    expect(audit.entries.filter((e) => e.subject === fed.id && e.action === 'cross_site.answer')).toHaveLength(4);
    expect(audit.entries.filter((e) => e.action === 'federation.cross_site_evaluated')).toHaveLength(1);

    const token = readOperatorToken(path.join(suite.workDir, 'coordinator'));
    const report = (
      await runNode({
        name: 'twinfed federations report',
        script: coordinatorCli(),
        args: ['--url', suite.c.url, '--token', token, 'federations', 'report', fed.id],
      })
    ).join('\n');
    console.log(report);
    expect(report).toContain('Cross-site evaluation:');
    expect(report).toMatch(new RegExp(`^global ${fed.id}\\.v2\\s+0\\.\\d{3}\\s+0\\.\\d{3}\\s+withheld$`, 'm'));
    expect(report).toMatch(new RegExp(`^local ${id('Cleveland')}\\s+0\\.\\d{3}\\s+0\\.\\d{3}\\s+withheld$`, 'm'));
    expect(report).toMatch(/^n \(test rows\)\s+104\s+89\s+withheld$/m);
    expect(report).toContain(`refused by site policy: ${id('VA')}`);
    expect(report).toContain('signature verified with the coordinator key');
  }, 240_000);
});
