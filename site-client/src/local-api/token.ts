import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TwinfedError } from '@twinfed/shared';

/** File of the local API's bearer token inside the site data dir (mode 0600). */
export const LOCAL_API_TOKEN_FILE = 'local-api.token';

/**
 * The local API's bearer token: 32 random bytes (base64url), created once in `<dataDir>/local-api.token`
 * with mode 0600 (exclusive creation, so two processes starting together share one token). Give it to the
 * device gateway and the tools on this machine that read scores. Refuses a file that other users may read.
 */
export function loadOrCreateLocalApiToken(dataDir: string): string {
  const file = path.join(dataDir, LOCAL_API_TOKEN_FILE);
  const existing = readToken(file);
  if (existing) return existing;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dataDir, `.${LOCAL_API_TOKEN_FILE}.${process.pid}.${Date.now()}.tmp`);
  fs.writeFileSync(tmp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const created = readToken(file);
  if (!created) throw new TwinfedError('CONFIG_INVALID', 'The local API token could not be created.');
  return created;
}

function readToken(file: string): string | null {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) throw new TwinfedError('CONFIG_INVALID', `The local API token ${file} is readable by other users; chmod 600 it.`);
  const token = fs.readFileSync(file, 'utf8').trim();
  if (!/^[A-Za-z0-9_-]{32,128}$/.test(token)) throw new TwinfedError('CONFIG_INVALID', `The local API token ${file} is malformed.`);
  return token;
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
