/**
 * Canonical JSON: the one byte string that gets hashed and signed for a JSON value.
 * Object keys sorted by UTF-16 code units (JavaScript's default sort), no whitespace, strings and numbers as
 * `JSON.stringify` writes them (so -0 becomes 0). Keys whose value is `undefined` are omitted, as in JSON.
 * Rejected with `VALIDATION_FAILED`: non-finite numbers, `undefined` in arrays, bigint, functions, symbols,
 * objects that are not plain (Date, Map, class instances, typed arrays) and cycles.
 */
import { TwinfedError } from '../errors';

function fail(message: string): never {
  throw new TwinfedError('VALIDATION_FAILED', `canonicalJson: ${message}`);
}

/**
 * Whether `value` is a plain object whose own keys come in sorted order (so `JSON.stringify` writes them in the
 * canonical order: it follows `Object.keys`) and whose values are strings, booleans, null or finite numbers (written
 * by `JSON.stringify` as here). Such an object's canonical text is `JSON.stringify`'s, in one native call.
 */
function flatSorted(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const obj = value as Record<string, unknown>;
  let previous: string | undefined;
  for (const k of Object.keys(obj)) {
    if (previous !== undefined && !(previous < k)) return false;
    previous = k;
    const v = obj[k];
    const t = typeof v;
    if (t !== 'string' && t !== 'boolean' && v !== null && !(t === 'number' && Number.isFinite(v))) return false;
  }
  return true;
}

/** True when every index of `a` holds a string or a {@link flatSorted} object (a hole or any other value: false). */
function allFlat(a: readonly unknown[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== 'string' && (typeof v !== 'object' || v === null || Array.isArray(v) || !flatSorted(v)))
      return false;
  }
  return true;
}

/** Below this many keys an object's keys are sorted by insertion: `Array.prototype.sort` allocates a work array. */
const INSERTION_SORT_KEYS = 24;

/**
 * The object's own keys in UTF-16 code-unit order, as `Array.prototype.sort` orders strings (`<` compares the same
 * way). An update header's keys and its metrics' are sorted at every signature check and decryption.
 */
function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj);
  if (keys.length > INSERTION_SORT_KEYS) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

function write(value: unknown, out: string[], seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) fail('non-finite number');
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      fail(`unsupported ${typeof value}`);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (Array.isArray(value) ? allFlat(value) : flatSorted(value)) {
    // The common cases of signed statements (lists of ids, lists of records such as share boxes or directory entries
    // built with their keys in order): one native call instead of one per item and key, same bytes.
    out.push(JSON.stringify(value));
    return;
  }
  if (seen.has(value)) fail('cycle');
  seen.add(value);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      const item: unknown = value[i];
      if (item === undefined) fail('undefined in array');
      write(item, out, seen);
    }
    out.push(']');
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) fail('not a plain object');
    const obj = value as Record<string, unknown>;
    out.push('{');
    let first = true;
    for (const k of sortedKeys(obj)) {
      const v = obj[k];
      if (v === undefined) continue;
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(k), ':');
      write(v, out, seen);
    }
    out.push('}');
  }
  seen.delete(value);
}

/** The canonical JSON text of `value` (see the module comment for the rules). */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, new Set());
  return out.join('');
}
