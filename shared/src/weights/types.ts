/** Element type of every tensor twinfed moves. Only float32 today; the field exists so the wire format can grow. */
export type DType = 'float32';

/** One named tensor of a model: its name (e.g. `dense/kernel`), shape and dtype. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** The ordered tensors of a model. Two weight sets are compatible when their layouts are equal. */
export type Layout = readonly TensorSpec[];

/**
 * A model's weights as one flat `Float32Array`: the tensors of `layout`, concatenated in order,
 * each in row-major order. Aggregation works on `data` directly; no tensor library is needed.
 */
export interface WeightSet {
  readonly layout: Layout;
  readonly data: Float32Array;
}

/** Number of elements of one tensor. */
function tensorSize(spec: TensorSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1);
}

/** Number of elements of a whole layout. */
export function layoutSize(layout: Layout): number {
  return layout.reduce((n, t) => n + tensorSize(t), 0);
}

/** True when two layouts have the same names, shapes and dtypes in the same order. */
export function sameLayout(a: Layout, b: Layout): boolean {
  return (
    a.length === b.length &&
    a.every((t, i) => {
      const u = b[i]!;
      return (
        t.name === u.name &&
        t.dtype === u.dtype &&
        t.shape.length === u.shape.length &&
        t.shape.every((d, j) => d === u.shape[j])
      );
    })
  );
}
