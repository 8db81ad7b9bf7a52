import * as fs from 'node:fs';
import * as path from 'node:path';

/** Options of {@link writeFileAtomic}. */
export interface WriteAtomicOptions {
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
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // Directory fsync is not supported everywhere (e.g. some network filesystems); the rename already happened.
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
