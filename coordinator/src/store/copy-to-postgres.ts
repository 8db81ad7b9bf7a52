/**
 * Moves a consortium from its SQLite store to PostgreSQL: every row of every table (keys' claim, tokens, invitations,
 * sites, studies, federations, rounds, updates, versions and weights, evaluations, secure-aggregation and cohort
 * state, the audit chain and its signed heads), copied as stored, in one PostgreSQL transaction, into a schema that
 * holds no consortium yet. Nothing is re-signed or re-hashed: the audit chain and every version signature stay what
 * the coordinator's key made them, so the same key verifies both. Run with the coordinator stopped; the source is
 * held under an immediate transaction for the copy, so no writer changes it meanwhile.
 *
 * The copy is driven by the two schemas as the migrations left them, not by a list kept here: a table or column on
 * one side only is refused (CONFIG_INVALID) unless named below, so a migration added to one store and not the other
 * cannot be copied silently without its data.
 */
import { TwinfedError } from '@twinfed/shared';
import { openDatabase } from './sqlite/db';
import { auditSequenceEnd, sealLegacyAudit } from './sqlite/audit';
import { SqlContext } from './sqlite/context';
import { PgDb, quoteIdent, type Sql } from './postgres/db';
import { migrate } from './postgres/migrate';
import { PG_MIGRATIONS } from './postgres/migrations';

/** Bookkeeping of each engine, not consortium data (sqlite_stat*: planner statistics, if someone ran ANALYZE). */
const SQLITE_ONLY = new Set(['sqlite_sequence', 'schema_migrations', 'sqlite_stat1', 'sqlite_stat4']);
const PG_ONLY = new Set(['schema_migrations', 'audit_sequence']);
/** Runtime state that must not outlive the process that held it: a copied driver lease would stall every round. */
const NOT_COPIED = new Set(['leases']);
/** What a freshly migrated PostgreSQL schema holds before any consortium: the default study (SQLite has its own). */
const SEEDED: Record<string, number> = { studies: 1 };

/** Rows per INSERT: below PostgreSQL's 65,535 parameters, and at most this many bytes of values. */
const MAX_PARAMS = 60_000;
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

interface CopyStoreOptions {
  /** The SQLite database file (migrated to this version first, as `coordinator start` would). */
  sqlitePath: string;
  /** The target: server URL (without `schema`) and schema. */
  postgres: { url: string; schema: string };
  /** Called after each table (progress). */
  onTable?: (table: string, rows: number) => void;
}

interface CopyStoreResult {
  tables: { table: string; rows: number }[];
  /** The audit chain's sequence end carried over (entries appended later continue from it). */
  auditSequenceEnd: number;
}

interface PgColumn {
  column_name: string;
  data_type: string;
  is_identity: 'YES' | 'NO';
  is_generated: string;
  column_default: string | null;
  is_nullable: 'YES' | 'NO';
}

function drift(message: string): TwinfedError {
  return new TwinfedError('CONFIG_INVALID', `The SQLite and PostgreSQL schemas differ: ${message}.`);
}

/** Tables in an order where each comes after every table its foreign keys reference. */
function dependencyOrder(tables: string[], references: { from: string; to: string }[]): string[] {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: string) => {
    if (state.get(t) === 'done') return;
    if (state.get(t) === 'visiting') throw drift(`a foreign-key cycle through ${t}`);
    state.set(t, 'visiting');
    for (const r of references) if (r.from === t && r.to !== t && tables.includes(r.to)) visit(r.to);
    state.set(t, 'done');
    out.push(t);
  };
  for (const t of [...tables].sort()) visit(t);
  return out;
}

function convert(value: unknown, pgType: string): unknown {
  if (value === null) return null;
  if (pgType === 'boolean') return value !== 0;
  return value;
}

function byteSize(value: unknown): number {
  if (Buffer.isBuffer(value)) return value.length;
  if (typeof value === 'string') return value.length * 2;
  return 8;
}

async function targetLayout(sql: Sql, schema: string) {
  const tables = (
    await sql.rows<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`,
      [schema],
    )
  ).map((r) => r.table_name);
  const columns = new Map<string, PgColumn[]>();
  for (const t of tables)
    columns.set(
      t,
      await sql.rows<PgColumn>(
        `SELECT column_name, data_type, is_identity, is_generated, column_default, is_nullable
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
        [schema, t],
      ),
    );
  const references = await sql.rows<{ from: string; to: string }>(
    `SELECT src.relname AS "from", dst.relname AS "to" FROM pg_constraint c
     JOIN pg_class src ON src.oid = c.conrelid JOIN pg_class dst ON dst.oid = c.confrelid
     JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = $1`,
    [schema],
  );
  return { tables, columns, references };
}

/** Copies the SQLite store at `sqlitePath` into an empty PostgreSQL schema (created and migrated when absent). */
export async function copySqliteToPostgres(options: CopyStoreOptions): Promise<CopyStoreResult> {
  const { schema } = options.postgres;
  const source = new SqlContext(openDatabase({ path: options.sqlitePath }));
  sealLegacyAudit(source); // what `coordinator start` does first with a store written before the audit was a chain
  const db = new PgDb({ url: options.postgres.url, schema, poolSize: 2 });
  try {
    await migrate(db, schema, PG_MIGRATIONS);
    const target = await targetLayout(db.sql, schema);
    const sqliteSchema = source.db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
      sql: string;
    }[];
    const sqliteTables = sqliteSchema.map((t) => t.name);
    for (const t of sqliteTables)
      if (!SQLITE_ONLY.has(t) && !target.tables.includes(t)) throw drift(`table ${t} is missing in PostgreSQL`);
    for (const t of target.tables)
      if (!PG_ONLY.has(t) && !sqliteTables.includes(t)) throw drift(`table ${t} is missing in SQLite`);
    const copied = dependencyOrder(
      target.tables.filter((t) => !PG_ONLY.has(t) && !NOT_COPIED.has(t)),
      target.references,
    );

    // Column by column: a column on one side only is drift, unless PostgreSQL fills it itself (an identity).
    const plan = copied.map((table) => {
      const pgColumns = target.columns.get(table)!;
      const sqliteColumns = (
        source.db.prepare(`PRAGMA table_info(${JSON.stringify(table)})`).all() as { name: string }[]
      ).map((c) => c.name);
      for (const c of sqliteColumns)
        if (!pgColumns.some((p) => p.column_name === c)) throw drift(`column ${table}.${c} is missing in PostgreSQL`);
      for (const p of pgColumns)
        if (
          !sqliteColumns.includes(p.column_name) &&
          p.is_identity !== 'YES' &&
          p.column_default === null &&
          p.is_nullable === 'NO'
        )
          throw drift(`column ${table}.${p.column_name} is missing in SQLite`);
      const columns = pgColumns.filter((p) => sqliteColumns.includes(p.column_name));
      const identity = columns.some((p) => p.is_identity === 'YES');
      const withoutRowid = /WITHOUT\s+ROWID/i.test(sqliteSchema.find((t) => t.name === table)!.sql);
      return { table, columns, identity, withoutRowid };
    });

    // The target must hold no consortium: only what its migrations seeded.
    for (const { table } of plan) {
      const n = (await db.sql.one<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoteIdent(table)}`))!.n;
      if (n > (SEEDED[table] ?? 0))
        throw new TwinfedError(
          'CONFIG_INVALID',
          `The PostgreSQL schema "${schema}" already holds data (${table}: ${n} rows); copy into a new schema.`,
        );
    }

    source.db.prepare('BEGIN IMMEDIATE').run();
    try {
      const sequenceEnd = auditSequenceEnd(source);
      const tables = await db.tx(async (sql) => {
        for (const table of Object.keys(SEEDED)) await sql.count(`DELETE FROM ${quoteIdent(table)}`);
        const counts: { table: string; rows: number }[] = [];
        for (const { table, columns, identity, withoutRowid } of plan) {
          const names = columns.map((c) => quoteIdent(c.column_name)).join(', ');
          // rowid order: PostgreSQL's own identity columns (cohort_queries.seq) then number rows in SQLite's insertion order.
          const rows = source.db
            .prepare(`SELECT ${names} FROM ${quoteIdent(table)}${withoutRowid ? '' : ' ORDER BY rowid'}`)
            .raw()
            .iterate() as IterableIterator<unknown[]>;
          let batch: unknown[][] = [];
          let bytes = 0;
          let total = 0;
          const flush = async () => {
            if (batch.length === 0) return;
            const params: unknown[] = [];
            const tuples = batch.map(
              (row) =>
                `(${row
                  .map((v, i) => {
                    params.push(convert(v, columns[i]!.data_type));
                    return `$${params.length}`;
                  })
                  .join(', ')})`,
            );
            await sql.count(
              `INSERT INTO ${quoteIdent(table)} (${names})${identity ? ' OVERRIDING SYSTEM VALUE' : ''} VALUES ${tuples.join(', ')}`,
              params,
            );
            total += batch.length;
            batch = [];
            bytes = 0;
          };
          for (const row of rows) {
            const size = row.reduce<number>((s, v) => s + byteSize(v), 0);
            if (
              batch.length > 0 &&
              ((batch.length + 1) * columns.length > MAX_PARAMS || bytes + size > MAX_BATCH_BYTES)
            )
              await flush();
            batch.push(row);
            bytes += size;
          }
          await flush();
          counts.push({ table, rows: total });
          options.onTable?.(table, total);
        }
        // Identities continue after the copied rows; the audit counter after the source's (a cut tail stays visible).
        for (const { table } of plan)
          for (const c of target.columns.get(table)!)
            if (c.is_identity === 'YES')
              await sql.one(
                `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(${quoteIdent(c.column_name)}) FROM ${quoteIdent(table)}), 0) + 1, false)`,
                [`${quoteIdent(schema)}.${quoteIdent(table)}`, c.column_name],
              );
        await sql.count('UPDATE audit_sequence SET last_seq = $1 WHERE id = 1', [sequenceEnd]);
        return counts;
      });
      return { tables, auditSequenceEnd: sequenceEnd };
    } finally {
      source.db.prepare('ROLLBACK').run();
    }
  } finally {
    source.db.close();
    await db.close();
  }
}
