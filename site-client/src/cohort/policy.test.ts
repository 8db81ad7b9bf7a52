import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CohortQuerySchema } from '@twinfed/shared';
import { POLICY_FILE } from '../governance/policy-file';
import { readPolicyFile } from '../governance/policy';
import { cohortFloor, cohortVerdict } from './policy';

const readCohortPolicy = (dir: string) => readPolicyFile(dir).policy.cohortQueries ?? null;

const query = CohortQuerySchema.parse({
  title: 't',
  source: { kind: 'csv' },
  groupBy: [{ kind: 'ageBand', cuts: [65] }],
  summaries: { features: ['bmi'] },
});

describe('the cohortQueries part of policy.json', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-cohort-policy-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (v: unknown) =>
    fs.writeFileSync(path.join(dir, POLICY_FILE), typeof v === 'string' ? v : JSON.stringify(v));

  test('absent file or absent key: no cohort policy; the plan rules beside it do not change it', () => {
    expect(readCohortPolicy(dir)).toBeNull();
    write({ requireSecureAggregation: true });
    expect(readCohortPolicy(dir)).toBeNull();
    write({ requireSecureAggregation: true, cohortQueries: { allowed: true, k: 20, epsilon: 1 } });
    expect(readCohortPolicy(dir)).toEqual({ allowed: true, autoAnswer: false, k: 20, epsilon: 1 });
  });

  test('an invalid part or a file that is not JSON is POLICY_INVALID naming the problem (one reader, one code)', () => {
    write({ cohortQueries: { allowed: true, k: 1 } });
    expect(() => readCohortPolicy(dir)).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID', message: expect.stringContaining('cohortQueries.k') }),
    );
    write({ cohortQueries: { allowed: true, typo: 1 } });
    expect(() => readCohortPolicy(dir)).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
    write('{ not json');
    expect(() => readCohortPolicy(dir)).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
  });
});

describe('verdicts and floors', () => {
  test('no policy, not allowed, features outside the list, allowed by hand, automatic', () => {
    expect(cohortVerdict(null, query).verdict).toBe('no-policy');
    expect(cohortVerdict({ allowed: false, autoAnswer: true }, query).verdict).toBe('not-allowed');
    expect(cohortVerdict({ allowed: true, autoAnswer: true, features: ['age'] }, query)).toEqual({
      verdict: 'not-allowed',
      reasons: ['feature "bmi" is not among the policy\'s features'],
    });
    expect(cohortVerdict({ allowed: true, autoAnswer: false, features: ['age', 'bmi'] }, query).verdict).toBe(
      'allowed',
    );
    expect(cohortVerdict({ allowed: true, autoAnswer: true }, query).verdict).toBe('auto-answer');
  });

  test("k is the largest of the query's, the policy's and 10; ε comes from the policy only", () => {
    expect(cohortFloor(null, {})).toEqual({ k: 10 });
    expect(cohortFloor(null, { k: 5 })).toEqual({ k: 10 });
    expect(cohortFloor({ allowed: true, autoAnswer: false, k: 20 }, { k: 15 })).toEqual({ k: 20 });
    expect(cohortFloor({ allowed: true, autoAnswer: false, k: 12, epsilon: 0.5 }, { k: 25 })).toEqual({
      k: 25,
      epsilon: 0.5,
    });
  });
});
