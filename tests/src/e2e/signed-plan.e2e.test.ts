import { PlanSchema } from '@twinfed/shared';
import { heartPlan } from '../demo/heart-plan';
import { siteRunArgs, type RunSite } from '../demo/federation-run';
import { siteCli } from '../support/paths';
import { startNode, stop } from '../support/processes';
import { startTamperProxy } from '../support/tamper-proxy';
import { suiteConsortium } from './__tests__/consortium';

const SITES: RunSite[] = [
  { name: 'Cleveland', center: 0 },
  { name: 'Hungarian', center: 1 },
];

/**
 * Issue 16, finding 6, across processes: a site behind a man in the middle that turns secure aggregation off and lowers
 * the population k refuses the plan (the coordinator signed another one); a site whose own floor asks for DP rejects a
 * plan without it by its policy. Neither trains nor uploads anything.
 */
describe('signed plans and site privacy floors, across processes', () => {
  const suite = suiteConsortium('e2e-plan', SITES, { autoApprove: true }); // each site's policy approves every plan

  test('a tampered plan and a plan that breaks a floor are refused with their codes; no update arrives', async () => {
    const plan = PlanSchema.parse({
      ...heartPlan({ rounds: 1, minSites: 2 }),
      strategy: { name: 'fedavg' },
      privacy: { secureAggregation: true },
      data: { ...heartPlan().data, population: { k: 10 } },
    });
    const fed = await suite.c.admin.createFederation(plan);
    const sent: string[] = [];
    const proxy = await startTamperProxy({
      target: suite.c.url,
      onRequest: (r) => sent.push(`${r.method} ${r.path}`),
      tamper: (p, body) => {
        if (!p.endsWith('/rounds/current')) return null;
        const f = body.federation as { plan: { privacy: object; data: { population: object } } };
        return {
          ...body,
          federation: {
            ...f,
            plan: {
              ...f.plan,
              privacy: { secureAggregation: false },
              data: { ...f.plan.data, population: { ...f.plan.data.population, k: 2 } },
            },
          },
        };
      },
    });
    const args = (s: RunSite) => [
      ...siteRunArgs({ workDir: suite.workDir, site: s, federationId: fed.id }),
      '--no-push',
      '--poll-interval',
      '200',
    ];
    const tampered = startNode({
      name: 'Cleveland (tampered)',
      script: siteCli(),
      args: [...args(SITES[0]!), '--coordinator', proxy.url],
    });
    const floor = startNode({
      name: 'Hungarian (requires DP)',
      script: siteCli(),
      args: [...args(SITES[1]!), '--require-dp'],
    });
    try {
      expect(await tampered.exited).toBe(1);
      expect(tampered.lines.join('\n')).toMatch(/not the plan the coordinator signed.*PLAN_SIGNATURE_INVALID/s);
      expect(await floor.exited).toBe(1);
      expect(floor.lines.join('\n')).toMatch(
        /policy rejects the plan.*differential privacy: required by this site; the plan has no privacy\.dp \(dp\.required\).*--require-dp.*PLAN_REJECTED/s,
      );
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.every((s) => /^GET .*\/rounds\/current(\/download)?(\?.*)?$/.test(s))).toBe(true);
      const rounds = await suite.c.admin.listRounds(fed.id);
      expect(rounds.map((r) => r.received)).toEqual([0]);
    } finally {
      await Promise.all([stop(tampered), stop(floor)]);
      await proxy.close();
    }
  }, 120_000);
});
