/** The well-known fields of a model version's `meta` (the version itself is the shared `ModelVersionViewSchema`). */
import { z } from 'zod';
import type { ModelVersionView } from '@twinfed/shared';

const MetaFieldsSchema = z.object({
  strategy: z.string().optional().catch(undefined),
  contributors: z
    .array(z.object({ siteId: z.string(), numExamples: z.number() }))
    .optional()
    .catch(undefined),
  metrics: z.record(z.string(), z.number()).optional().catch(undefined),
  dpEpsilon: z.number().optional().catch(undefined),
  dpMechanism: z.enum(['gaussian', 'skellam']).optional().catch(undefined),
  weightsSha256: z.string().optional().catch(undefined),
});

/** The well-known fields of a version's `meta`, each left undefined when absent or malformed. */
type MetaFields = z.infer<typeof MetaFieldsSchema>;

/** Reads the well-known fields of `version.meta` without trusting its shape. */
export function metaFields(version: ModelVersionView): MetaFields {
  const parsed = MetaFieldsSchema.safeParse(version.meta);
  return parsed.success ? parsed.data : {};
}
