/** The header of an update envelope (site → coordinator) and its zod schema. */
import { z } from 'zod';
import { BOX_NONCE_BYTES } from '../crypto/box';
import { KEY_BYTES } from '../crypto/identity';
import { EvaluationReportSchema } from '../schemas/api';
import { IdSchema } from '../schemas/ids';
import { b64OfLength, metricsSchema } from './schema-helpers';

/** Most metrics an update may report. */
const MAX_UPDATE_METRICS = 64;

/**
 * Update envelope header (strict: unknown keys are rejected). `nonce` is the box nonce of the ciphertext
 * (24 bytes, base64); `signature` is the site's Ed25519 signature (64 bytes, base64) over
 * sha256("TWINFED-UPDATE-V1\n" ‖ canonicalJson(header without signature) ‖ sha256(ciphertext)).
 */
export const UpdateHeaderSchema = z.strictObject({
  protocol: z.int().min(1),
  federationId: IdSchema,
  round: z.int().min(1),
  siteId: IdSchema,
  baseVersionId: IdSchema,
  numExamples: z.int().min(1),
  metrics: metricsSchema(MAX_UPDATE_METRICS),
  nonce: b64OfLength(BOX_NONCE_BYTES),
  sentAt: z.iso.datetime(),
  /**
   * Present on a secure-aggregation update: the payload is then the site's masked vector (little-endian uint64
   * ring elements, see crypto/secagg), not weights, and `commitment` binds the site's self-mask seed.
   */
  secagg: z.strictObject({ commitment: b64OfLength(32) }).optional(),
  /**
   * The site's evaluation of `baseVersionId` on its held-out rows, when it travels with the update instead of its own
   * `POST /v1/models/:vid/evaluations` (plain rounds only: never under secure aggregation or DP). The coordinator
   * takes it exactly as that route would, in the same commit as the update.
   */
  baseEvaluation: EvaluationReportSchema.optional(),
  signature: b64OfLength(KEY_BYTES.signature),
});

/** A validated update header. */
export type UpdateHeader = z.infer<typeof UpdateHeaderSchema>;

/** The header fields covered by the signature and bound into the AEAD (everything but `signature`). */
export const UnsignedUpdateHeaderSchema = UpdateHeaderSchema.omit({ signature: true });

/** An update header without its signature. */
export type UnsignedUpdateHeader = z.infer<typeof UnsignedUpdateHeaderSchema>;

/** What the caller of `sealUpdate` provides: nonce and signature are added while sealing. */
export type UpdateHeaderInput = Omit<UpdateHeader, 'nonce' | 'signature'>;
