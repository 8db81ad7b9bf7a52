/**
 * What the sites sign in secure aggregation (crypto/secagg), with their Ed25519 identity keys, so that a coordinator
 * relaying the messages can neither substitute a key nor show different survivor sets to different sites unnoticed.
 *
 *   keys         sha256("TWINFED-SECAGG-KEYS-V2\n" ‖ canonicalJson({ context, siteId, maskPublicKey, boxesSha256 }))
 *                u's round mask public key M_u and the digest of its share boxes ({@link shareBoxesDigest})
 *   consistency  sha256("TWINFED-SECAGG-CONSISTENCY-V2\n" ‖ canonicalJson({ context, threshold, cohort, u2, u3 }))
 *                the round as u saw it before revealing: S, t, U2 and U3 (ids sorted)
 * `context` is `secaggContext` (federation, round, base version, coordinator fingerprint), so no signature can be
 * replayed into another round, federation or coordinator.
 */
import { sha256, sha256Hex } from '../crypto/hash';
import { secaggContext, type SealedShare, type SecaggRound } from '../crypto/secagg';
import { signDigestB64, verifyDigestB64 } from '../crypto/signature';
import { canonicalJson } from './canonical-json';

const KEYS_PURPOSE = 'TWINFED-SECAGG-KEYS-V2\n';
const CONSISTENCY_PURPOSE = 'TWINFED-SECAGG-CONSISTENCY-V2\n';

const sorted = (ids: readonly string[]): string[] => [...ids].sort();

/** SHA-256 (hex) of a site's share boxes: canonical JSON of `[{ to, nonce, ciphertext }]` sorted by recipient. */
export function shareBoxesDigest(shares: readonly SealedShare[]): string {
  const boxes = [...shares]
    .sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0))
    .map((s) => ({ to: s.to, nonce: s.nonce, ciphertext: s.ciphertext }));
  return sha256Hex(canonicalJson(boxes));
}

/** A site's round keys as it signs them. */
interface SecaggKeysStatement extends SecaggRound {
  readonly siteId: string;
  /** Base64 of M_u. */
  readonly maskPublicKey: string;
  /** {@link shareBoxesDigest} of the boxes it sent. */
  readonly boxesSha256: string;
}

const keysDigest = (s: SecaggKeysStatement): Uint8Array =>
  sha256(
    KEYS_PURPOSE +
      canonicalJson({
        context: secaggContext(s),
        siteId: s.siteId,
        maskPublicKey: s.maskPublicKey,
        boxesSha256: s.boxesSha256,
      }),
  );

/** The site's signature (base64) over its round keys. */
export function signSecaggKeys(statement: SecaggKeysStatement, signSecretKey: Uint8Array): string {
  return signDigestB64(keysDigest(statement), signSecretKey);
}

/** True when `signature` is `statement.siteId`'s signature (under `signPublicKey`, its enrolled key) over `statement`. */
export function verifySecaggKeys(
  statement: SecaggKeysStatement,
  signature: string,
  signPublicKey: Uint8Array,
): boolean {
  return verifyDigestB64(keysDigest(statement), signature, signPublicKey);
}

/** The round as a site saw it when U3 was announced. */
interface SecaggConsistencyStatement extends SecaggRound {
  readonly threshold: number;
  /** S: the round's selected sites. */
  readonly cohort: readonly string[];
  /** U2: the sites whose keys and shares were taken. */
  readonly u2: readonly string[];
  /** U3: the sites whose masked update was taken. */
  readonly u3: readonly string[];
}

/** The digest a site signs in the consistency step (also what its journal keeps of the statement). */
export function secaggConsistencyDigest(s: SecaggConsistencyStatement): Uint8Array {
  return sha256(
    CONSISTENCY_PURPOSE +
      canonicalJson({
        context: secaggContext(s),
        threshold: s.threshold,
        cohort: sorted(s.cohort),
        u2: sorted(s.u2),
        u3: sorted(s.u3),
      }),
  );
}

/** The site's signature (base64) over the round as it saw it. */
export function signSecaggConsistency(statement: SecaggConsistencyStatement, signSecretKey: Uint8Array): string {
  return signDigestB64(secaggConsistencyDigest(statement), signSecretKey);
}

/** True when `signature` verifies over `statement` under `signPublicKey`. */
export function verifySecaggConsistency(
  statement: SecaggConsistencyStatement,
  signature: string,
  signPublicKey: Uint8Array,
): boolean {
  return verifyDigestB64(secaggConsistencyDigest(statement), signature, signPublicKey);
}
