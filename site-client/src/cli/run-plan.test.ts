import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { coordinatorFetch } from '../__tests__/coordinator-fetch';
import { FakeCoordinator, testPlan } from '../__tests__/fake-coordinator';
import { cli, io } from '../__tests__/cli';
import { loadEnrollment } from '../identity/load';

/** An enrolled site directory (https://coord.test, the fake behind a recording fetch) and a CSV the plan accepts. */
async function site(plan = testPlan()) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-run-plan-'));
  const dataDir = path.join(work, 'site');
  const c = new FakeCoordinator(plan);
  const coord = coordinatorFetch(c);
  expect(
    await cli(
      ['enroll', '--coordinator', 'https://coord.test', '--token', 'tok-0123456789abcdef', '--data-dir', dataDir],
      io({ fetch: coord.fetch }).deps,
    ),
  ).toBe(0);
  c.trust(loadEnrollment(dataDir));
  coord.requests.length = 0;
  const csv = path.join(work, 'data.csv');
  fs.writeFileSync(
    csv,
    [
      'age,chol,thalach,class',
      ...Array.from({ length: 60 }, (_, i) => `${40 + i},${200 + (i % 7)},${150 - (i % 5)},${i % 2 ? 4 : 2}`),
    ].join('\n'),
  );
  const mapping = path.join(work, 'mapping.json');
  fs.writeFileSync(
    mapping,
    JSON.stringify({
      features: ['age', 'chol', 'thalach'].map((x) => ({ column: x, name: x })),
      label: { column: 'class', positive: [4] },
    }),
  );
  const args = [
    'run',
    '--federation',
    'fed-1',
    '--data',
    csv,
    '--mapping',
    mapping,
    '--data-dir',
    dataDir,
    '--no-push',
    '--poll-interval',
    '50',
  ];
  return { c, coord, args, dataDir };
}

/** Only `rounds/current` was asked: no statistics, model, update or evaluation left the site. */
const onlyRoundsCurrent = (coord: ReturnType<typeof coordinatorFetch>) =>
  expect(coord.requests.every((q) => q.method === 'GET' && /rounds\/current$/.test(q.url))).toBe(true);

describe('twinfed-site run: the plan', () => {
  test('--require-secure-aggregation: a plan without it is refused with PLAN_BELOW_SITE_FLOOR, naming the floor and how to change it', async () => {
    const { c, coord, args } = await site();
    const r = io({ fetch: coord.fetch });
    expect(await cli([...args, '--require-secure-aggregation'], r.deps)).toBe(1);
    expect(r.err()).toMatch(
      /error: The plan of fed-1 is below this site's privacy floors: this site requires secure aggregation \(privacy\.requireSecureAggregation\); the plan does not use it.*--require-secure-aggregation \/ TWINFED_REQUIRE_SECURE_AGGREGATION.*\[PLAN_BELOW_SITE_FLOOR\]/s,
    );
    onlyRoundsCurrent(coord);
    expect(c.updates).toHaveLength(0);
  });

  test('floors from the environment: TWINFED_MIN_POPULATION_K above the plan’s k; TWINFED_MAX_EPSILON with a plan without DP', async () => {
    const { coord, args } = await site();
    const k = io({ fetch: coord.fetch, env: { TWINFED_MIN_POPULATION_K: '20' } });
    expect(await cli(args, k.deps)).toBe(1);
    expect(k.err()).toMatch(/population k = 10.*\[PLAN_BELOW_SITE_FLOOR\]/s);
    const eps = io({ fetch: coord.fetch, env: { TWINFED_MAX_EPSILON: '3' } });
    expect(await cli(args, eps.deps)).toBe(1);
    expect(eps.err()).toMatch(/at most ε = 3.*no differential privacy.*\[PLAN_BELOW_SITE_FLOOR\]/s);
    onlyRoundsCurrent(coord);
  });

  test('an invalid floor is a usage error', async () => {
    const { coord, args } = await site();
    const r = io({ fetch: coord.fetch });
    expect(await cli([...args, '--min-population-k', '1'], r.deps)).not.toBe(0);
    expect(r.err()).toContain('the minimum population k must be an integer from 2 to 1000');
    const env = io({ fetch: coord.fetch, env: { TWINFED_MAX_EPSILON: 'lots' } });
    expect(await cli(args, env.deps)).toBe(1);
    expect(env.err()).toMatch(/privacy\.maxEpsilon.*\[CONFIG_INVALID\]/s);
    expect(coord.requests).toEqual([]);
  });

  test('a tampered plan (secure aggregation turned off, k lowered) is refused with PLAN_SIGNATURE_INVALID and recorded in the site audit chain', async () => {
    const signed = testPlan({
      minSites: 2,
      privacy: { secureAggregation: true },
      data: { features: ['age', 'chol', 'thalach'], population: { k: 10 } },
    });
    const { c, coord, args, dataDir } = await site(signed);
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

  test('a plan that meets the floors runs to the end', async () => {
    const { c, coord, args } = await site();
    const r = io({ fetch: coord.fetch });
    expect(await cli([...args, '--min-population-k', '10'], r.deps)).toBe(0);
    expect(c.updates.map((u) => u.round)).toEqual([1, 2]);
  });
});
