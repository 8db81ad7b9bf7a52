import { signSiteDirectoryEntry, type CohortMember, type Identity } from '@twinfed/shared';
import type { Site } from '../store';

/**
 * The coordinator's signed site directory (envelope/site-directory in shared): each site's enrolled identity keys with
 * the coordinator's signature, which is how sites receive their peers' keys (secure aggregation, the statistics secure
 * sum) and can pin them. Ed25519 is deterministic, so an entry is signed once per process and cached.
 */
export class SiteDirectory {
  private readonly cache = new Map<string, CohortMember>();

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
}
