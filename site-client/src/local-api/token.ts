import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as path from 'node:path';
import { loadOrCreatePrivateFile } from '../fs-atomic';

/** File of the local API's bearer token inside the site data dir (mode 0600). */
export const LOCAL_API_TOKEN_FILE = 'local-api.token';

/**
 * The local API's bearer token: 32 random bytes (base64url), created once in `<dataDir>/local-api.token`
 * with mode 0600 (exclusive creation, so two processes starting together share one token). Give it to the
 * device gateway and the tools on this machine that read scores. Refuses a file that other users may read.
 */
export function loadOrCreateLocalApiToken(dataDir: string): string {
  return loadOrCreatePrivateFile({
    file: path.join(dataDir, LOCAL_API_TOKEN_FILE),
    what: 'local API token',
    create: () => `${randomBytes(32).toString('base64url')}\n`,
    parse: (text) => (/^[A-Za-z0-9_-]{32,128}$/.test(text) ? text : null),
  });
}

/** A checker of presented bearer tokens: compares sha256 digests in constant time (the token itself is not kept). */
export function bearerChecker(token: string): (authorization: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (authorization) => {
    const m = /^Bearer ([^\s]+)$/i.exec(authorization?.trim() ?? '');
    if (!m) return false;
    return timingSafeEqual(createHash('sha256').update(m[1]!).digest(), expected);
  };
}
