import { coordinatorRequestMacKey, fromB64, type Identity, type RequestMacKey } from '@twinfed/shared';

/** Default number of sites whose request MAC keys are kept (beyond it the oldest entry is dropped and derived again). */
const DEFAULT_MAX_ENTRIES = 16_384;

/**
 * The sites' request MAC keys (shared/src/auth/request-mac.ts) as this coordinator derives them from its box secret
 * and each site's enrolled box public key: any replica holding the coordinator identity derives the same keys, so
 * nothing is shared between replicas. Kept in memory, bounded, keyed by site id and box public key together: a site
 * whose record names another box key gets a key derived from that one, never the cached key of the old one. Revocation
 * is not decided here: callers authenticate only sites whose current record is not revoked. The X25519 agreement
 * behind each key is primitives' cache, the one the coordinator opens that site's updates with.
 */
export class SiteMacKeys {
  private readonly keys = new Map<string, RequestMacKey | null>();

  constructor(
    private readonly identity: Identity,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
  ) {}

  /** The request MAC key of `site` (null when its box key gives no agreement: such a site's MACs never verify). */
  keyFor(site: { readonly id: string; readonly boxPublicKey: string }): RequestMacKey | null {
    const id = `${site.id}\n${site.boxPublicKey}`;
    let key = this.keys.get(id);
    if (key === undefined) {
      key = derive(site, this.identity.box.secretKey);
      if (this.keys.size >= this.maxEntries) this.keys.delete(this.keys.keys().next().value as string);
      this.keys.set(id, key);
    }
    return key;
  }
}

function derive(site: { id: string; boxPublicKey: string }, coordinatorBoxSecretKey: Uint8Array): RequestMacKey | null {
  let siteBoxPublicKey: Uint8Array;
  try {
    siteBoxPublicKey = fromB64(site.boxPublicKey);
  } catch {
    return null;
  }
  if (siteBoxPublicKey.byteLength !== 32) return null;
  return coordinatorRequestMacKey({ siteId: site.id, siteBoxPublicKey, coordinatorBoxSecretKey });
}
