import { TwinfedError, fromB64, toB64, verifySiteDirectoryEntry, type CohortMember } from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import type { Journal } from './journal';

/** A peer's identity keys, verified and pinned. */
export interface TrustedPeer {
  readonly siteId: string;
  readonly signPublicKey: Uint8Array;
  readonly boxPublicKey: Uint8Array;
}

/**
 * The cohort the coordinator listed, taken only as far as it can be checked: every entry signed by the coordinator
 * key pinned at enrollment (envelope/site-directory; or the whole list, see `vouched`), this site listed with its own
 * keys, no site twice, and every peer's keys equal to the ones pinned the first time it was seen (pinned now if new).
 * Throws `SECAGG_UNTRUSTED_KEY` (or `SECAGG_INCONSISTENT` for a repeated site); pins nothing then.
 */
export function trustedPeers(opts: {
  members: readonly CohortMember[];
  enrollment: Enrollment;
  /**
   * Pins the peers' keys (or, read-only, only checks them against the pins). With `peer`, an entry listing exactly the
   * keys pinned for its site is not checked again: they were checked against the coordinator key when first pinned
   * (a sparse graph gives a site new neighbours every round; this check was one Ed25519 verify per neighbour and round).
   */
  journal: Pick<Journal, 'pinPeers'> & Partial<Pick<Journal, 'peer'>>;
  /**
   * Entries (site, keys, directory signature) already checked against the pinned coordinator key, with their keys
   * decoded: not checked or decoded again (the same bytes verify the same); entries checked now are added.
   */
  verified?: Map<string, TrustedPeer>;
  /**
   * Given when the caller checked the coordinator's one signature over the listed entries, `members` among them
   * (envelope/neighbourhood-directory, the neighbourhood view): no entry's own signature is checked then. The keys
   * taken are kept here by (site, keys), decoded once. This site's own keys and the pins are checked as without it.
   */
  vouched?: Map<string, TrustedPeer>;
}): Map<string, TrustedPeer> {
  const { members, enrollment, journal, verified, vouched } = opts;
  const me = enrollment.state.siteId;
  const out = new Map<string, TrustedPeer>();
  for (const m of members) {
    if (out.has(m.siteId))
      throw new TwinfedError('SECAGG_INCONSISTENT', `The coordinator lists site ${m.siteId} twice in the cohort.`);
    const entry = { siteId: m.siteId, signPublicKey: m.signPublicKey, boxPublicKey: m.boxPublicKey };
    const keys = `${m.siteId}\n${m.signPublicKey}\n${m.boxPublicKey}`;
    const seen = `${keys}\n${m.directorySignature}`;
    const known = vouched ? vouched.get(keys) : verified?.get(seen);
    const pin = journal.peer?.(m.siteId);
    const pinned = pin?.signPublicKey === m.signPublicKey && pin.boxPublicKey === m.boxPublicKey;
    if (
      !vouched &&
      !pinned &&
      known === undefined &&
      !verifySiteDirectoryEntry(entry, m.directorySignature, enrollment.coordinator.signPublicKey)
    ) {
      throw new TwinfedError(
        'SECAGG_UNTRUSTED_KEY',
        `The keys listed for site ${m.siteId} are not signed by the coordinator key this site pinned at enrollment.`,
      );
    }
    if (
      m.siteId === me &&
      (m.signPublicKey !== toB64(enrollment.identity.sign.publicKey) ||
        m.boxPublicKey !== toB64(enrollment.identity.box.publicKey))
    ) {
      throw new TwinfedError('SECAGG_UNTRUSTED_KEY', 'The coordinator lists this site with keys that are not its own.');
    }
    const peer = known ?? {
      siteId: m.siteId,
      signPublicKey: fromB64(m.signPublicKey, 'SECAGG_UNTRUSTED_KEY'),
      boxPublicKey: fromB64(m.boxPublicKey, 'SECAGG_UNTRUSTED_KEY'),
    };
    if (vouched) vouched.set(keys, peer);
    else verified?.set(seen, peer);
    out.set(m.siteId, peer);
  }
  journal.pinPeers(
    members
      .filter((m) => m.siteId !== me)
      .map((m) => ({ siteId: m.siteId, signPublicKey: m.signPublicKey, boxPublicKey: m.boxPublicKey })),
  );
  return out;
}
