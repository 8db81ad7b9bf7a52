import {
  signNeighbourhoodDirectory,
  signSiteDirectoryEntry,
  type CohortMember,
  type Identity,
  type SecaggRound,
} from '@twinfed/shared';
import type { Site } from '../store';

/**
 * The coordinator's signed site directory (envelope/site-directory in shared): each site's enrolled identity keys with
 * the coordinator's signature, which is how sites receive their peers' keys (secure aggregation, the statistics secure
 * sum) and can pin them. Ed25519 is deterministic, so an entry is signed once per process and cached.
 */
export class SiteDirectory {
  private readonly cache = new Map<string, CohortMember>();
  /**
   * Per frozen list of entries (one site's closed neighbourhood in one round): the signature over it, with the site
   * and round it is for. Kept as long as the list (the round's caches hold it).
   */
  private readonly neighbourhoods = new WeakMap<readonly CohortMember[], { about: string; signature: string }>();

  constructor(private readonly identity: Identity) {}

  /** The signed entry of `site`. */
  entry(site: Pick<Site, 'id' | 'signPublicKey' | 'boxPublicKey'>): CohortMember {
    const key = `${site.id}\n${site.signPublicKey}\n${site.boxPublicKey}`;
    let entry = this.cache.get(key);
    if (!entry) {
      const body = { siteId: site.id, signPublicKey: site.signPublicKey, boxPublicKey: site.boxPublicKey };
      entry = { ...body, directorySignature: signSiteDirectoryEntry(body, this.identity.sign.secretKey) };
      this.cache.set(key, entry);
    }
    return { ...entry };
  }

  /**
   * The signature over `entries` as listed to `siteId` in `round` (envelope/neighbourhood-directory): one Ed25519
   * signature per site and round, however often the site reads the round — `entries` must be frozen (it is the key).
   */
  neighbourhood(round: SecaggRound, siteId: string, entries: readonly CohortMember[]): string {
    const about = `${round.federationId}\n${round.round}\n${round.baseVersionId}\n${round.coordinatorFingerprint}\n${siteId}`;
    const known = this.neighbourhoods.get(entries);
    if (known?.about === about) return known.signature;
    const signature = signNeighbourhoodDirectory({ ...round, siteId, entries }, this.identity.sign.secretKey);
    this.neighbourhoods.set(entries, { about, signature });
    return signature;
  }
}
