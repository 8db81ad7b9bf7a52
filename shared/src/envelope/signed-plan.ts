/**
 * Signed plans (coordinator → sites). The plan a site obeys travels in `federation.plan`; beside it the coordinator
 * serves a statement `{ federationId, planSha256, createdAt }` (the federation's id, {@link planDigest} of its plan
 * and its creation time) signed with its Ed25519 key over
 * sha256("TWINFED-SIGNED-PLAN-V1\n" ‖ canonicalJson(statement)). A site checks it against the key it pinned at
 * enrollment, so whoever sits between it and the coordinator cannot turn secure aggregation off, lower the population
 * k or drop ε. The one place this format is defined.
 */
import { z } from 'zod';
import { TwinfedError } from '../errors';
import { fromB64, toB64 } from '../crypto/encoding';
import { sha256 } from '../crypto/hash';
import { signDigest, verifyDigest } from '../crypto/signature';
import type { Plan } from '../schemas/plan';
import { canonicalJson } from './canonical-json';
import { planDigest } from './model-version';
import { IdSchema } from '../schemas/ids';
import { Sha256HexSchema } from './schema-helpers';

/** What the coordinator signs about a federation's plan. */
const PlanStatementSchema = z.strictObject({
  federationId: IdSchema,
  /** {@link planDigest} of the validated plan. */
  planSha256: Sha256HexSchema,
  /** The federation's creation time (fixed, so the statement and its signature never change). */
  createdAt: z.string().min(1).max(40),
});
/** A plan statement (see {@link PlanStatementSchema}). */
type PlanStatement = z.infer<typeof PlanStatementSchema>;

/** The statement with the coordinator's base64 Ed25519 signature, as served in `federation.signedPlan`. */
export const SignedPlanSchema = PlanStatementSchema.extend({
  signature: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64'),
});
/** A signed plan statement (see {@link SignedPlanSchema}). */
export type SignedPlan = z.infer<typeof SignedPlanSchema>;

function statementDigest(s: PlanStatement): Uint8Array {
  return sha256(
    'TWINFED-SIGNED-PLAN-V1\n' +
      canonicalJson({ federationId: s.federationId, planSha256: s.planSha256, createdAt: s.createdAt }),
  );
}

/** The coordinator's signed statement of a federation's plan. */
export function signPlan(opts: {
  federationId: string;
  plan: Plan;
  createdAt: string;
  coordinatorSignSecretKey: Uint8Array;
}): SignedPlan {
  const statement: PlanStatement = {
    federationId: opts.federationId,
    planSha256: planDigest(opts.plan),
    createdAt: opts.createdAt,
  };
  return { ...statement, signature: toB64(signDigest(statementDigest(statement), opts.coordinatorSignSecretKey)) };
}

/**
 * The plan statements one site has verified (statement digest, signature and key): a site is served the same signed
 * statement at every wake-up, and an Ed25519 verification of the same bytes under the same key always gives the same
 * answer, so it is done once. Only successes are kept, at most {@link SignedPlanMemo.SIZE}; everything else about the
 * plan (its digest against the statement, the federation) is still checked at every call.
 */
export class SignedPlanMemo {
  static readonly SIZE = 16;
  private readonly verified = new Set<string>();

  has(key: string): boolean {
    return this.verified.has(key);
  }

  add(key: string): void {
    if (this.verified.size >= SignedPlanMemo.SIZE) this.verified.delete(this.verified.values().next().value as string);
    this.verified.add(key);
  }

  get size(): number {
    return this.verified.size;
  }
}

/**
 * Checks the plan a site was served: the signed statement must be present and well formed, verify under the pinned
 * coordinator key, name `federationId`, and carry the digest of `plan`. Returns that digest. Throws
 * `PLAN_SIGNATURE_INVALID` (with what failed) otherwise. With `memo`, a statement it holds is not verified again.
 */
export function verifySignedPlan(opts: {
  federationId: string;
  plan: Plan;
  signedPlan: unknown;
  coordinatorSignPublicKey: Uint8Array;
  memo?: SignedPlanMemo;
}): string {
  if (opts.signedPlan === undefined || opts.signedPlan === null) {
    throw new TwinfedError(
      'PLAN_SIGNATURE_INVALID',
      `The coordinator served the plan of ${opts.federationId} without its signature: this site trains only on a plan the coordinator signed (upgrade the coordinator).`,
    );
  }
  const parsed = SignedPlanSchema.safeParse(opts.signedPlan);
  if (!parsed.success)
    throw new TwinfedError('PLAN_SIGNATURE_INVALID', `The signed plan statement of ${opts.federationId} is malformed.`);
  const s = parsed.data;
  let signature: Uint8Array;
  try {
    signature = fromB64(s.signature);
  } catch {
    throw new TwinfedError('PLAN_SIGNATURE_INVALID', `The signed plan statement of ${opts.federationId} is malformed.`);
  }
  const digest = statementDigest(s);
  const memoKey = opts.memo && `${toB64(opts.coordinatorSignPublicKey)} ${toB64(digest)} ${toB64(signature)}`;
  if (!(memoKey !== undefined && opts.memo!.has(memoKey))) {
    if (!verifyDigest({ digest, signature, publicKey: opts.coordinatorSignPublicKey })) {
      throw new TwinfedError(
        'PLAN_SIGNATURE_INVALID',
        `The plan statement of ${opts.federationId} is not signed by the coordinator this site is enrolled with.`,
      );
    }
    if (memoKey !== undefined) opts.memo!.add(memoKey);
  }
  if (s.federationId !== opts.federationId) {
    throw new TwinfedError(
      'PLAN_SIGNATURE_INVALID',
      `The signed plan statement is for federation ${s.federationId}, not ${opts.federationId}.`,
    );
  }
  const planSha256 = planDigest(opts.plan);
  if (planSha256 !== s.planSha256) {
    throw new TwinfedError(
      'PLAN_SIGNATURE_INVALID',
      `The plan served for ${opts.federationId} is not the plan the coordinator signed (digest ${planSha256.slice(0, 12)}…, signed ${s.planSha256.slice(0, 12)}…): it was altered on the way.`,
    );
  }
  return planSha256;
}
