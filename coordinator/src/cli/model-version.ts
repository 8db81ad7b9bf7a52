/**
 * The model-version view the CLI reads from `GET /v1/models[/:id]`. The shared contract has no schema for it
 * yet, so this mirrors the store's `ModelVersion` record (id, lineage, round, meta, signature, weights digest)
 * and lets extra fields through. Replace with the shared schema once `schemas/api.ts` has one.
 */
import { z } from 'zod';
import { IdSchema } from '@twinfed/shared';

/** A published, signed model version as the coordinator serves it. */
export const ModelVersionViewSchema = z.looseObject({
  id: IdSchema,
  federationId: IdSchema,
  parentVersionId: IdSchema.nullable(),
  round: z.number().int(),
  /** Lowercase hex sha256 of the weights binary served at `routes.modelWeights(id)`. */
  weightsSha256: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex sha256'),
  /** The coordinator's Ed25519 signature over the version (base64). */
  signature: z.string().min(1),
  createdAt: z.string().min(1),
  /** Strategy, contributing sites, metrics, DP ε … as the coordinator recorded them. */
  meta: z.record(z.string(), z.unknown()).default({}),
});
/** A model version (see {@link ModelVersionViewSchema}). */
export type ModelVersionView = z.infer<typeof ModelVersionViewSchema>;

const MetaFieldsSchema = z.object({
  strategy: z.string().optional().catch(undefined),
  contributors: z.array(z.object({ siteId: z.string(), numExamples: z.number() })).optional().catch(undefined),
  metrics: z.record(z.string(), z.number()).optional().catch(undefined),
  dpEpsilon: z.number().optional().catch(undefined),
  dpMechanism: z.enum(['gaussian', 'skellam']).optional().catch(undefined),
  weightsSha256: z.string().optional().catch(undefined),
});

/** The well-known fields of a version's `meta`, each left undefined when absent or malformed. */
export type MetaFields = z.infer<typeof MetaFieldsSchema>;

/** Reads the well-known fields of `version.meta` without trusting its shape. */
export function metaFields(version: ModelVersionView): MetaFields {
  const parsed = MetaFieldsSchema.safeParse(version.meta);
  return parsed.success ? parsed.data : {};
}
