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
import { timingSafeEqual } from 'node:crypto';
import { fromB64, toB64 } from './encoding';
import { hkdfSha256 } from './hkdf';
import { hmacPads as pads, hmacSha256 as hmac, type HmacPads as Pads } from './hmac';
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

/*
 * HKDF's extract step, PRK = HMAC(label, X25519(secret, peer)), depends only on the pair of identity keys (not on the
 * round or the direction), so its padded blocks are kept per own secret (a WeakMap, as primitives keeps agreements: no
 * string copy of a secret, freed with the key array; a changed array starts afresh) and peer key, at most
 * PRK_CACHE_SIZE peers: a site makes k MACs and checks up to t_g every round with the same neighbours. Each MAC then
 * costs HKDF's expand (one HMAC under the kept PRK) and the MAC itself — the very bytes of {@link hkdfSha256} (tested).
 */
const PRK_CACHE_SIZE = 4096;
const prks = new WeakMap<Uint8Array, { copy: Uint8Array; byPeer: Map<string, Pads | null> }>();
const LABEL_PADS = pads(Buffer.from(MAC_LABEL, 'utf8'));

function pairPrk(secret: Uint8Array, peer: Uint8Array): Pads | null {
  let entry = prks.get(secret);
  if (!entry || entry.copy.byteLength !== secret.byteLength || !timingSafeEqual(entry.copy, secret)) {
    entry = { copy: Uint8Array.from(secret), byPeer: new Map() };
    prks.set(secret, entry);
  }
  const id = Buffer.from(peer.buffer, peer.byteOffset, peer.byteLength).toString('latin1');
  let prk = entry.byPeer.get(id);
  if (prk === undefined) {
    const shared = x25519(secret, peer);
    prk = shared && pads(hmac(LABEL_PADS, [shared]));
    if (entry.byPeer.size >= PRK_CACHE_SIZE) entry.byPeer.delete(entry.byPeer.keys().next().value as string);
    entry.byPeer.set(id, prk);
  }
  return prk;
}

/** label ‖ C, for the last round asked (a site makes and checks all its MACs of a round in a row). */
let lastContext: { round: SecaggRound; text: string } | undefined;
function contextText(o: SecaggRound): string {
  const last = lastContext;
  if (
    last &&
    last.round.federationId === o.federationId &&
    last.round.round === o.round &&
    last.round.baseVersionId === o.baseVersionId &&
    last.round.coordinatorFingerprint === o.coordinatorFingerprint
  )
    return last.text;
  const round = {
    federationId: o.federationId,
    round: o.round,
    baseVersionId: o.baseVersionId,
    coordinatorFingerprint: o.coordinatorFingerprint,
  };
  lastContext = { round, text: `${MAC_LABEL}\n${secaggContext(round)}\n` };
  return lastContext.text;
}

const info = (o: MacEnds): string => `${contextText(o)}${o.from}\n${o.to}`;
const ONE = Uint8Array.of(1);

/**
 * K_{from→to} = HKDF-SHA256(X25519(secret, peer), salt = label, info = label ‖ C ‖ from ‖ to, 32) — expand's single
 * block T(1) = HMAC(PRK, info ‖ 0x01) under the kept PRK; null when the peer's key gives no agreement (low order).
 */
export function secaggConsistencyMacKey(o: MacEnds): Uint8Array | null {
  const prk = pairPrk(o.boxSecretKey, o.peerBoxPublicKey);
  return prk && hmac(prk, [Buffer.from(info(o), 'utf8'), ONE]);
}

/** {@link secaggConsistencyMacKey} as HKDF computes it from scratch (what the kept-PRK path must equal; tests). */
export function secaggConsistencyMacKeyReference(o: MacEnds): Uint8Array | null {
  const shared = x25519(o.boxSecretKey, o.peerBoxPublicKey);
  return shared && hkdfSha256(shared, MAC_LABEL, info(o), MAC_BYTES);
}

const mac = (key: Uint8Array, digest: Uint8Array): Uint8Array => hmac(pads(key), [digest]);

/** u's MAC (base64) for w over the digest of u's neighbourhood statement; null when the peer's key is unusable. */
export function secaggConsistencyMac(o: MacEnds & { digest: Uint8Array }): string | null {
  const key = secaggConsistencyMacKey(o);
  return key && toB64(mac(key, o.digest));
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
  return timingSafeEqualKeys(given, mac(key, o.digest));
}
