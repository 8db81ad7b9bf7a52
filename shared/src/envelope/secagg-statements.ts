/**
 * What the sites sign in secure aggregation (crypto/secagg), with their Ed25519 identity keys, so that a coordinator
 * relaying the messages can neither substitute a key nor show different survivor sets to different sites unnoticed.
 *
 *   keys         sha256("TWINFED-SECAGG-KEYS-V2\n" ‖ canonicalJson({ context, siteId, maskPublicKey, boxesSha256 }))
 *                u's round mask public key M_u and the digest of its share boxes ({@link shareBoxesDigest})
 *   consistency  sha256("TWINFED-SECAGG-CONSISTENCY-V2\n" ‖ canonicalJson({ context, threshold, cohort, u2, u3 }))
 *                the round as u saw it before revealing: S, t, U2 and U3 (ids sorted) — the complete graph
 *   neighbourhood sha256("TWINFED-SECAGG-NEIGHBOURHOOD-V3\n" ‖ canonicalJson({ context, cohortSha256, degree,
 *                threshold, siteId, u2, u3 })) — a sparse graph (SecAgg+): u's closed neighbourhood N[u] as u saw it
 *                before revealing: U2 ∩ N[u] and U3 ∩ N[u], S by its digest, k and t of the graph. Each neighbour w
 *                checks it against its own view of N[u]; a V2 statement never verifies as V3, nor the reverse.
 * `context` is `secaggContext` (federation, round, base version, coordinator fingerprint), so no signature can be
 * replayed into another round, federation or coordinator.
 */
import { sha256, sha256Hex, sha256Parts } from '../crypto/hash';
import { secaggContext, type SealedShare, type SecaggRound } from '../crypto/secagg';
import { signDigestB64, verifyDigestB64 } from '../crypto/signature';
import { canonicalJson } from './canonical-json';

const KEYS_PURPOSE = 'TWINFED-SECAGG-KEYS-V2\n';
const CONSISTENCY_PURPOSE = 'TWINFED-SECAGG-CONSISTENCY-V2\n';
const NEIGHBOURHOOD_PURPOSE = 'TWINFED-SECAGG-NEIGHBOURHOOD-V3\n';

/** Whether `ids` is in `sort()`'s order already (UTF-16 code units). */
function inOrder(ids: readonly string[]): boolean {
  for (let i = 1; i < ids.length; i++) if (ids[i - 1]! > ids[i]!) return false;
  return true;
}

/** `ids` sorted; a list already in order is returned as it is (no copy: the caller only reads it). */
const sorted = (ids: readonly string[]): readonly string[] => (inOrder(ids) ? ids : [...ids].sort());

/** SHA-256 (hex) of a site's share boxes: canonical JSON of `[{ to, nonce, ciphertext }]` sorted by recipient. */
export function shareBoxesDigest(shares: readonly SealedShare[]): string {
  const boxes = [...shares]
    .sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0))
    // Keys in canonical order, so canonicalJson writes the list in one native call (same bytes in any order).
    .map((s) => ({ ciphertext: s.ciphertext, nonce: s.nonce, to: s.to }));
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
        boxesSha256: s.boxesSha256,
        context: secaggContext(s),
        maskPublicKey: s.maskPublicKey,
        siteId: s.siteId,
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

/** A site's closed neighbourhood N[u] as it saw it when U3 was announced (sparse graphs). */
interface SecaggNeighbourhoodStatement extends SecaggRound {
  /** {@link secaggCohortDigest} of S. */
  readonly cohortSha256: string;
  /** k and t of the round's graph. */
  readonly degree: number;
  readonly threshold: number;
  /** The signer u. */
  readonly siteId: string;
  /** U2 ∩ N[u]: u and its neighbours whose keys and shares were taken. */
  readonly u2: readonly string[];
  /** U3 ∩ N[u]: u and its neighbours whose masked update was taken. */
  readonly u3: readonly string[];
}

/** SHA-256 (hex) of the cohort S, sorted, one id a line (computed once per round, not per signature). */
export function secaggCohortDigest(cohort: readonly string[]): string {
  return sha256Hex(sorted(cohort).join('\n'));
}

/**
 * The digest a site signs in the consistency step of a sparse graph (also what its journal keeps of it). A site
 * hashes t_g = 73 of these a round at 500 sites (each neighbour's, as its own view has it), so the canonical JSON is
 * hashed in its parts ({@link neighbourhoodJsonParts}) instead of being written out whole and copied into the hash.
 */
export const secaggNeighbourhoodDigest = (s: SecaggNeighbourhoodStatement): Uint8Array =>
  sha256Parts([NEIGHBOURHOOD_PURPOSE, ...neighbourhoodJsonParts(s)]);

/**
 * The text of canonicalJson({ context, cohortSha256, degree, threshold, siteId, u2, u3 }) of a statement (u2 and u3
 * sorted), in parts, its keys in canonicalJson's order (tested: the parts joined are canonicalJson's text). A degree
 * or threshold that is not a finite number is refused as canonicalJson refuses it.
 */
function neighbourhoodJsonParts(s: SecaggNeighbourhoodStatement): string[] {
  if (!Number.isFinite(s.degree) || !Number.isFinite(s.threshold))
    return [canonicalJson({ degree: s.degree, threshold: s.threshold })]; // throws VALIDATION_FAILED
  const json = JSON.stringify;
  return [
    `{"cohortSha256":${json(s.cohortSha256)},"context":${json(secaggContext(s))},"degree":${json(s.degree)},`,
    `"siteId":${json(s.siteId)},"threshold":${json(s.threshold)},"u2":`,
    json(sorted(s.u2)),
    ',"u3":',
    json(sorted(s.u3)),
    '}',
  ];
}

/** The site's signature (base64) over its neighbourhood as it saw it. */
export function signSecaggNeighbourhood(statement: SecaggNeighbourhoodStatement, signSecretKey: Uint8Array): string {
  return signDigestB64(secaggNeighbourhoodDigest(statement), signSecretKey);
}

/** True when `signature` is `statement.siteId`'s (under `signPublicKey`) over `statement`. */
export function verifySecaggNeighbourhood(
  statement: SecaggNeighbourhoodStatement,
  signature: string,
  signPublicKey: Uint8Array,
): boolean {
  return verifyDigestB64(secaggNeighbourhoodDigest(statement), signature, signPublicKey);
}

/**
 * `siteId`'s neighbourhood statement as the caller's view of U2 and U3 has it: N[siteId] = `siteId` and
 * `neighbours` (its neighbours in the round's graph), restricted to each set. A site checks a neighbour's signature
 * against this; the coordinator checks a submission against its own sets.
 */
export function secaggNeighbourhoodStatement(
  o: SecaggRound & {
    cohortSha256: string;
    degree: number;
    threshold: number;
    siteId: string;
    neighbours: readonly string[];
    u2: ReadonlySet<string>;
    u3: ReadonlySet<string>;
  },
): SecaggNeighbourhoodStatement {
  // N[siteId] in sorted order when the neighbours come sorted (a graph's lists do): the digest then sorts nothing.
  const at = o.neighbours.findIndex((id) => id > o.siteId);
  const closed =
    at < 0 ? [...o.neighbours, o.siteId] : [...o.neighbours.slice(0, at), o.siteId, ...o.neighbours.slice(at)];
  return {
    federationId: o.federationId,
    round: o.round,
    baseVersionId: o.baseVersionId,
    coordinatorFingerprint: o.coordinatorFingerprint,
    cohortSha256: o.cohortSha256,
    degree: o.degree,
    threshold: o.threshold,
    siteId: o.siteId,
    u2: closed.filter((id) => o.u2.has(id)),
    u3: closed.filter((id) => o.u3.has(id)),
  };
}

/**
 * True when `signature` verifies over a statement digest computed once ({@link secaggConsistencyDigest} or
 * {@link secaggNeighbourhoodDigest}): a site checking t signatures over one statement hashes it once, not t times.
 */
export function verifySecaggDigest(digest: Uint8Array, signature: string, signPublicKey: Uint8Array): boolean {
  return verifyDigestB64(digest, signature, signPublicKey);
}
