/** zod schemas of tensor specs and layouts, shared by the weights header and model-version metadata. */
import { z } from 'zod';
import type { Layout } from './types';

/** Largest tensor rank accepted on the wire. */
const MAX_TENSOR_RANK = 8;
/** Most tensors a layout may have on the wire. */
const MAX_LAYOUT_TENSORS = 4096;

/** One tensor spec: non-empty name (≤ 256 chars), shape of positive integers (rank ≤ 8), dtype float32. */
const TensorSpecSchema = z.strictObject({
  name: z.string().min(1).max(256),
  shape: z
    .array(
      z
        .int()
        .min(1)
        .max(2 ** 31 - 1),
    )
    .max(MAX_TENSOR_RANK),
  dtype: z.literal('float32'),
});

/** A layout: up to 4096 tensor specs with unique names. */
export const LayoutSchema = z
  .array(TensorSpecSchema)
  .max(MAX_LAYOUT_TENSORS)
  .refine((l) => new Set(l.map((t) => t.name)).size === l.length, { message: 'tensor names must be unique' });

/** A plain copy of `layout` holding only the spec fields, in a fixed shape (for hashing and headers). */
export function plainLayout(layout: Layout): Layout {
  return layout.map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype }));
}
