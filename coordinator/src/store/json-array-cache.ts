import { FrozenJsonCache } from './frozen-json-cache';

/**
 * A round's selection is stored as JSON text; at 1,000 sites it is ~30 kB that every upload and every `rounds/current`
 * parsed again (1,000 new strings and their garbage per request, O(n²) per round). {@link JsonArrayCache} keeps the
 * arrays of the texts it parsed lately and hands out a shallow copy (pointers only: the strings are shared), so a
 * caller may still change what it got without changing what the next one gets. Keyed by the text itself, a changed
 * column is simply another key: nothing to invalidate.
 */
export class JsonArrayCache<T extends string | number> {
  /** The parsed arrays, deep-frozen (the same recency and capacity as any text-keyed cache of the store). */
  private readonly arrays: FrozenJsonCache<readonly T[]>;

  constructor(capacity = 16) {
    this.arrays = new FrozenJsonCache(capacity);
  }

  /**
   * A fresh array equal to `JSON.parse(text)` (an array of strings or numbers). Copied by spreading: V8's `slice` of a
   * frozen array takes a slow path (≈ 50 µs for 500 ids against 0.6 µs; every `getRound` copies its selection).
   */
  parse(text: string): T[] {
    return [...this.arrays.parse(text)];
  }
}
