/**
 * Pairwise consistency MACs of SecAgg+ (a sparse graph; docs/decisions.md, "Neighbours' consistency by pairwise MACs").
 * Besides its Ed25519 signature over its neighbourhood statement (V3, envelope/secagg-statements: what the coordinator
 * checks and keeps), site u sends each neighbour w in N[u] ∩ U3 a MAC over the statement's digest:
 *
 *   K_{u→w} = HKDF-SHA256(ikm = X25519(u's identity box secret, w's identity box public) — the static agreement of the
 *             two sites' pinned identity keys, cached in primitives —, salt = "twinfed/secagg/v3/consistency-mac",
 *             info = salt ‖ C ‖ u ‖ w, 32 bytes)
 *   mac     = HMAC-SHA256(K_{u→w}, digest)
 *
 * Only u and w can compute K_{u→w} (the coordinator holds neither identity secret); the label keeps it apart from the
 * share boxes' keys (box: HKDF with a random nonce as salt and "twinfed/box/v1" ‖ keys as info), C binds it to the
 * round, and (u, w) to the direction, so a MAC of u for w is neither w's for u nor good for another neighbour or round.
 */
import { createHmac } from 'node:crypto';
import { fromB64, toB64 } from './encoding';
import { hkdfSha256 } from './hkdf';
import { timingSafeEqualKeys, x25519 } from './primitives';
import { SECAGG_VERSION, secaggContext, type SecaggRound } from './secagg';

const MAC_LABEL = `${SECAGG_VERSION}/consistency-mac`;
const MAC_BYTES = 32;

/** The two ends of a consistency MAC and the caller's identity box secret (either end's: the agreement is symmetric). */
interface MacEnds extends SecaggRound {
  /** The signer u. */
  readonly from: string;
  /** The neighbour w it is for. */
  readonly to: string;
  /** The caller's X25519 identity secret key (u's when computing, w's when checking). */
  readonly boxSecretKey: Uint8Array;
  /** The other end's pinned X25519 identity public key. */
  readonly peerBoxPublicKey: Uint8Array;
}

/** K_{from→to}; null when the peer's key gives no agreement (a low-order key). */
export function secaggConsistencyMacKey(o: MacEnds): Uint8Array | null {
  const shared = x25519(o.boxSecretKey, o.peerBoxPublicKey);
  if (shared === null) return null;
  return hkdfSha256(shared, MAC_LABEL, `${MAC_LABEL}\n${secaggContext(o)}\n${o.from}\n${o.to}`, MAC_BYTES);
}

const hmac = (key: Uint8Array, digest: Uint8Array): Uint8Array => createHmac('sha256', key).update(digest).digest();

/** u's MAC (base64) for w over the digest of u's neighbourhood statement; null when the peer's key is unusable. */
export function secaggConsistencyMac(o: MacEnds & { digest: Uint8Array }): string | null {
  const key = secaggConsistencyMacKey(o);
  return key && toB64(hmac(key, o.digest));
}

/** True when `mac` is `from`'s MAC for `to` over `digest` (the checker's view of `from`'s statement); constant-time. */
export function verifySecaggConsistencyMac(o: MacEnds & { digest: Uint8Array; mac: string }): boolean {
  const key = secaggConsistencyMacKey(o);
  if (!key) return false;
  let given: Uint8Array;
  try {
    given = fromB64(o.mac, 'SECAGG_INCONSISTENT');
  } catch {
    return false;
  }
  return timingSafeEqualKeys(given, hmac(key, o.digest));
}
