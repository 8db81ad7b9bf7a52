/**
 * Published model versions never change: no statement updates or deletes a `model_versions` row. A version's
 * metadata lists every contributor, so at 1,000 sites parsing it again at every site's download was O(n) work per
 * request and O(n²) per round. The stores keep the parsed records they read lately, deep-frozen, and hand the same
 * object out again; a caller that tried to change one would throw.
 */
import type { ModelVersion } from './records';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The most recently read versions by id (least recently used out first). */
export class VersionCache {
  private readonly entries = new Map<string, ModelVersion>();

  constructor(private readonly capacity = 128) {}

  /** The cached version `id`, or undefined. */
  get(id: string): ModelVersion | undefined {
    const v = this.entries.get(id);
    if (v) {
      this.entries.delete(id);
      this.entries.set(id, v);
    }
    return v;
  }

  /**
   * The version of a committed `row`: the cached record of its id, or `parse(row)` frozen and cached. Only rows
   * read outside a transaction may pass here, so a rolled-back insert is never remembered.
   */
  of<R extends { id: string }>(row: R, parse: (row: R) => ModelVersion): ModelVersion {
    const cached = this.get(row.id);
    if (cached) return cached;
    const v = deepFreeze(parse(row));
    this.entries.set(v.id, v);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return v;
  }
}
