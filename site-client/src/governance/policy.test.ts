import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { planEpsilon, type Plan, type PlanInput } from '@twinfed/shared';
import { TEST_FEATURES, testPlan } from '../__tests__/fake-coordinator';
import { POLICY_FILE } from './policy-file';
import {
  effectivePopulationK,
  evaluatePolicy,
  failedRules,
  policyDigest,
  readPolicyFile,
  withPrivacyFloors,
  type PolicyRule,
  type SitePolicy,
} from './policy';

const plan = (over: Partial<PlanInput> = {}): Plan =>
  testPlan({ data: { features: TEST_FEATURES, label: 'heart-disease', population: { k: 10 } }, ...over });
const dp = { clip: 1, noiseMultiplier: 1.1, delta: 1e-5 };
const secure = plan({ minSites: 3, privacy: { secureAggregation: true } });

/** The one line of rule `rule`, and the verdict. */
function verdictOf(p: Plan, policy: SitePolicy, rule: PolicyRule) {
  const e = evaluatePolicy(p, policy);
  const lines = e.lines.filter((l) => l.rule === rule);
  expect(lines).toHaveLength(1);
  return { verdict: e.verdict, ok: lines[0]!.ok, message: lines[0]!.message };
}

describe('evaluatePolicy: every rule, both verdicts, one line each', () => {
  test.each<[string, PolicyRule, SitePolicy, Plan, Plan, RegExp]>([
    [
      'allowed features',
      'allowedFeatures',
      { allowedFeatures: ['age', 'chol', 'thalach'] },
      plan(),
      plan({ model: { kind: 'logistic-regression', inputs: 2 }, data: { features: ['age', 'smoker'] } }),
      /the plan uses smoker, which this site does not allow \(allowed: age, chol, thalach\)/,
    ],
    [
      'allowed labels',
      'allowedLabels',
      { allowedLabels: ['heart-disease'] },
      plan(),
      plan({ data: { features: TEST_FEATURES, label: 'hiv-status' } }),
      /label: the plan uses hiv-status/,
    ],
    [
      'allowed model kinds',
      'allowedModelKinds',
      { allowedModelKinds: ['logistic-regression'] },
      plan(),
      plan({ model: { kind: 'mlp', inputs: 3, hidden: [4] } }),
      /model: the plan uses mlp/,
    ],
    [
      'allowed strategies',
      'allowedStrategies',
      { allowedStrategies: ['fedavg', 'fedprox'] },
      plan(),
      plan({ strategy: { name: 'fedadam', serverLr: 0.01 } }),
      /strategy: the plan uses fedadam/,
    ],
    [
      'secure aggregation required',
      'requireSecureAggregation',
      { requireSecureAggregation: true },
      secure,
      plan(),
      /required by this site; the plan does not use it/,
    ],
    [
      'DP required',
      'dp.required',
      { dp: { required: true } },
      plan({ privacy: { dp } }),
      plan(),
      /the plan has no privacy\.dp/,
    ],
    [
      'maximum ε (a plan without DP spends an unbounded ε)',
      'dp.maxEpsilon',
      { dp: { maxEpsilon: 8 } },
      plan({ privacy: { dp } }),
      plan(),
      /at most ε = 8; the plan has no differential privacy/,
    ],
    [
      'maximum ε (too much noise spent)',
      'dp.maxEpsilon',
      { dp: { maxEpsilon: 1 } },
      plan({ rounds: 1, privacy: { dp: { ...dp, noiseMultiplier: 5 } } }),
      plan({ rounds: 20, privacy: { dp: { ...dp, noiseMultiplier: 0.8 } } }),
      /the plan's 20 rounds at noise ×0\.8 spend ε = \d+\.\d\d .*at most ε = 1$/,
    ],
    [
      'maximum rounds',
      'maxRounds',
      { maxRounds: 5 },
      plan({ rounds: 5 }),
      plan({ rounds: 6 }),
      /the plan has 6; .* at most 5/,
    ],
    [
      'minimum cohort size per round',
      'minSitesPerRound',
      { minSitesPerRound: 3 },
      secure,
      plan({ minSites: 2 }),
      /from 2 sites \(minSites\); this site asks for at least 3/,
    ],
    [
      'population reports not allowed',
      'populationReports.allowed',
      { populationReports: { allowed: false } },
      testPlan(),
      plan(),
      /not allowed by this site; the plan asks for them/,
    ],
  ])('%s', (_name, rule, policy, conforming, violating, message) => {
    expect(verdictOf(conforming, policy, rule)).toMatchObject({ verdict: 'conforms', ok: true });
    const bad = verdictOf(violating, policy, rule);
    expect(bad).toMatchObject({ verdict: 'violates', ok: false });
    expect(bad.message).toMatch(message);
  });

  test('a derived `<name>.missing` indicator is allowed with its feature', () => {
    const p = plan({
      model: { kind: 'logistic-regression', inputs: 2 },
      data: { features: ['age', 'age.missing'] },
    });
    expect(evaluatePolicy(p, { allowedFeatures: ['age'] }).verdict).toBe('conforms');
  });

  test("the site's population k never fails a plan: it is applied (the larger k wins) and said in words", () => {
    const policy: SitePolicy = { populationReports: { allowed: true, k: 20 } };
    expect(verdictOf(plan(), policy, 'populationReports.k')).toMatchObject({
      verdict: 'conforms',
      message: "population reports: the plan's k = 10; this site suppresses cells below its own k = 20",
    });
    expect(effectivePopulationK(plan(), policy)).toBe(20);
    const k30 = plan({ data: { features: TEST_FEATURES, population: { k: 30 } } });
    expect(verdictOf(k30, policy, 'populationReports.k').message).toMatch(/k = 30 meets this site's k = 20/);
    expect(effectivePopulationK(k30, policy)).toBe(30);
    expect(effectivePopulationK(plan(), {})).toBe(10);
  });

  test('a policy without rules has no lines and every plan conforms; autoApprove/autoReject are not rules', () => {
    expect(evaluatePolicy(plan(), {})).toEqual({ verdict: 'conforms', lines: [] });
    expect(evaluatePolicy(plan(), { autoApprove: true, autoReject: false })).toEqual({
      verdict: 'conforms',
      lines: [],
    });
  });

  test('several rules: one line each, in the documented order; every failed rule is named', () => {
    const e = evaluatePolicy(plan({ rounds: 30 }), {
      allowedModelKinds: ['logistic-regression'],
      requireSecureAggregation: true,
      dp: { required: true, maxEpsilon: 4 },
      maxRounds: 10,
    });
    expect(e.verdict).toBe('violates');
    expect(e.lines.map((l) => [l.rule, l.ok])).toEqual([
      ['allowedModelKinds', true],
      ['requireSecureAggregation', false],
      ['dp.required', false],
      ['dp.maxEpsilon', false],
      ['maxRounds', false],
    ]);
    expect(failedRules(e)).toEqual(['requireSecureAggregation', 'dp.required', 'dp.maxEpsilon', 'maxRounds']);
  });
});

describe('the privacy floors of the configuration add to the file: the stricter wins', () => {
  test.each<[string, SitePolicy, Parameters<typeof withPrivacyFloors>[1], SitePolicy]>([
    ['no floors: the file as it is', { maxRounds: 3 }, {}, { maxRounds: 3 }],
    [
      'a required flag turns a rule on',
      { dp: { maxEpsilon: 5 } },
      { requireSecureAggregation: true, requireDp: true },
      { requireSecureAggregation: true, dp: { maxEpsilon: 5, required: true } },
    ],
    ['the smaller maximum ε (floor stricter)', { dp: { maxEpsilon: 5 } }, { maxEpsilon: 3 }, { dp: { maxEpsilon: 3 } }],
    ['the smaller maximum ε (file stricter)', { dp: { maxEpsilon: 2 } }, { maxEpsilon: 3 }, { dp: { maxEpsilon: 2 } }],
    [
      'the larger population k (floor stricter), reports stay allowed',
      { populationReports: { allowed: true, k: 12 } },
      { minPopulationK: 20 },
      { populationReports: { allowed: true, k: 20 } },
    ],
    [
      'the larger population k (file stricter)',
      { populationReports: { allowed: true, k: 25 } },
      { minPopulationK: 20 },
      { populationReports: { allowed: true, k: 25 } },
    ],
    [
      'a k floor never re-allows reports the file forbids',
      { populationReports: { allowed: false } },
      { minPopulationK: 20 },
      { populationReports: { allowed: false, k: 20 } },
    ],
    ['a k floor without a file rule', {}, { minPopulationK: 20 }, { populationReports: { allowed: true, k: 20 } }],
  ])('%s', (_name, file, floors, merged) => {
    expect(withPrivacyFloors(file, floors)).toEqual(merged);
  });

  test('a plan the file accepts is refused when a floor is stricter (one evaluation decides)', () => {
    const p = plan({ privacy: { dp } });
    const eps = planEpsilon(p)!;
    const file: SitePolicy = { dp: { maxEpsilon: eps + 1 } };
    expect(evaluatePolicy(p, file).verdict).toBe('conforms');
    expect(evaluatePolicy(p, withPrivacyFloors(file, { maxEpsilon: eps - 0.1 })).verdict).toBe('violates');
    expect(evaluatePolicy(p, withPrivacyFloors(file, { requireSecureAggregation: true })).verdict).toBe('violates');
  });
});

describe('the policy file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-policy-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => fs.writeFileSync(path.join(dir, POLICY_FILE), text);

  test('absent: the empty policy, no digest', () => {
    expect(readPolicyFile(dir)).toEqual({ policy: {}, digest: null, file: path.join(dir, POLICY_FILE) });
  });

  test('valid: parsed, with a digest of its content that ignores layout and key order', () => {
    write('{"autoApprove": true, "requireSecureAggregation": true}');
    const a = readPolicyFile(dir);
    expect(a.policy).toEqual({ autoApprove: true, requireSecureAggregation: true });
    write('{\n  "requireSecureAggregation": true,\n  "autoApprove": true\n}\n');
    expect(readPolicyFile(dir).digest).toBe(a.digest);
    expect(a.digest).toBe(policyDigest(a.policy));
    write('{"autoApprove": false, "requireSecureAggregation": true}');
    expect(readPolicyFile(dir).digest).not.toBe(a.digest);
  });

  test('the cohort statistics part (cohortQueries) belongs to the same file: validated with it, part of its digest, not a plan rule', () => {
    write('{"autoApprove": true, "cohortQueries": {"allowed": true, "k": 20}}');
    const a = readPolicyFile(dir);
    expect(a.policy.cohortQueries).toEqual({ allowed: true, autoAnswer: false, k: 20 });
    expect(evaluatePolicy(plan(), a.policy)).toEqual({ verdict: 'conforms', lines: [] });
    write('{"autoApprove": true, "cohortQueries": {"allowed": false}}');
    expect(readPolicyFile(dir).digest).not.toBe(a.digest);
    write('{"cohortQueries": {"allowed": true, "k": 1}}');
    expect(() => readPolicyFile(dir)).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID', message: expect.stringContaining('cohortQueries.k: ') }),
    );
  });

  test.each([
    ['not JSON', '{autoApprove: true', /is not valid JSON/],
    ['an unknown rule (a typo is never ignored)', '{"requireSecureAgregation": true}', /Unrecognized key/],
    ['an unknown model kind', '{"allowedModelKinds": ["svm"]}', /allowedModelKinds\.0: /],
    ['a k below 2', '{"populationReports": {"allowed": true, "k": 1}}', /populationReports\.k: /],
    ['a negative ε', '{"dp": {"maxEpsilon": -1}}', /dp\.maxEpsilon: /],
  ])('invalid (%s): POLICY_INVALID naming the file and the field', (_name, text, message) => {
    write(text);
    let caught: unknown;
    try {
      readPolicyFile(dir);
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'POLICY_INVALID', message: expect.stringContaining(POLICY_FILE) });
    expect((caught as Error).message).toMatch(message);
  });
});
