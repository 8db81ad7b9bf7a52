import * as fs from 'node:fs';
import * as path from 'node:path';
import { coordinatorFetch } from '../__tests__/coordinator-fetch';
import { testPlan } from '../__tests__/fake-coordinator';
import { cli, io, writeSitePolicy } from '../__tests__/cli';
import { csvRunSite } from '../__tests__/csv-run-site';
import { SiteAuditLog } from '../audit/site-audit';

/** An enrolled site (the fake behind a recording fetch) and a CSV the plan accepts. */
const site = (plan = testPlan()) =>
  csvRunSite({
    plan,
    prefix: 'run-plan',
    n: 60,
    row: (i) => `${40 + i},${200 + (i % 7)},${150 - (i % 5)},${i % 2 ? 4 : 2}`,
    label: { column: 'class', positive: [4] },
  });

/** Only `rounds/current` (with the latest version or not) was asked: no statistics, model, update or evaluation left the site. */
const onlyRoundsCurrent = (coord: ReturnType<typeof coordinatorFetch>) =>
  expect(coord.requests.every((q) => q.method === 'GET' && /rounds\/current(\/download)?(\?.*)?$/.test(q.url))).toBe(
    true,
  );

/** Besides `rounds/current`, only the site's decision went out: the decision and the plan hash, nothing else. */
function onlyRoundsCurrentAndDecisions(coord: ReturnType<typeof coordinatorFetch>, decisions: string[]): void {
  const puts = coord.requests.filter((q) => q.method === 'PUT');
  expect(puts.map((q) => new URL(q.url).pathname)).toEqual(decisions.map(() => '/v1/federations/fed-1/decision'));
  expect(puts.map((q) => JSON.parse(q.body) as unknown)).toEqual(
    decisions.map((decision) => ({ decision, planSha256: expect.stringMatching(/^[0-9a-f]{64}$/) })),
  );
  expect(
    coord.requests
      .filter((q) => q.method !== 'PUT')
      .every((q) => q.method === 'GET' && /rounds\/current(\/download)?(\?.*)?$/.test(q.url)),
  ).toBe(true);
}

describe('twinfed-site run: the plan', () => {
  test('no policy and no approval: refused with PLAN_NOT_APPROVED, saying how to approve; nothing but rounds/current is sent', async () => {
    const { c, coord, args } = await site();
    const r = io({ fetch: coord.fetch });
    expect(await cli(args, r.deps)).toBe(1);
    expect(r.err()).toMatch(
      /error: This site has not approved the plan of fed-1 \([0-9a-f]{12}…\)\. .*run `twinfed-site plans show fed-1` then `twinfed-site plans approve fed-1`\. \[PLAN_NOT_APPROVED\]/s,
    );
    onlyRoundsCurrent(coord);
    expect(c.updates).toHaveLength(0);
  });

  test('approved with `plans approve`: runs to the end; the approval and the training are in the site audit chain', async () => {
    const { c, coord, args, dataDir } = await site();
    const approve = io({ fetch: coord.fetch });
    expect(await cli(['plans', 'approve', 'fed-1', '--by', 'dr.jones', '--data-dir', dataDir], approve.deps)).toBe(0);
    const r = io({ fetch: coord.fetch });
    expect(await cli(args, r.deps)).toBe(0);
    expect(r.out()).toMatch(/Plan [0-9a-f]{12}… of fed-1: approved by dr\.jones on /);
    expect(c.updates.map((u) => u.round)).toEqual([1, 2]);
    // `plans approve` told the coordinator, and so did `run` (once per process): the decision and the hash, no name.
    expect(c.decisions.map((d) => d.decision)).toEqual(['approved', 'approved']);
    expect(coord.requests.some((q) => q.body.includes('dr.jones'))).toBe(false);
    expect(
      new SiteAuditLog(dataDir)
        .list()
        .map((e) => `${e.action} ${e.actor}`)
        .slice(1, 3),
    ).toEqual(['plan.approved dr.jones', 'round.trained site:site-a']);
  });

  test('--require-secure-aggregation: a plan without it is rejected by the policy (PLAN_REJECTED naming the rule), recorded once', async () => {
    const { c, coord, args, dataDir } = await site();
    const r = io({ fetch: coord.fetch });
    expect(await cli([...args, '--require-secure-aggregation'], r.deps)).toBe(1);
    expect(r.err()).toMatch(
      /error: This site's policy rejects the plan of fed-1 \([0-9a-f]{12}…\): secure aggregation: required by this site; the plan does not use it \(privacy\.secureAggregation\) \(requireSecureAggregation\).*--require-secure-aggregation.*\[PLAN_REJECTED\]/s,
    );
    onlyRoundsCurrentAndDecisions(coord, ['rejected']); // the coordinator learns the rejection, not who or why
    expect(c.decisions.map((d) => d.decision)).toEqual(['rejected']);
    expect(c.updates).toHaveLength(0);
    const rejections = () => new SiteAuditLog(dataDir).list().filter((e) => e.action === 'plan.rejected');
    expect(rejections()).toEqual([
      expect.objectContaining({
        detail: expect.objectContaining({ decidedBy: 'policy', rules: ['requireSecureAggregation'] }),
      }),
    ]);
    expect(await cli([...args, '--require-secure-aggregation'], io({ fetch: coord.fetch }).deps)).toBe(1);
    expect(rejections()).toHaveLength(1);
  });

  test('floors from the environment add to the policy file, the stricter winning: TWINFED_MAX_EPSILON refuses a plan without DP', async () => {
    const { coord, args, dataDir } = await site();
    writeSitePolicy(dataDir, { autoApprove: true, dp: { maxEpsilon: 100 } });
    const eps = io({ fetch: coord.fetch, env: { TWINFED_MAX_EPSILON: '3' } });
    expect(await cli(args, eps.deps)).toBe(1);
    expect(eps.err()).toMatch(/at most ε = 3; the plan has no differential privacy.*\[PLAN_REJECTED\]/s);
    onlyRoundsCurrentAndDecisions(coord, ['rejected']);
  });

  test('TWINFED_MIN_POPULATION_K no longer refuses a plan with a smaller k: the site applies its own k (plans show says so)', async () => {
    const { c, coord, args, dataDir } = await site(
      testPlan({ data: { features: ['age', 'chol', 'thalach'], population: { k: 10 } } }),
    );
    writeSitePolicy(dataDir, { autoApprove: true });
    const show = io({ fetch: coord.fetch, env: { TWINFED_MIN_POPULATION_K: '20' } });
    expect(await cli(['plans', 'show', 'fed-1', '--data-dir', dataDir], show.deps)).toBe(0);
    expect(show.out()).toContain("cells below k = 20 (this site's own; the plan's k is 10) suppressed");
    expect(show.out()).toContain(
      "ok    population reports: the plan's k = 10; this site suppresses cells below its own k = 20",
    );
    expect(await cli(args, io({ fetch: coord.fetch, env: { TWINFED_MIN_POPULATION_K: '20' } }).deps)).toBe(0);
    expect(c.updates.map((u) => u.round)).toEqual([1, 2]);
  });

  test('an invalid floor is a usage error; an invalid policy file is POLICY_INVALID before anything is sent', async () => {
    const { coord, args, dataDir } = await site();
    const r = io({ fetch: coord.fetch });
    expect(await cli([...args, '--min-population-k', '1'], r.deps)).not.toBe(0);
    expect(r.err()).toContain('the minimum population k must be an integer from 2 to 1000');
    const env = io({ fetch: coord.fetch, env: { TWINFED_MAX_EPSILON: 'lots' } });
    expect(await cli(args, env.deps)).toBe(1);
    expect(env.err()).toMatch(/privacy\.maxEpsilon.*\[CONFIG_INVALID\]/s);
    fs.writeFileSync(path.join(dataDir, 'policy.json'), '{"autoAprove": true}');
    const bad = io({ fetch: coord.fetch });
    expect(await cli(args, bad.deps)).toBe(1);
    expect(bad.err()).toMatch(/policy\.json is invalid: .*autoAprove.*\[POLICY_INVALID\]/s);
    expect(coord.requests).toEqual([]);
  });

  test('a tampered plan (secure aggregation turned off, k lowered) is refused with PLAN_SIGNATURE_INVALID and recorded in the site audit chain', async () => {
    const signed = testPlan({
      minSites: 2,
      privacy: { secureAggregation: true },
      data: { features: ['age', 'chol', 'thalach'], population: { k: 10 } },
    });
    const { c, coord, args, dataDir } = await site(signed);
    writeSitePolicy(dataDir, { autoApprove: true });
    c.tamper.plan = {
      ...signed,
      privacy: { secureAggregation: false },
      data: { ...signed.data, population: { ...signed.data.population!, k: 2 } },
    };
    const r = io({ fetch: coord.fetch });
    expect(await cli(args, r.deps)).toBe(1);
    expect(r.err()).toMatch(/not the plan the coordinator signed.*\[PLAN_SIGNATURE_INVALID\]/s);
    onlyRoundsCurrent(coord);
    expect(fs.readFileSync(path.join(dataDir, 'audit.jsonl'), 'utf8')).toMatch(
      /"plan\.refused".*PLAN_SIGNATURE_INVALID/,
    );
  });
});
