/**
 * A site's neighbourhood directory in a sparse secure-aggregation round: with the neighbourhood view of the round's
 * state the coordinator vouches, with the Ed25519 key that signs the site directory (envelope/site-directory), for
 * the identity keys of the calling site's closed neighbourhood as listed — in one signature instead of one per entry:
 *
 *   sha256("TWINFED-SECAGG-NEIGHBOURHOOD-DIRECTORY-V1\n" ‖ canonicalJson({ context, siteId, entries }))
 *
 * `context` is `secaggContext` (federation, round, base version, coordinator fingerprint), `siteId` the site the list
 * is for, `entries` the listed `{ siteId, signPublicKey, boxPublicKey }` sorted (by site, then keys). It binds the same
 * (site → keys) pairs as the entries' own signatures, for one site and round: it cannot be replayed to another site,
 * round, federation or coordinator, nor verify as a directory entry (another label), nor the reverse.
 */
import { sha256 } from '../crypto/hash';
import { secaggContext, type SecaggRound } from '../crypto/secagg';
import { signDigestB64, verifyDigestB64 } from '../crypto/signature';
import { canonicalJson } from './canonical-json';

const PURPOSE = 'TWINFED-SECAGG-NEIGHBOURHOOD-DIRECTORY-V1\n';

/** A site's enrolled identity keys (base64), as listed (other fields, such as the entry's own signature, are ignored). */
interface ListedEntry {
  readonly siteId: string;
  readonly signPublicKey: string;
  readonly boxPublicKey: string;
}

/** The closed neighbourhood listed to a site in a round. */
interface NeighbourhoodDirectoryStatement extends SecaggRound {
  /** The site the list is for. */
  readonly siteId: string;
  /** The listed entries (any order). */
  readonly entries: readonly ListedEntry[];
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The digest the coordinator signs (canonical: the order of the list does not matter). */
export function neighbourhoodDirectoryDigest(s: NeighbourhoodDirectoryStatement): Uint8Array {
  const entries = s.entries
    // Keys in canonical order, so canonicalJson writes the list in one native call (same bytes in any order).
    .map((e) => ({ boxPublicKey: e.boxPublicKey, signPublicKey: e.signPublicKey, siteId: e.siteId }))
    .sort(
      (a, b) => cmp(a.siteId, b.siteId) || cmp(a.signPublicKey, b.signPublicKey) || cmp(a.boxPublicKey, b.boxPublicKey),
    );
  return sha256(PURPOSE + canonicalJson({ context: secaggContext(s), siteId: s.siteId, entries }));
}

/** The coordinator's signature (base64) over a site's neighbourhood directory. */
export function signNeighbourhoodDirectory(
  statement: NeighbourhoodDirectoryStatement,
  coordinatorSignSecretKey: Uint8Array,
): string {
  return signDigestB64(neighbourhoodDirectoryDigest(statement), coordinatorSignSecretKey);
}

/**
 * True when `signature` is the coordinator's (under `coordinatorSignPublicKey`) over the statement whose
 * {@link neighbourhoodDirectoryDigest} is `digest` (a site keeps the digests it checked).
 */
export function verifyNeighbourhoodDirectory(
  digest: Uint8Array,
  signature: string,
  coordinatorSignPublicKey: Uint8Array,
): boolean {
  return verifyDigestB64(digest, signature, coordinatorSignPublicKey);
}
