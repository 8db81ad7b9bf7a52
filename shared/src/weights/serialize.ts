/**
 * Binary wire format of a {@link WeightSet} ("TWFW", version 1), also the canonical bytes its digest covers:
 *
 *   offset 0  "TWFW" (4 bytes ASCII)
 *          4  format version (u8) = 1
 *          5  header length H (u32 little-endian)
 *          9  header: canonical JSON (UTF-8) of {"layout":[{"dtype","name","shape"}…]}
 *      9 + H  zero padding to the next multiple of 4
 *          D  float32 little-endian data, exactly layoutSize(layout) × 4 bytes, nothing after it
 *
 * Every field is checked on read; lengths in the input are never trusted. The header must be byte-for-byte
 * canonical, so one weight set has exactly one encoding and one digest.
 */
import { z } from 'zod';
import { TwinfedError } from '../errors';
import { limits } from '../protocol';
import { concatBytes, fromUtf8, utf8 } from '../crypto/encoding';
import { sha256Parts } from '../crypto/hash';
import { canonicalJson } from '../envelope/canonical-json';
import { LITTLE_ENDIAN_HOST, float32FromLE, float32ToLE } from './endian';
import { LayoutSchema, plainLayout } from './layout-schema';
import { layoutSize, sameLayout, type Layout, type WeightSet } from './types';

/** Magic bytes of serialised weights. */
const WEIGHTS_MAGIC = 'TWFW';
/** Current weights format version. */
const WEIGHTS_FORMAT_VERSION = 1;
/** Largest accepted weights header (JSON layout), in bytes. */
const MAX_WEIGHTS_HEADER_BYTES = 1024 * 1024;

const PREFIX_BYTES = 9;
const MAGIC = utf8(WEIGHTS_MAGIC);
const HeaderSchema = z.strictObject({ layout: LayoutSchema });

const invalid = (message: string): TwinfedError => new TwinfedError('INVALID_WEIGHTS', message);
const align4 = (n: number): number => (n + 3) & ~3;

/** Throws `NON_FINITE_WEIGHTS` (with the first bad index in details) when `data` holds NaN or ±Infinity. */
export function assertFinite(data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x - x !== 0) throw new TwinfedError('NON_FINITE_WEIGHTS', undefined, { details: { index: i } });
  }
}

function checkWeightSet(ws: WeightSet): Layout {
  if (!(ws?.data instanceof Float32Array)) throw invalid('Weights data must be a Float32Array.');
  const parsed = LayoutSchema.safeParse(plainLayout(ws.layout ?? []));
  if (!parsed.success) throw invalid('The layout is invalid.');
  if (ws.data.length !== layoutSize(parsed.data)) throw invalid('The data length does not match the layout.');
  assertFinite(ws.data);
  return parsed.data;
}

/** Magic, version, header length, header and padding: everything before the float data. */
function encodePrefix(layout: Layout): Uint8Array {
  const header = utf8(canonicalJson({ layout: plainLayout(layout) }));
  const prefix = new Uint8Array(align4(PREFIX_BYTES + header.byteLength));
  prefix.set(MAGIC, 0);
  prefix[4] = WEIGHTS_FORMAT_VERSION;
  new DataView(prefix.buffer).setUint32(5, header.byteLength, true);
  prefix.set(header, PREFIX_BYTES);
  return prefix;
}

/**
 * The canonical bytes of `ws`. Throws `INVALID_WEIGHTS` when the data length does not match the layout or
 * the layout is invalid, `NON_FINITE_WEIGHTS` on NaN/Infinity.
 */
export function serializeWeights(ws: WeightSet): Uint8Array {
  return concatBytes(serializeWeightsParts(ws));
}

/**
 * The canonical bytes of `ws` as consecutive parts (prefix, then the float data — on little-endian hosts a
 * view over `ws.data`, not a copy), for callers that stream, hash or encrypt them without concatenating.
 * Validates like {@link serializeWeights}.
 */
export function serializeWeightsParts(ws: WeightSet): Uint8Array[] {
  const layout = checkWeightSet(ws);
  return [encodePrefix(layout), float32ToLE(ws.data)];
}

/** SHA-256 (hex) of the canonical bytes of `ws`, computed without building them. Equals `sha256Hex(serializeWeights(ws))`. */
export function weightsDigest(ws: WeightSet): string {
  return Buffer.from(sha256Parts(serializeWeightsParts(ws))).toString('hex');
}

/** Options of {@link deserializeWeights}. */
interface DeserializeOptions {
  /** When given, the decoded layout must equal it (names, shapes, dtypes, order). */
  readonly expectedLayout?: Layout;
  /** Largest accepted input; default `limits.maxUpdateBytes`. Larger input throws `PAYLOAD_TOO_LARGE`. */
  readonly maxBytes?: number;
}

function readHeader(bytes: Uint8Array): { layout: Layout; dataOffset: number } {
  if (bytes.byteLength < PREFIX_BYTES) throw invalid('Truncated weights.');
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) throw invalid('Not a twinfed weights file.');
  if (bytes[4] !== WEIGHTS_FORMAT_VERSION) throw invalid('Unsupported weights format version.');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(5, true);
  if (headerLength > MAX_WEIGHTS_HEADER_BYTES || headerLength > bytes.byteLength - PREFIX_BYTES)
    throw invalid('Bad header length.');
  const text = fromUtf8(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength), 'INVALID_WEIGHTS');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid('The weights header is not JSON.');
  }
  const parsed = HeaderSchema.safeParse(json);
  if (!parsed.success) throw invalid('The weights header does not match its schema.');
  if (canonicalJson(json) !== text) throw invalid('The weights header is not canonical.');
  const dataOffset = align4(PREFIX_BYTES + headerLength);
  if (dataOffset > bytes.byteLength) throw invalid('Truncated weights.');
  for (let i = PREFIX_BYTES + headerLength; i < dataOffset; i++) if (bytes[i] !== 0) throw invalid('Non-zero padding.');
  return { layout: parsed.data.layout, dataOffset };
}

/** Element count of `layout`, or -1 once it exceeds `max` (no overflow on hostile shapes). */
function boundedSize(layout: Layout, max: number): number {
  let total = 0;
  for (const t of layout) {
    let n = 1;
    for (const d of t.shape) {
      n *= d;
      if (n > max) return -1;
    }
    total += n;
    if (total > max) return -1;
  }
  return total;
}

/**
 * Parses and fully validates serialised weights: magic, version, header length, UTF-8, JSON schema,
 * canonical header, zero padding, exact data length, optional expected layout, finiteness.
 * Throws `PAYLOAD_TOO_LARGE`, `INVALID_WEIGHTS` or `NON_FINITE_WEIGHTS`. The result owns its memory.
 */
export function deserializeWeights(bytes: Uint8Array, options: DeserializeOptions = {}): WeightSet {
  return decode(bytes, options, false);
}

/**
 * Like {@link deserializeWeights}, but when the float data in `bytes` is 4-byte aligned on a little-endian
 * host the result is a view over `bytes` (no copy). For callers that own `bytes` and never reuse it
 * (e.g. a freshly decrypted or freshly read buffer).
 */
export function deserializeOwnedWeights(bytes: Uint8Array, options: DeserializeOptions = {}): WeightSet {
  return decode(bytes, options, true);
}

function decode(bytes: Uint8Array, options: DeserializeOptions, owned: boolean): WeightSet {
  if (!(bytes instanceof Uint8Array)) throw invalid('Weights must be bytes.');
  const maxBytes = options.maxBytes ?? limits.maxUpdateBytes;
  if (bytes.byteLength > maxBytes) throw new TwinfedError('PAYLOAD_TOO_LARGE');
  const { layout, dataOffset } = readHeader(bytes);
  const available = bytes.byteLength - dataOffset;
  const n = boundedSize(layout, available / 4);
  if (n < 0 || n * 4 !== available) throw invalid('The data length does not match the layout.');
  if (options.expectedLayout && !sameLayout(layout, options.expectedLayout))
    throw invalid('The layout differs from the expected one.');
  const start = bytes.byteOffset + dataOffset;
  const data =
    owned && LITTLE_ENDIAN_HOST && start % 4 === 0
      ? new Float32Array(bytes.buffer, start, n)
      : float32FromLE(bytes.subarray(dataOffset));
  assertFinite(data);
  return { layout, data };
}
