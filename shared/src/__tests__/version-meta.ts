import type { z } from 'zod';
import type { FullModelVersionMetaSchema } from '../envelope/model-version';
import { PROTOCOL_VERSION } from '../protocol';
import { weightsDigest } from '../weights/serialize';
import type { WeightSet } from '../weights/types';

/** A full-form version meta for tests: round 2 of fed-1 over `weights` (layout and digest from them), one contributor; `over` replaces fields. */
export function versionMetaFor(
  weights: WeightSet,
  over: Partial<z.infer<typeof FullModelVersionMetaSchema>> = {},
): z.infer<typeof FullModelVersionMetaSchema> {
  return {
    protocol: PROTOCOL_VERSION,
    federationId: 'fed-1',
    versionId: 'fed-1.v2',
    parentVersionId: 'fed-1.v1',
    round: 2,
    strategy: 'fedavg',
    layout: weights.layout.map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype })),
    weightsSha256: weightsDigest(weights),
    contributors: [{ siteId: 'site-a', numExamples: 10 }],
    metrics: { loss: 0.5 },
    planSha256: 'a'.repeat(64),
    createdAt: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}
