/**
 * Where the coordinator keeps its state, from one string (`--store`, TWINFED_STORE_URL or TWINFED_STORE):
 * `sqlite` (the default: <data dir>/coordinator.db), `memory`, a file path or `file:` URL (SQLite at that file), or a
 * `postgres://` / `postgresql://` URL (PostgreSQL; `?schema=<name>` selects a schema, created when absent; default
 * `public`). The pool size of PostgreSQL comes from TWINFED_STORE_POOL_SIZE (default 10).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TwinfedError } from '@twinfed/shared';

export type StoreLocation =
  | { kind: 'memory' }
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; schema: string; poolSize: number };

export const DEFAULT_POOL_SIZE = 10;

function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** Parses a store location; CONFIG_INVALID for a malformed URL, schema or pool size. */
export function parseStoreLocation(value: string, opts: { dataDir: string; poolSize?: number }): StoreLocation {
  const v = value.trim();
  if (v === 'memory') return { kind: 'memory' };
  if (v === 'sqlite' || v === '') return { kind: 'sqlite', path: path.join(opts.dataDir, 'coordinator.db') };
  if (isPostgresUrl(v)) {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      throw new TwinfedError('CONFIG_INVALID', `Invalid PostgreSQL URL: ${redactUrl(v)}`);
    }
    const schema = url.searchParams.get('schema') ?? 'public';
    url.searchParams.delete('schema');
    const poolSize = opts.poolSize ?? DEFAULT_POOL_SIZE;
    if (!Number.isInteger(poolSize) || poolSize < 1)
      throw new TwinfedError('CONFIG_INVALID', `Invalid PostgreSQL pool size ${poolSize} (a whole number ≥ 1).`);
    return { kind: 'postgres', url: url.toString(), schema: checkSchemaName(schema), poolSize };
  }
  if (/^file:/i.test(v)) {
    try {
      return { kind: 'sqlite', path: path.resolve(fileURLToPath(v)) };
    } catch {
      throw new TwinfedError('CONFIG_INVALID', `Invalid file URL for the SQLite store: ${v}`);
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v))
    throw new TwinfedError(
      'CONFIG_INVALID',
      `Unsupported store "${v.split(':')[0]}" (use a path, file:, or postgres://).`,
    );
  return { kind: 'sqlite', path: path.resolve(v) };
}

/** The location for logs and the start banner (a PostgreSQL password is never shown). */
export function describeStoreLocation(location: StoreLocation): string {
  if (location.kind === 'memory') return 'memory';
  if (location.kind === 'sqlite') return `sqlite ${location.path}`;
  return `postgres ${redactUrl(location.url)} schema ${location.schema}`;
}

/** A schema name safe to put in SQL (letters, digits, underscore; at most 63 characters). */
export function checkSchemaName(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema))
    throw new TwinfedError(
      'CONFIG_INVALID',
      `Invalid PostgreSQL schema name "${schema}" (letters, digits and _, not starting with a digit).`,
    );
  return schema;
}

/** A URL with any password replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

/** A store location string as it may be printed or logged (a PostgreSQL password is never shown). */
export function redactStore(value: string): string {
  return isPostgresUrl(value.trim()) ? redactUrl(value.trim()) : value;
}
