import {
  TwinfedError,
  decodePublicIdentity,
  fingerprint,
  loadIdentity,
  publicPart,
  type Identity,
} from '@twinfed/shared';
import type { SiteCredentials } from '../transport/site-auth';
import { SITE_FILES, readSiteState, siteStatePath, type SiteState } from './site-state';

/** A loaded enrollment: the record, the site's keys and the pinned coordinator keys as bytes. */
export interface Enrollment {
  readonly state: SiteState;
  readonly identity: Identity;
  readonly coordinator: { readonly signPublicKey: Uint8Array; readonly boxPublicKey: Uint8Array };
}

/**
 * Loads the enrollment in `dataDir`. Throws `UNKNOWN_SITE` when the site is not enrolled there, and
 * `CONFIG_INVALID` when a file is corrupt, readable by others, or the key does not match `site.json`.
 */
export function loadEnrollment(dataDir: string): Enrollment {
  const state = readSiteState(dataDir);
  if (!state)
    throw new TwinfedError(
      'UNKNOWN_SITE',
      `This site is not enrolled: ${siteStatePath(dataDir)} does not exist. Run "twinfed-site enroll" first.`,
    );
  const identity = loadIdentity({ dir: dataDir, name: SITE_FILES.identityName });
  if (fingerprint(publicPart(identity)) !== state.fingerprint) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      `The key file in ${dataDir} does not belong to site ${state.siteId} (fingerprint differs from site.json).`,
    );
  }
  const coordinator = decodePublicIdentity(state.coordinator, 'CONFIG_INVALID');
  return { state, identity, coordinator };
}

/** An enrolled site's request credentials: its id and signing key, its box key and the coordinator's pinned one. */
export function enrollmentCredentials(e: Enrollment): SiteCredentials {
  return {
    siteId: e.state.siteId,
    signSecretKey: e.identity.sign.secretKey,
    boxSecretKey: e.identity.box.secretKey,
    coordinatorBoxPublicKey: e.coordinator.boxPublicKey,
  };
}
