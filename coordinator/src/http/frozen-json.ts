/**
 * `JSON.stringify`'s bytes for answers that repeat large immutable parts. The secure-aggregation state a site reads
 * several times per round carries, at 500 sites, its neighbourhood's signed directory entries, U2's signed keys, its
 * own share boxes and the ids of S, U2 and U3 (≈ 150 KB), nearly all of it the same objects on every read of the
 * round: serialising and encoding them again on each read was a tenth of the coordinator's busy time. Here every
 * deeply frozen object or array met inside the value is serialised once and its UTF-8 bytes kept (a WeakMap: they
 * live as long as the object, which the round's caches bound); the rest is serialised on each call. Frozen means
 * unchangeable, so a kept serialisation cannot go stale: an object that is frozen but holds a mutable one is not kept.
 */

const kept = new WeakMap<object, Buffer>();
/** Objects already found not deeply frozen (so the check is not repeated on every answer). */
const mutable = new WeakSet<object>();

function deeplyFrozen(value: object): boolean {
  if (mutable.has(value)) return false;
  if (!Object.isFrozen(value)) return false;
  for (const v of Object.values(value) as unknown[])
    if (typeof v === 'object' && v !== null && !kept.has(v) && !deeplyFrozen(v)) {
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
  // Kept bytes stay right: what was deeply frozen stays so.
  let bytes = kept.get(value);
  if (!bytes && Object.isFrozen(value) && deeplyFrozen(value))
    kept.set(value, (bytes = Buffer.from(JSON.stringify(value))));
  if (bytes) {
    out.bytes(bytes);
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
 * The UTF-8 bytes of `JSON.stringify(value)`, reusing the kept bytes of every deeply frozen object or array inside
 * it. `value` is plain data (an object or array; JSON.stringify's replacer and indentation are not supported).
 */
export function frozenJson(value: object): Buffer {
  const out = new Parts();
  write(out, value);
  out.flush();
  return Buffer.concat(out.parts);
}
