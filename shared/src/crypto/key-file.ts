/**
 * Identity key files: JSON with base64 keys, file mode 0600 in a 0700 directory, written atomically
 * (temp file + fsync + rename), refused on load when group or world can read them.
 * POSIX permissions only: on Windows the mode check is skipped (NTFS ACLs are out of scope).
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  fchmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { TwinfedError } from '../errors';
import { fromB64, toB64 } from './encoding';
import { randomBytes } from './hash';
import { generateIdentity, identityFromSecretKeys, type Identity } from './identity';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FILE_FORMAT = 'twinfed-identity/v1';

const KeyFileSchema = z.strictObject({
  format: z.literal(FILE_FORMAT),
  signPublicKey: z.string(),
  signSecretKey: z.string(),
  boxPublicKey: z.string(),
  boxSecretKey: z.string(),
});

/** Path of the key file for identity `name` in `dir` (`<dir>/<name>.key.json`). */
export function identityPath(opts: { dir: string; name: string }): string {
  if (!NAME_RE.test(opts.name))
    throw new TwinfedError('CONFIG_INVALID', 'Identity name must be 1–64 characters [A-Za-z0-9._-].');
  return join(opts.dir, `${opts.name}.key.json`);
}

const isPosix = (): boolean => process.platform !== 'win32';

/**
 * Writes `identity` to `<dir>/<name>.key.json` with mode 0600 (creating `dir` with mode 0700 if missing),
 * atomically: a reader sees the old file or the new one, never half of one. Returns the file path.
 */
export function saveIdentity(opts: { dir: string; identity: Identity; name: string }): string {
  const path = identityPath(opts);
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const { identity } = opts;
  const body = JSON.stringify(
    {
      format: FILE_FORMAT,
      signPublicKey: toB64(identity.sign.publicKey),
      signSecretKey: toB64(identity.sign.secretKey),
      boxPublicKey: toB64(identity.box.publicKey),
      boxSecretKey: toB64(identity.box.secretKey),
    },
    null,
    2,
  );
  const tmp = `${path}.${Buffer.from(randomBytes(6)).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    if (isPosix()) fchmodSync(fd, 0o600); // independent of the process umask
    writeSync(fd, body + '\n');
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  if (isPosix()) {
    const dfd = openSync(opts.dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
  return path;
}

/**
 * Reads the identity `name` from `dir`. Throws `CONFIG_INVALID` when the file is missing, readable or
 * writable by group/others (mode & 077 ≠ 0), malformed, or when its public keys do not match its secret keys.
 */
export function loadIdentity(opts: { dir: string; name: string }): Identity {
  const path = identityPath(opts);
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new TwinfedError('CONFIG_INVALID', `Identity ${opts.name} is not a regular file.`);
    if (isPosix() && (st.mode & 0o077) !== 0) {
      throw new TwinfedError(
        'CONFIG_INVALID',
        `Identity file ${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it.`,
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof TwinfedError) throw e;
    throw new TwinfedError('CONFIG_INVALID', `Identity ${opts.name} could not be read from ${opts.dir}.`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TwinfedError('CONFIG_INVALID', `Identity file ${path} is not valid JSON.`);
  }
  const parsed = KeyFileSchema.safeParse(json);
  if (!parsed.success) throw new TwinfedError('CONFIG_INVALID', `Identity file ${path} has an unexpected shape.`);
  const f = parsed.data;
  const identity = identityFromSecretKeys({
    signSecretKey: fromB64(f.signSecretKey, 'CONFIG_INVALID'),
    boxSecretKey: fromB64(f.boxSecretKey, 'CONFIG_INVALID'),
  });
  if (toB64(identity.sign.publicKey) !== f.signPublicKey || toB64(identity.box.publicKey) !== f.boxPublicKey) {
    throw new TwinfedError('CONFIG_INVALID', `Identity file ${path}: public keys do not match the secret keys.`);
  }
  return identity;
}

/** True when the key file for `name` exists in `dir` (it may still be invalid). */
export function identityExists(opts: { dir: string; name: string }): boolean {
  try {
    statSync(identityPath(opts));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new TwinfedError('CONFIG_INVALID', `Identity ${opts.name} could not be checked.`, { cause: e });
  }
}

/**
 * Loads identity `name` from `dir`, or generates and saves a new one when there is none
 * (the coordinator's first start). `created` tells which happened.
 */
export function loadOrCreateIdentity(opts: { dir: string; name: string }): { identity: Identity; created: boolean } {
  if (identityExists(opts)) return { identity: loadIdentity(opts), created: false };
  const identity = generateIdentity();
  saveIdentity({ ...opts, identity });
  return { identity, created: true };
}
