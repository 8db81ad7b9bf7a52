/**
 * Byte ↔ text helpers used by every wire format: strict base64, base64url and UTF-8.
 * "Strict" means one byte string has exactly one accepted text form, so a tampered character can
 * never decode to the same bytes (Buffer's own decoder silently ignores junk and unused bits).
 */
import { TwinfedError, type ErrorCode } from '../errors';

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

/** Standard base64 (with padding) of `bytes`. */
export function toB64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Decodes canonical, padded, standard base64. Rejects whitespace, URL-safe characters, missing padding
 * and non-zero unused bits with a {@link TwinfedError} (`VALIDATION_FAILED` unless `code` says otherwise).
 */
export function fromB64(text: string, code: ErrorCode = 'VALIDATION_FAILED'): Uint8Array {
  if (typeof text !== 'string' || !B64_RE.test(text)) throw new TwinfedError(code, 'Invalid base64.');
  const buf = Buffer.from(text, 'base64');
  if (buf.toString('base64') !== text) throw new TwinfedError(code, 'Non-canonical base64.');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Unpadded base64url (RFC 4648 §5) of `bytes`, e.g. for tokens that travel in URLs and headers. */
export function toB64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Decodes canonical unpadded base64url; rejects anything else like {@link fromB64}. */
export function fromB64Url(text: string, code: ErrorCode = 'VALIDATION_FAILED'): Uint8Array {
  if (typeof text !== 'string' || !B64URL_RE.test(text) || text.length % 4 === 1) {
    throw new TwinfedError(code, 'Invalid base64url.');
  }
  const buf = Buffer.from(text, 'base64url');
  if (buf.toString('base64url') !== text) throw new TwinfedError(code, 'Non-canonical base64url.');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, throwing a {@link TwinfedError} with `code` on malformed input (no replacement characters). */
export function fromUtf8(bytes: Uint8Array, code: ErrorCode = 'VALIDATION_FAILED'): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new TwinfedError(code, 'Invalid UTF-8.');
  }
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
