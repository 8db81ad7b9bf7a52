import * as fs from 'node:fs';
import * as path from 'node:path';
import { TwinfedError } from '@twinfed/shared';

/** Options of {@link writeFileAtomic}. */
interface WriteAtomicOptions {
  /** File mode of the new file (e.g. 0o600 for secrets); 0o644 by default. */
  mode?: number;
}

/**
 * Writes `data` to `file` so that a crash leaves either the old or the new content, never half of it:
 * write a temporary file in the same directory, fsync it, rename it over the target, fsync the directory.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: WriteAtomicOptions = {}): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'w', options.mode ?? 0o644);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(dir);
}

/** Makes a directory's entries durable (a file created or renamed in it); a no-op where directories cannot be fsync'd. */
export function fsyncDir(dir: string): void {
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // Directory fsync is not supported everywhere (e.g. some network filesystems).
  }
}

/** Reads and parses a JSON file, or returns `undefined` when it does not exist. */
export function readJsonIfExists(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return JSON.parse(text) as unknown;
}

/**
 * Loads a private file (a secret or token) from `file`, creating it once with `create()` and mode 0600 when it
 * does not exist. Creation is exclusive (write a temporary file, fsync, hard-link it into place), so two processes
 * starting together end up with the same content. Refuses a file that other users may read, or whose trimmed text
 * `parse` rejects (returns null); `what` names the file in those errors (e.g. 'site secret').
 */
export function loadOrCreatePrivateFile<T>(opts: {
  file: string;
  what: string;
  create: () => string;
  parse: (text: string) => T | null;
}): T {
  const existing = readPrivateFile(opts);
  if (existing !== null) return existing;
  const dir = path.dirname(opts.file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(opts.file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, opts.create());
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, opts.file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const created = readPrivateFile(opts);
  if (created === null) throw new TwinfedError('CONFIG_INVALID', `The ${opts.what} could not be created.`);
  return created;
}

function readPrivateFile<T>(opts: { file: string; what: string; parse: (text: string) => T | null }): T | null {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(opts.file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new TwinfedError('CONFIG_INVALID', `The ${opts.what} ${opts.file} is readable by other users; chmod 600 it.`);
  }
  const value = opts.parse(fs.readFileSync(opts.file, 'utf8').trim());
  if (value === null) throw new TwinfedError('CONFIG_INVALID', `The ${opts.what} ${opts.file} is malformed.`);
  return value;
}
