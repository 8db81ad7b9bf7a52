import type { Migration } from './types';

/**
 * Site public keys are unique. Before enrollment proved key possession a site could enroll with another site's keys;
 * such a later copy (sharing a signing or box key with a site enrolled before it) is revoked here, so the owner's key
 * keeps one identity only. Then no two unrevoked sites may share a key (the enrollment code also refuses keys of
 * revoked sites, `KEY_IN_USE`; revoked rows stay out of the index only so that old copies can be kept for the record).
 */
export const migration005: Migration = {
  version: 5,
  name: 'unique-site-keys',
  sql: `
UPDATE sites SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE revoked_at IS NULL AND EXISTS (
  SELECT 1 FROM sites AS earlier
  WHERE (earlier.sign_public_key = sites.sign_public_key OR earlier.box_public_key = sites.box_public_key)
    AND (earlier.enrolled_at < sites.enrolled_at OR (earlier.enrolled_at = sites.enrolled_at AND earlier.id < sites.id))
);

CREATE UNIQUE INDEX sites_sign_public_key ON sites (sign_public_key) WHERE revoked_at IS NULL;
CREATE UNIQUE INDEX sites_box_public_key ON sites (box_public_key) WHERE revoked_at IS NULL;
`,
};
