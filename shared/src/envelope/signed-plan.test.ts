import { generateIdentity } from '../crypto/identity';
import { PlanSchema } from '../schemas/plan';
import { codeOf } from '../__tests__/code-of';
import { planDigest } from './model-version';
import { SignedPlanMemo, signPlan, verifySignedPlan } from './signed-plan';

const coord = generateIdentity();
const plan = PlanSchema.parse({
  name: 'p',
  model: { kind: 'logistic-regression', inputs: 2 },
  data: { features: ['a', 'b'], population: { k: 10 } },
  strategy: { name: 'fedavg' },
  training: { steps: 1 },
  rounds: 3,
  minSites: 2,
  privacy: { secureAggregation: true },
});
const signedPlan = signPlan({
  federationId: 'fed-1',
  plan,
  createdAt: '2025-01-01T00:00:00.000Z',
  coordinatorSignSecretKey: coord.sign.secretKey,
});
const verify = (over: Partial<Parameters<typeof verifySignedPlan>[0]> = {}) =>
  codeOf(() =>
    verifySignedPlan({
      federationId: 'fed-1',
      plan,
      signedPlan,
      coordinatorSignPublicKey: coord.sign.publicKey,
      ...over,
    }),
  );

describe('signed plans', () => {
  test('verifies and returns the plan digest; survives a JSON round trip of plan and statement', () => {
    expect(
      verifySignedPlan({ federationId: 'fed-1', plan, signedPlan, coordinatorSignPublicKey: coord.sign.publicKey }),
    ).toBe(planDigest(plan));
    expect(signedPlan).toMatchObject({
      federationId: 'fed-1',
      planSha256: planDigest(plan),
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    expect(
      verify({
        plan: PlanSchema.parse(JSON.parse(JSON.stringify(plan))),
        signedPlan: JSON.parse(JSON.stringify(signedPlan)),
      }),
    ).toBe('none');
  });

  test('refuses a plan altered on the way: secure aggregation off, population k lowered, DP dropped, a round more', () => {
    expect(verify({ plan: { ...plan, privacy: { secureAggregation: false } } })).toBe('PLAN_SIGNATURE_INVALID');
    expect(verify({ plan: { ...plan, data: { ...plan.data, population: { ...plan.data.population!, k: 2 } } } })).toBe(
      'PLAN_SIGNATURE_INVALID',
    );
    expect(verify({ plan: { ...plan, rounds: 4 } })).toBe('PLAN_SIGNATURE_INVALID');
  });

  test('refuses a missing, malformed, re-signed, re-targeted or re-dated statement', () => {
    expect(verify({ signedPlan: undefined })).toBe('PLAN_SIGNATURE_INVALID');
    expect(verify({ signedPlan: { ...signedPlan, extra: 1 } })).toBe('PLAN_SIGNATURE_INVALID');
    expect(verify({ signedPlan: { ...signedPlan, signature: 'not base64!' } })).toBe('PLAN_SIGNATURE_INVALID');
    const other = generateIdentity();
    const forged = { plan: { ...plan, privacy: { secureAggregation: false } } };
    expect(
      verify({
        ...forged,
        signedPlan: signPlan({
          federationId: 'fed-1',
          plan: forged.plan,
          createdAt: signedPlan.createdAt,
          coordinatorSignSecretKey: other.sign.secretKey,
        }),
      }),
    ).toBe('PLAN_SIGNATURE_INVALID');
    expect(verify({ federationId: 'fed-2' })).toBe('PLAN_SIGNATURE_INVALID');
    expect(verify({ signedPlan: { ...signedPlan, federationId: 'fed-2' } })).toBe('PLAN_SIGNATURE_INVALID');
    expect(verify({ signedPlan: { ...signedPlan, createdAt: '2025-01-02T00:00:00.000Z' } })).toBe(
      'PLAN_SIGNATURE_INVALID',
    );
    expect(verify({ coordinatorSignPublicKey: other.sign.publicKey })).toBe('PLAN_SIGNATURE_INVALID');
  });

  test('names what failed', () => {
    expect(() =>
      verifySignedPlan({
        federationId: 'fed-1',
        plan: { ...plan, rounds: 4 },
        signedPlan,
        coordinatorSignPublicKey: coord.sign.publicKey,
      }),
    ).toThrow(/not the plan the coordinator signed/);
    expect(() =>
      verifySignedPlan({
        federationId: 'fed-1',
        plan,
        signedPlan: undefined,
        coordinatorSignPublicKey: coord.sign.publicKey,
      }),
    ).toThrow(/without its signature/);
  });
});

test('a memo of verified statements skips no check but the signature of a statement it verified under that key', () => {
  const memo = new SignedPlanMemo();
  const withMemo = (over: Partial<Parameters<typeof verifySignedPlan>[0]> = {}) => verify({ memo, ...over });
  expect(withMemo()).toBe('none');
  expect(memo.size).toBe(1);
  expect(withMemo()).toBe('none');
  expect(memo.size).toBe(1);
  // Held by the memo, the genuine statement still does not cover another plan, federation, key or signature.
  expect(withMemo({ plan: { ...plan, privacy: { secureAggregation: false } } })).toBe('PLAN_SIGNATURE_INVALID');
  expect(withMemo({ federationId: 'fed-2' })).toBe('PLAN_SIGNATURE_INVALID');
  expect(withMemo({ coordinatorSignPublicKey: generateIdentity().sign.publicKey })).toBe('PLAN_SIGNATURE_INVALID');
  const flipped = Buffer.from(signedPlan.signature, 'base64');
  flipped[0]! ^= 1;
  expect(withMemo({ signedPlan: { ...signedPlan, signature: flipped.toString('base64') } })).toBe(
    'PLAN_SIGNATURE_INVALID',
  );
  expect(withMemo({ signedPlan: { ...signedPlan, createdAt: '2025-01-02T00:00:00.000Z' } })).toBe(
    'PLAN_SIGNATURE_INVALID',
  );
  expect(memo.size).toBe(1); // failures are never kept
  // Bounded: the oldest statement goes first.
  for (let k = 0; k < SignedPlanMemo.SIZE + 3; k++)
    verifySignedPlan({
      federationId: `fed-${k + 10}`,
      plan,
      signedPlan: signPlan({
        federationId: `fed-${k + 10}`,
        plan,
        createdAt: signedPlan.createdAt,
        coordinatorSignSecretKey: coord.sign.secretKey,
      }),
      coordinatorSignPublicKey: coord.sign.publicKey,
      memo,
    });
  expect(memo.size).toBe(SignedPlanMemo.SIZE);
});
