import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { loadOrCreatePrivateFile } from '../fs-atomic';

/** File name of the site secret inside the site data dir. */
export const SITE_SECRET_FILE = 'twin-secret.key';

const SECRET_BYTES = 32;

/**
 * Loads the site secret (the HMAC key behind every pseudonymous patient id) from `dataDir`, creating it
 * once with 32 random bytes and mode 0600 when it does not exist. Creation is exclusive (write a temporary
 * file, then hard-link it into place), so two processes starting together end up with the same secret.
 * Refuses a secret file that other users may read or that has the wrong length: losing or leaking the
 * secret breaks pseudonymity or re-keys every twin.
 */
export function loadOrCreateSiteSecret(dataDir: string): Buffer {
  return loadOrCreatePrivateFile({
    file: path.join(dataDir, SITE_SECRET_FILE),
    what: 'site secret',
    create: () => randomBytes(SECRET_BYTES).toString('hex'),
    parse: (hex) => (/^[0-9a-f]+$/.test(hex) && hex.length === SECRET_BYTES * 2 ? Buffer.from(hex, 'hex') : null),
  });
}
