/**
 * A model version as one binary answer (`GET /v1/models/:vid/download`): the coordinator's signed metadata and the
 * serialised weights it signs, so a site fetches what it must verify in one request instead of two.
 *
 * Layout: `u32 big-endian n ‖ n bytes of UTF-8 JSON {meta, signature} ‖ serialised weights`. The framing is not
 * trusted: the site verifies the signature over `meta` against its pinned key and the weights against the signed
 * `weightsSha256`, exactly as with the two separate answers.
 *
 * The current round with the latest version (`GET /v1/federations/:fid/rounds/current/download`) is framed the same
 * way: `u32 big-endian n ‖ n bytes of UTF-8 JSON of the current round ‖ the latest version as a signed download`, or
 * nothing after the round when the federation has no version yet or the site said it holds it.
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

/** A decoded answer of `rounds/current/download` (nothing in it validated or verified yet). */
interface RoundDownload {
  /** The current round as `rounds/current` answers it (to be validated against its schema). */
  readonly current: unknown;
  /** The latest version as a signed download (decode with {@link decodeSignedDownload}, then verify), if sent. */
  readonly version: Uint8Array | undefined;
}

/** `u32 big-endian n ‖ n bytes of UTF-8 JSON of value`, to be followed by the rest of the answer. */
function jsonHead(value: unknown): Uint8Array {
  // Encoded straight after its length (no encoder, no intermediate bytes): two of these per site-round poll.
  const json = JSON.stringify(value);
  const n = Buffer.byteLength(json);
  const head = Buffer.alloc(4 + n);
  head.writeUInt32BE(n, 0);
  head.write(json, 4);
  return head;
}

/** The JSON head and the bytes after it; undefined when the framing or the JSON is malformed. */
function splitHead(bytes: Uint8Array): { head: unknown; rest: Uint8Array } | undefined {
  if (bytes.length < 4) return undefined;
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
  if (4 + n > bytes.length) return undefined;
  try {
    const head: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4, 4 + n)));
    return { head, rest: bytes.subarray(4 + n) };
  } catch {
    return undefined;
  }
}

/** The head of a signed download (length and JSON of the signed part), to be followed by the weights bytes. */
export function signedDownloadHead(signed: SignedVersionPart): Uint8Array {
  return jsonHead({ meta: signed.meta, signature: signed.signature });
}

/** Splits a signed download; `MODEL_SIGNATURE_INVALID` when its framing or signed part is malformed. */
export function decodeSignedDownload(bytes: Uint8Array): SignedDownload {
  const malformed = () => new TwinfedError('MODEL_SIGNATURE_INVALID', 'The model download is malformed.');
  const split = splitHead(bytes);
  const head = split?.head;
  const signature = (head as { signature?: unknown } | null | undefined)?.signature;
  if (!split || typeof head !== 'object' || head === null || typeof signature !== 'string') throw malformed();
  return { meta: (head as { meta?: unknown }).meta, signature, weights: split.rest };
}

/** The head of a `rounds/current/download` answer (length and JSON of the current round), to be followed by the version's signed download, if any. */
export function roundDownloadHead(current: unknown): Uint8Array {
  return jsonHead(current);
}

/**
 * Splits a `rounds/current/download` answer; `INTERNAL` when its framing is malformed (as for an answer that is not
 * JSON). The version part is not looked into: its own framing is checked where it is verified.
 */
export function decodeRoundDownload(bytes: Uint8Array): RoundDownload {
  const split = splitHead(bytes);
  if (!split) throw new TwinfedError('INTERNAL', 'The current round answer is malformed.');
  return { current: split.head, version: split.rest.length > 0 ? split.rest : undefined };
}
