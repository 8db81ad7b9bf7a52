/**
 * The site directory: the coordinator vouches, with its Ed25519 key, for the identity keys a site enrolled with —
 * sha256("TWINFED-SITE-DIRECTORY-V1\n" ‖ canonicalJson({ siteId, signPublicKey, boxPublicKey })). Sites get their
 * peers' keys (secure aggregation, the statistics secure sum) only as signed entries, verify them with the
 * coordinator key they pinned at enrollment, and pin each peer's keys the first time they see them: a key that later
 * changes is refused, and two conflicting entries for one site are the coordinator's signed evidence against itself.
 * The first entry of a peer is trusted on the coordinator's word (an operator who enrolls look-alike sites is not
 * stopped by this; see SECURITY.md). Ed25519 is deterministic: the same entry always has the same signature.
 */
import { sha256 } from '../crypto/hash';
import { signDigestB64, verifyDigestB64 } from '../crypto/signature';
import { canonicalJson } from './canonical-json';

const PURPOSE = 'TWINFED-SITE-DIRECTORY-V1\n';

/** A site's enrolled identity keys (base64). */
interface SiteDirectoryEntry {
  readonly siteId: string;
  readonly signPublicKey: string;
  readonly boxPublicKey: string;
}

const digest = (e: SiteDirectoryEntry): Uint8Array =>
  sha256(PURPOSE + canonicalJson({ siteId: e.siteId, signPublicKey: e.signPublicKey, boxPublicKey: e.boxPublicKey }));

/** The coordinator's signature (base64) over a directory entry. */
export function signSiteDirectoryEntry(entry: SiteDirectoryEntry, coordinatorSignSecretKey: Uint8Array): string {
  return signDigestB64(digest(entry), coordinatorSignSecretKey);
}

/** True when `signature` is the coordinator's (under `coordinatorSignPublicKey`) over `entry`. */
export function verifySiteDirectoryEntry(
  entry: SiteDirectoryEntry,
  signature: string,
  coordinatorSignPublicKey: Uint8Array,
): boolean {
  return verifyDigestB64(digest(entry), signature, coordinatorSignPublicKey);
}
