import { alreadyExists } from '../errors';

export { SqlContext } from '@twinfed/sqlite-kit';

/** A Buffer view for binding (no copy). */
export function toBlob(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A plain Uint8Array copy of a blob read from SQLite. */
export function fromBlob(blob: Buffer): Uint8Array {
  return new Uint8Array(blob);
}

/** Runs an insert, turning primary-key and unique violations into ALREADY_EXISTS. */
export function insertUnique<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') throw alreadyExists(what);
    throw e;
  }
}
