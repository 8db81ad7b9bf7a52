import { TwinfedError } from '@twinfed/shared';
import type { StrategyState } from './types';

/*
 * Strategy state as bytes (persisted with each round):
 *   "TFSS" | u8 format version (1) | u32 entry count |
 *   per entry, sorted by name: u16 name length | name (UTF-8) | u32 element count | float64 LE values
 * All integers little-endian. Sorting the names makes equal states give equal bytes.
 */
const MAGIC = [0x54, 0x46, 0x53, 0x53];
const VERSION = 1;

/** Encodes a state deterministically (see the format above). */
export function encodeStateBytes(state: StrategyState): Uint8Array {
  const names = Object.keys(state).sort();
  const encoded = names.map((n) => new TextEncoder().encode(n));
  let total = 4 + 1 + 4;
  names.forEach((n, i) => {
    total += 2 + encoded[i]!.length + 4 + 8 * state[n]!.length;
  });
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint8(4, VERSION);
  view.setUint32(5, names.length, true);
  let at = 9;
  names.forEach((n, i) => {
    const name = encoded[i]!;
    const values = state[n]!;
    view.setUint16(at, name.length, true);
    out.set(name, at + 2);
    at += 2 + name.length;
    view.setUint32(at, values.length, true);
    at += 4;
    for (let j = 0; j < values.length; j++, at += 8) view.setFloat64(at, values[j]!, true);
  });
  return out;
}

/**
 * Decodes bytes from {@link encodeStateBytes} and checks they hold exactly the `expected` names,
 * each a vector of `size` elements. Throws `INTERNAL` otherwise (state is the coordinator's own data).
 */
export function decodeStateBytes(
  bytes: Uint8Array,
  opts: { expected: readonly string[]; size: number },
): StrategyState {
  const fail = (why: string): never => {
    throw new TwinfedError('INTERNAL', `Corrupt strategy state: ${why}.`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, n: number): void => {
    if (at + n > bytes.length) fail('truncated');
  };
  need(0, 9);
  if (MAGIC.some((b, i) => bytes[i] !== b)) fail('bad magic');
  if (view.getUint8(4) !== VERSION) fail(`unknown format version ${view.getUint8(4)}`);
  const count = view.getUint32(5, true);
  const state: Record<string, Float64Array> = {};
  let at = 9;
  for (let e = 0; e < count; e++) {
    need(at, 2);
    const nameLength = view.getUint16(at, true);
    need(at + 2, nameLength + 4);
    const name = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at + 2, at + 2 + nameLength));
    at += 2 + nameLength;
    const length = view.getUint32(at, true);
    at += 4;
    need(at, 8 * length);
    if (Object.prototype.hasOwnProperty.call(state, name)) fail(`duplicate entry ${name}`);
    const values = new Float64Array(length);
    for (let j = 0; j < length; j++, at += 8) values[j] = view.getFloat64(at, true);
    state[name] = values;
  }
  if (at !== bytes.length) fail('trailing bytes');
  const names = Object.keys(state).sort();
  const expected = [...opts.expected].sort();
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) {
    fail(`entries [${names.join(', ')}], expected [${expected.join(', ')}]`);
  }
  for (const n of names) {
    if (state[n]!.length !== opts.size) fail(`${n} has ${state[n]!.length} elements, model has ${opts.size}`);
  }
  return state;
}

/** Zero vectors of `size` elements under each name. */
export function zeroState(names: readonly string[], size: number): StrategyState {
  const state: Record<string, Float64Array> = {};
  for (const n of names) state[n] = new Float64Array(size);
  return state;
}
