/**
 * A model version as one binary answer (`GET /v1/models/:vid/download`): the coordinator's signed metadata and the
 * serialised weights it signs, so a site fetches what it must verify in one request instead of two.
 *
 * Layout: `u32 big-endian n ‖ n bytes of UTF-8 JSON {meta, signature} ‖ serialised weights`. The framing is not
 * trusted: the site verifies the signature over `meta` against its pinned key and the weights against the signed
 * `weightsSha256`, exactly as with the two separate answers.
 */
import { TwinfedError } from '../errors';

/** The signed part of a served version: metadata (untrusted until verified) and the coordinator's signature. */
interface SignedVersionPart {
  readonly meta: unknown;
  readonly signature: string;
}

/** A decoded signed download (nothing in it verified yet). */
export interface SignedDownload extends SignedVersionPart {
  readonly weights: Uint8Array;
}

/** The head of a signed download (length and JSON of the signed part), to be followed by the weights bytes. */
export function signedDownloadHead(signed: SignedVersionPart): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ meta: signed.meta, signature: signed.signature }));
  const head = new Uint8Array(4 + json.length);
  new DataView(head.buffer).setUint32(0, json.length, false);
  head.set(json, 4);
  return head;
}

/** Splits a signed download; `MODEL_SIGNATURE_INVALID` when its framing or signed part is malformed. */
export function decodeSignedDownload(bytes: Uint8Array): SignedDownload {
  const malformed = () => new TwinfedError('MODEL_SIGNATURE_INVALID', 'The model download is malformed.');
  if (bytes.length < 4) throw malformed();
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
  if (4 + n > bytes.length) throw malformed();
  let head: unknown;
  try {
    head = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4, 4 + n)));
  } catch {
    throw malformed();
  }
  const signature = (head as { signature?: unknown } | null)?.signature;
  if (typeof head !== 'object' || head === null || typeof signature !== 'string') throw malformed();
  return { meta: (head as { meta?: unknown }).meta, signature, weights: bytes.subarray(4 + n) };
}
