/** Helpers shared by both store implementations so that their semantics stay identical. */

/** `base` with every defined key of `patch` applied (undefined values are ignored). */
export function applyPatch<T extends object>(base: T, patch: Partial<NoInfer<T>> | undefined): T {
  const out = { ...base };
  if (!patch) return out;
  for (const key of Object.keys(patch) as (keyof T)[]) {
    const value = patch[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** Byte-order comparison of strings, like SQLite's BINARY collation for ASCII ids and ISO times. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts by the given string keys in order (ascending), in place, and returns the array. */
export function sortByKeys<T>(items: T[], keys: ((item: T) => string)[]): T[] {
  return items.sort((x, y) => {
    for (const key of keys) {
      const c = compareStrings(key(x), key(y));
      if (c !== 0) return c;
    }
    return 0;
  });
}

/** A copy of a JSON value as it would come back from storage as text. */
function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A fresh copy of bytes (never a view onto the caller's or the store's buffer). */
export function cloneBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/**
 * A deep copy of a record restricted to `keys`: bytes are copied, arrays and objects go through JSON
 * (as they would through a database), primitives are kept. Missing optional keys become null.
 */
export function cloneRecord<T extends object>(source: T, keys: readonly (keyof T)[]): T {
  const out = {} as T;
  for (const key of keys) {
    const value = source[key] as unknown;
    let copy: unknown;
    if (value instanceof Uint8Array) copy = cloneBytes(value);
    else if (value !== null && typeof value === 'object') copy = cloneJson(value);
    else copy = value === undefined ? null : value;
    out[key] = copy as T[keyof T];
  }
  return out;
}

/** A nullable JSON column's text: null for an absent or null value. */
export function jsonOrNull(value: object | null | undefined): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
