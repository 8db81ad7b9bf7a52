/**
 * `JSON.stringify`'s bytes for answers that repeat large immutable parts. The secure-aggregation state a site reads
 * several times per round carries, at 500 sites, its neighbourhood's signed directory entries, U2's signed keys, its
 * own share boxes and the ids of S, U2 and U3 (≈ 150 KB), nearly all of it the same objects on every read of the
 * round: serialising and encoding them again on each read was a tenth of the coordinator's busy time. Here every
 * deeply frozen array met inside the value is serialised and encoded once and its bytes kept, to be written as they
 * are (a part of its own: no copy into one buffer); a deeply frozen object's JSON text is kept; the rest is serialised
 * on each call. Both caches are WeakMaps, so what is kept lives as long as the object, which the round's caches
 * bound. Frozen means unchangeable, so nothing kept can go stale: an object that is frozen but holds a mutable one is
 * not kept.
 */

const keptBytes = new WeakMap<object, Buffer>();
const keptText = new WeakMap<object, string>();
/** Objects already found not deeply frozen (so the check is not repeated on every answer). */
const mutable = new WeakSet<object>();

function deeplyFrozen(value: object): boolean {
  if (mutable.has(value)) return false;
  if (!Object.isFrozen(value)) return false;
  for (const v of Object.values(value) as unknown[])
    if (typeof v === 'object' && v !== null && !keptText.has(v) && !keptBytes.has(v) && !deeplyFrozen(v)) {
      mutable.add(value);
      return false;
    }
  return true;
}

/** Collects text and kept byte runs in order. */
class Parts {
  private text = '';
  readonly parts: Buffer[] = [];

  raw(s: string): void {
    this.text += s;
  }

  bytes(b: Buffer): void {
    this.flush();
    this.parts.push(b);
  }

  flush(): void {
    if (this.text.length > 0) this.parts.push(Buffer.from(this.text));
    this.text = '';
  }
}

/** What JSON.stringify leaves out of an object and writes as null in an array. */
const skipped = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

function write(out: Parts, value: unknown): void {
  if (typeof value !== 'object' || value === null) {
    out.raw(JSON.stringify(value));
    return;
  }
  // What is kept stays right: what was deeply frozen stays so.
  const bytes = keptBytes.get(value);
  if (bytes) return out.bytes(bytes);
  const text = keptText.get(value);
  if (text !== undefined) return out.raw(text);
  if (Object.isFrozen(value) && deeplyFrozen(value)) {
    const json = JSON.stringify(value);
    if (Array.isArray(value)) {
      const encoded = Buffer.from(json);
      keptBytes.set(value, encoded);
      out.bytes(encoded);
    } else {
      keptText.set(value, json);
      out.raw(json);
    }
    return;
  }
  if (Array.isArray(value)) {
    out.raw('[');
    value.forEach((v: unknown, i) => {
      if (i > 0) out.raw(',');
      if (skipped(v)) out.raw('null');
      else write(out, v);
    });
    out.raw(']');
    return;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    out.raw(JSON.stringify(value)); // a Date, say: left to JSON.stringify
    return;
  }
  out.raw('{');
  let first = true;
  for (const [k, v] of Object.entries(value)) {
    if (skipped(v)) continue;
    out.raw(`${first ? '' : ','}${JSON.stringify(k)}:`);
    first = false;
    write(out, v);
  }
  out.raw('}');
}

/**
 * The UTF-8 bytes of `JSON.stringify(value)` as parts to write one after the other (`answerBytes`), reusing what is
 * kept of the deeply frozen arrays and objects inside it. `value` is plain data (an object or array; JSON.stringify's
 * replacer and indentation are not supported).
 */
export function frozenJsonParts(value: object): Buffer[] {
  const out = new Parts();
  write(out, value);
  out.flush();
  return out.parts;
}
