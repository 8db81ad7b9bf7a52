/**
 * Published model versions never change: no statement updates or deletes a `model_versions` row. A version's
 * metadata lists every contributor, so at 1,000 sites parsing it again at every site's download was O(n) work per
 * request and O(n²) per round. The stores keep the parsed records they read lately, deep-frozen, and hand the same
 * object out again; a caller that tried to change one would throw.
 */
import { deepFreeze } from './frozen-json-cache';
import type { ModelVersion } from './records';

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

/**
 * The weights of recently read versions (immutable like their records: no statement updates or deletes a
 * `version_weights` row), least recently used out first, at most `maxBytes` in all. Every site downloads the round's
 * base and evaluates the new version, so at n sites the same bytes were read n times per round. Callers get a copy.
 */
export class WeightsCache {
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 2 ** 20) {}

  /** A copy of the cached weights of version `id`, or undefined. */
  get(id: string): Uint8Array | undefined {
    const w = this.entries.get(id);
    if (!w) return undefined;
    this.entries.delete(id);
    this.entries.set(id, w);
    return w.slice();
  }

  /** Remembers committed weights (read outside a transaction); larger than the whole cache: not kept. */
  put(id: string, weights: Uint8Array): void {
    if (weights.byteLength > this.maxBytes || this.entries.has(id)) return;
    this.entries.set(id, weights.slice());
    this.bytes += weights.byteLength;
    for (const [old, w] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(old);
      this.bytes -= w.byteLength;
    }
  }
}
