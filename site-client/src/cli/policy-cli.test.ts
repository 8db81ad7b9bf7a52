/** `twinfed-site policy check <plan.json>` and `policy show`, offline. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testPlan } from '../__tests__/fake-coordinator';
import { cli, io, writeSitePolicy } from '../__tests__/cli';

let work: string;
let dataDir: string;
let planFile: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-policy-cli-'));
  dataDir = path.join(work, 'site');
  planFile = path.join(work, 'plan.json');
  fs.writeFileSync(planFile, JSON.stringify(testPlan({ rounds: 8 })));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

const run = async (args: string[], env: Record<string, string> = {}) => {
  const r = io({ env });
  const code = await cli(args, r.deps);
  return { code, out: r.out(), err: r.err() };
};

describe('twinfed-site policy check', () => {
  test('a plan within every rule: CONFORMS, one line per rule, exit 0', async () => {
    writeSitePolicy(dataDir, { maxRounds: 10, allowedModelKinds: ['logistic-regression'] });
    const r = await run(['policy', 'check', planFile, '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `Plan "test plan" against ${path.join(dataDir, 'policy.json')}: CONFORMS\n` +
        '  ok    model: logistic-regression — allowed by this site\n' +
        '  ok    rounds: the plan has 8; this site takes part in at most 10\n',
    );
  });

  test('a plan that breaks a rule: VIOLATES, exit 1; the privacy floors of the environment add rules', async () => {
    writeSitePolicy(dataDir, { maxRounds: 5 });
    const r = await run(['policy', 'check', planFile, '--data-dir', dataDir], { TWINFED_REQUIRE_DP: '1' });
    expect(r.code).toBe(1);
    expect(r.out).toContain('with the privacy floors: VIOLATES');
    expect(r.out).toContain('FAIL  rounds: the plan has 8; this site takes part in at most 5');
    expect(r.out).toContain('FAIL  differential privacy: required by this site; the plan has no privacy.dp');
    expect(r.err).toBe('');
  });

  test('--json, a draft policy with --policy, and no policy at all', async () => {
    const draft = path.join(work, 'draft.json');
    fs.writeFileSync(draft, JSON.stringify({ requireSecureAggregation: true }));
    const r = io();
    expect(await cli(['--json', 'policy', 'check', planFile, '--policy', draft, '--data-dir', dataDir], r.deps)).toBe(
      1,
    );
    expect(r.lines()[0]).toMatchObject({
      plan: 'test plan',
      policyFile: draft,
      verdict: 'violates',
      lines: [{ rule: 'requireSecureAggregation', ok: false }],
    });
    const none = await run(['policy', 'check', planFile, '--data-dir', dataDir]);
    expect(none.code).toBe(0);
    expect(none.out).toMatch(
      /against no policy file .*: CONFORMS\n {2}\(no rules: every plan conforms, and needs a person’s approval/,
    );
  });

  test('an invalid policy or plan file: one line naming the problem and its code, exit 1', async () => {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'policy.json'), '{"maxRounds": 0}');
    const bad = await run(['policy', 'check', planFile, '--data-dir', dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error: The site policy .*policy\.json is invalid: maxRounds: .*\[POLICY_INVALID\]\n$/);
    fs.rmSync(path.join(dataDir, 'policy.json'));
    fs.writeFileSync(planFile, '{"name": "x"}');
    const plan = await run(['policy', 'check', planFile, '--data-dir', dataDir]);
    expect(plan.code).toBe(1);
    expect(plan.err).toMatch(/The plan .* is invalid: .*\[INVALID_PLAN\]/);
  });
});

describe('twinfed-site policy show', () => {
  test('the file, the floors and the policy in force (the stricter wins)', async () => {
    writeSitePolicy(dataDir, { dp: { maxEpsilon: 8 }, autoApprove: true });
    const r = await run(['policy', 'show', '--data-dir', dataDir], { TWINFED_MAX_EPSILON: '3' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Site policy: .*policy\.json \(sha256 [0-9a-f]{64}\)\n/);
    expect(r.out).toContain(
      'Privacy floors of the configuration: {"requireSecureAggregation":false,"requireDp":false,"maxEpsilon":3}',
    );
    expect(r.out).toContain('"maxEpsilon": 3');
    expect(r.out).toContain('plans within every rule are approved (autoApprove)');
    const json = io({ env: { TWINFED_MIN_POPULATION_K: '20' } });
    expect(await cli(['--json', 'policy', 'show', '--data-dir', dataDir], json.deps)).toBe(0);
    expect(json.lines()[0]).toMatchObject({
      policy: { dp: { maxEpsilon: 8 }, autoApprove: true },
      inForce: { dp: { maxEpsilon: 8 }, autoApprove: true, populationReports: { allowed: true, k: 20 } },
    });
    const none = await run(['policy', 'show', '--data-dir', path.join(work, 'elsewhere')]);
    expect(none.out).toMatch(/^Site policy: none \(.* does not exist\)/);
  });
});
