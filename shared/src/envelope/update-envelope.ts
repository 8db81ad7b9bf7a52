/**
 * Update envelopes: a site's encrypted, signed weights for one round.
 *
 *   offset 0  "TWFU" · 4: version (u8) = 1 · 5: header length H (u32 LE)
 *          9  header: canonical JSON (UTF-8) of an {@link UpdateHeader}
 *      9 + H  ciphertext = sealBox(serializeWeights(weights)), AAD = canonicalJson(header without signature)
 *
 * The signature covers the unsigned header and sha256(ciphertext); the AEAD binds the same header, so the
 * ciphertext cannot be moved under another header even by someone who can sign. Verification order on the
 * coordinator: {@link parseUpdate} (no crypto) → look up the site → {@link verifyUpdateSignature} →
 * {@link openUpdate}.
 */
import { TwinfedError } from '../errors';
import { PROTOCOL_VERSION, limits } from '../protocol';
import { openBox, newBoxNonce, sealBoxParts } from '../crypto/box';
import { concatBytes, fromB64, fromUtf8, toB64, utf8 } from '../crypto/encoding';
import { sha256, sha256Hex, sha256Parts } from '../crypto/hash';
import type { Identity } from '../crypto/identity';
import { signDigest, verifyDigest } from '../crypto/signature';
import { deserializeOwnedWeights, serializeWeightsParts } from '../weights/serialize';
import type { Layout, WeightSet } from '../weights/types';
import { canonicalJson } from './canonical-json';
import {
  UnsignedUpdateHeaderSchema,
  UpdateHeaderSchema,
  type UnsignedUpdateHeader,
  type UpdateHeader,
  type UpdateHeaderInput,
} from './update-header';

/** Magic bytes of an update envelope. */
const UPDATE_MAGIC = 'TWFU';
/** Current update envelope framing version. */
const UPDATE_FORMAT_VERSION = 1;
/** Largest accepted envelope header, in bytes. */
const MAX_UPDATE_HEADER_BYTES = 64 * 1024;

const PREFIX_BYTES = 9;
const MAGIC = utf8(UPDATE_MAGIC);
const SIGNING_PREFIX = 'TWINFED-UPDATE-V1\n';

const invalid = (message: string): TwinfedError => new TwinfedError('INVALID_ENVELOPE', message);

function unsignedOf(header: UpdateHeader): UnsignedUpdateHeader {
  const { signature: _signature, ...rest } = header;
  return rest;
}

function signingDigest(aad: Uint8Array, ciphertextSha256: Uint8Array): Uint8Array {
  return sha256Parts([SIGNING_PREFIX, aad, ciphertextSha256]);
}

/**
 * Encrypts `weights` to the coordinator and signs the result with the site's identity. Adds a fresh
 * `nonce`; `header.protocol` must be {@link PROTOCOL_VERSION}. Returns the envelope bytes.
 * Throws `INVALID_ENVELOPE` on a bad header, `INVALID_WEIGHTS`/`NON_FINITE_WEIGHTS` on bad weights.
 */
export function sealUpdate(opts: {
  header: UpdateHeaderInput;
  weights: WeightSet;
  identity: Identity;
  coordinatorBoxPublicKey: Uint8Array;
}): Uint8Array {
  if (opts.header.secagg) throw invalid('A weights update has no secure-aggregation commitment.');
  return sealPayload({ ...opts, payload: serializeWeightsParts(opts.weights) });
}

/**
 * Like {@link sealUpdate} for secure aggregation: the payload is the site's masked ring vector (little-endian
 * uint64 bytes), and the header must carry `secagg.commitment`.
 */
export function sealMaskedUpdate(opts: {
  header: UpdateHeaderInput;
  masked: Uint8Array;
  identity: Identity;
  coordinatorBoxPublicKey: Uint8Array;
}): Uint8Array {
  if (!opts.header.secagg) throw invalid('A masked update needs its secure-aggregation commitment.');
  if (opts.masked.byteLength === 0 || opts.masked.byteLength % 8 !== 0)
    throw invalid('A masked update is a whole number of 8-byte ring elements.');
  return sealPayload({ ...opts, payload: [opts.masked] });
}

function sealPayload(opts: {
  header: UpdateHeaderInput;
  payload: Uint8Array[];
  identity: Identity;
  coordinatorBoxPublicKey: Uint8Array;
}): Uint8Array {
  const nonce = newBoxNonce();
  const parsed = UnsignedUpdateHeaderSchema.safeParse({ ...opts.header, nonce: toB64(nonce) });
  if (!parsed.success) throw invalid('The update header is invalid.');
  if (parsed.data.protocol !== PROTOCOL_VERSION) throw new TwinfedError('PROTOCOL_MISMATCH');
  const aad = utf8(canonicalJson(parsed.data));
  // Encrypt the payload part by part and frame the ciphertext parts once: one copy of the payload.
  const { parts } = sealBoxParts({
    plaintext: opts.payload,
    aad,
    recipientBoxPublicKey: opts.coordinatorBoxPublicKey,
    senderBoxSecretKey: opts.identity.box.secretKey,
    nonce,
  });
  const signature = toB64(signDigest(signingDigest(aad, sha256Parts(parts)), opts.identity.sign.secretKey));
  const headerBytes = utf8(canonicalJson({ ...parsed.data, signature }));
  const prefix = new Uint8Array(PREFIX_BYTES);
  prefix.set(MAGIC, 0);
  prefix[4] = UPDATE_FORMAT_VERSION;
  new DataView(prefix.buffer).setUint32(5, headerBytes.byteLength, true);
  return concatBytes([prefix, headerBytes, ...parts]);
}

/** An envelope split into its validated header and its ciphertext (a view into the input, not a copy). */
interface ParsedUpdate {
  readonly header: UpdateHeader;
  readonly ciphertext: Uint8Array;
}

/**
 * Splits and validates an envelope's framing and header schema without any cryptography.
 * Throws `PAYLOAD_TOO_LARGE` (over `maxBytes`, default `limits.maxUpdateBytes`), `INVALID_ENVELOPE`
 * (framing, UTF-8, JSON, non-canonical header, schema) or `PROTOCOL_MISMATCH`.
 */
export function parseUpdate(bytes: Uint8Array, options: { maxBytes?: number } = {}): ParsedUpdate {
  if (!(bytes instanceof Uint8Array)) throw invalid('The envelope must be bytes.');
  if (bytes.byteLength > (options.maxBytes ?? limits.maxUpdateBytes)) throw new TwinfedError('PAYLOAD_TOO_LARGE');
  if (bytes.byteLength < PREFIX_BYTES) throw invalid('Truncated envelope.');
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) throw invalid('Not an update envelope.');
  if (bytes[4] !== UPDATE_FORMAT_VERSION) throw invalid('Unsupported envelope version.');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(5, true);
  if (headerLength > MAX_UPDATE_HEADER_BYTES || headerLength > bytes.byteLength - PREFIX_BYTES)
    throw invalid('Bad header length.');
  const text = fromUtf8(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength), 'INVALID_ENVELOPE');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid('The envelope header is not JSON.');
  }
  const parsed = UpdateHeaderSchema.safeParse(json);
  if (!parsed.success) {
    // A header wrong only in the evaluation it carries: the site learns which part was refused.
    if (parsed.error.issues.every((i) => i.path[0] === 'baseEvaluation'))
      throw new TwinfedError('INVALID_BASE_EVALUATION', undefined, {
        details: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    throw invalid('The envelope header does not match its schema.');
  }
  if (canonicalJson(json) !== text) throw invalid('The envelope header is not canonical.');
  if (parsed.data.protocol !== PROTOCOL_VERSION) throw new TwinfedError('PROTOCOL_MISMATCH');
  return { header: parsed.data, ciphertext: bytes.subarray(PREFIX_BYTES + headerLength) };
}

/** Throws `BAD_SIGNATURE` unless the header's signature verifies under the site's Ed25519 key. */
export function verifyUpdateSignature(opts: {
  header: UpdateHeader;
  ciphertext: Uint8Array;
  siteSignPublicKey: Uint8Array;
}): void {
  const aad = utf8(canonicalJson(unsignedOf(opts.header)));
  const ok = verifyDigest({
    digest: signingDigest(aad, sha256(opts.ciphertext)),
    signature: fromB64(opts.header.signature, 'BAD_SIGNATURE'),
    publicKey: opts.siteSignPublicKey,
  });
  if (!ok) throw new TwinfedError('BAD_SIGNATURE');
}

function decryptPayload(opts: {
  header: UpdateHeader;
  ciphertext: Uint8Array;
  siteBoxPublicKey: Uint8Array;
  coordinatorBoxSecretKey: Uint8Array;
}): Uint8Array {
  return openBox({
    ciphertext: opts.ciphertext,
    nonce: fromB64(opts.header.nonce, 'DECRYPT_FAILED'),
    aad: utf8(canonicalJson(unsignedOf(opts.header))),
    senderBoxPublicKey: opts.siteBoxPublicKey,
    recipientBoxSecretKey: opts.coordinatorBoxSecretKey,
  });
}

/**
 * Decrypts the ciphertext (AAD = the unsigned header) and deserialises and validates the weights.
 * Does not check the signature: call {@link verifyUpdateSignature} first. Throws `DECRYPT_FAILED`,
 * `INVALID_WEIGHTS`, `NON_FINITE_WEIGHTS` or `PAYLOAD_TOO_LARGE`; `INVALID_ENVELOPE` for a masked update.
 */
export function openUpdate(opts: {
  header: UpdateHeader;
  ciphertext: Uint8Array;
  siteBoxPublicKey: Uint8Array;
  coordinatorBoxSecretKey: Uint8Array;
  expectedLayout?: Layout;
  maxBytes?: number;
}): WeightSet {
  if (opts.header.secagg) throw invalid('This update is masked for secure aggregation.');
  const plaintext = decryptPayload(opts);
  const options: { expectedLayout?: Layout; maxBytes?: number } = {};
  if (opts.expectedLayout) options.expectedLayout = opts.expectedLayout;
  if (opts.maxBytes !== undefined) options.maxBytes = opts.maxBytes;
  return deserializeOwnedWeights(plaintext, options); // the decrypted buffer is ours: no extra copy
}

/**
 * Decrypts a masked update's ring vector (after {@link verifyUpdateSignature}). Throws `DECRYPT_FAILED`, or
 * `INVALID_ENVELOPE` when the update is not masked or its vector does not have `expectedElements` elements.
 */
export function openMaskedUpdate(opts: {
  header: UpdateHeader;
  ciphertext: Uint8Array;
  siteBoxPublicKey: Uint8Array;
  coordinatorBoxSecretKey: Uint8Array;
  expectedElements: number;
}): Uint8Array {
  if (!opts.header.secagg) throw invalid('This update is not masked for secure aggregation.');
  const plaintext = decryptPayload(opts);
  if (plaintext.byteLength !== opts.expectedElements * 8)
    throw invalid(`A masked update of this model has ${opts.expectedElements} ring elements.`);
  return plaintext;
}

/** SHA-256 (hex) of the whole envelope: the idempotency key of an upload (same bytes ⇒ same update). */
export function updateDigest(bytes: Uint8Array): string {
  return sha256Hex(bytes);
}
