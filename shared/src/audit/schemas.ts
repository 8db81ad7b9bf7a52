/** Wire schemas of the audit routes and the verification report (coordinator API, CLIs). */
import { z } from 'zod';
import { SignedAuditHeadSchema } from './signed-head';

const Hash = z.string().regex(/^[0-9a-f]{64}$/);

export const AuditEntrySchema = z.strictObject({
  seq: z.int().min(1),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  detail: z.record(z.string(), z.unknown()),
  prevHash: Hash,
  hash: Hash,
});

/** `GET /v1/admin/audit?after=<seq>&limit=<n>`: entries oldest first after `after`; `next` is the seq to page on (null at the end). */
export const AuditListResponseSchema = z.strictObject({
  entries: z.array(AuditEntrySchema),
  next: z.int().min(1).nullable(),
});
export type AuditListResponse = z.infer<typeof AuditListResponseSchema>;

export const AuditBreakSchema = z.strictObject({ seq: z.int(), reason: z.string() });

/** The result of verifying a whole audit trail (chain and signed heads). */
export const AuditVerifyReportSchema = z.strictObject({
  ok: z.boolean(),
  /** Entries verified before the first break (all of them when ok). */
  entries: z.int().min(0),
  /** Signed heads checked. */
  heads: z.int().min(0),
  /** The last verified entry. */
  head: z.strictObject({ seq: z.int(), hash: Hash }).nullable(),
  /** The last signed head that verified and matches the chain. */
  lastSignedHead: SignedAuditHeadSchema.nullable(),
  /** The first entry that is not what was written (null when intact). */
  firstBad: AuditBreakSchema.nullable(),
  /** The first signed head that does not verify or does not match the chain. */
  badHead: AuditBreakSchema.nullable(),
});
export type AuditVerifyReport = z.infer<typeof AuditVerifyReportSchema>;
