import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TwinfedError } from '@twinfed/shared';

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
  const file = path.join(dataDir, SITE_SECRET_FILE);
  const existing = readSecret(file);
  if (existing) return existing;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dataDir, `.${SITE_SECRET_FILE}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, randomBytes(SECRET_BYTES).toString('hex'));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const created = readSecret(file);
  if (!created) throw new TwinfedError('CONFIG_INVALID', 'The site secret could not be created.');
  return created;
}

function readSecret(file: string): Buffer | null {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new TwinfedError('CONFIG_INVALID', `The site secret ${file} is readable by other users; chmod 600 it.`);
  }
  const hex = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]+$/.test(hex) || hex.length !== SECRET_BYTES * 2) {
    throw new TwinfedError('CONFIG_INVALID', `The site secret ${file} is malformed.`);
  }
  return Buffer.from(hex, 'hex');
}
