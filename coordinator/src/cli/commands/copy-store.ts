/** `twinfed coordinator copy-store`: moves a stopped SQLite consortium into PostgreSQL (see store/copy-to-postgres.ts). */
import type { Command } from 'commander';
import { TwinfedError, loadIdentity } from '@twinfed/shared';
import { createContext, type CliDeps } from '../context';
import { parseStoreLocation, redactStore } from '../../store/location';
import { renderKeyValues } from '../format';

export function registerCopyStore(coordinator: Command, deps: CliDeps): void {
  coordinator
    .command('copy-store')
    .description(
      "Copy a consortium's SQLite store into an empty PostgreSQL schema, to move from one coordinator process to " +
        'replicas. Stop the coordinator first. Every table is copied as stored, in one transaction: keys stay in the data ' +
        'dir, the audit chain and every signature stay valid under the same coordinator key. The audit trail is verified ' +
        'with that key before the copy (a broken trail is not copied) and after it, on PostgreSQL. Refuses a schema that ' +
        'already holds data. The SQLite file is left as it was.',
    )
    .requiredOption('--to <url>', 'postgres://user@host:5432/db?schema=<name> (the schema is created when absent)')
    .option('--from <file>', 'the SQLite database (default: <data dir>/coordinator.db)')
    .addHelpText(
      'after',
      "\nExample:\n  $ twinfed --data-dir /var/lib/twinfed coordinator copy-store --to 'postgres://twinfed@db:5432/twinfed?schema=consortium'\n" +
        "  $ twinfed --data-dir /var/lib/twinfed coordinator start --store 'postgres://twinfed@db:5432/twinfed?schema=consortium'\n",
    )
    .action(async (flags: { to: string; from?: string }, cmd: Command) => {
      const ctx = createContext(cmd, deps, { offline: true });
      const target = parseStoreLocation(flags.to, { dataDir: ctx.dataDir });
      if (target.kind !== 'postgres')
        throw new TwinfedError('BAD_REQUEST', '--to must be a postgres:// URL (the target of the copy).');
      const source = parseStoreLocation(flags.from ?? 'sqlite', { dataDir: ctx.dataDir });
      if (source.kind !== 'sqlite')
        throw new TwinfedError('BAD_REQUEST', '--from must be a SQLite database file (the store to copy).');
      const key = loadIdentity({ dir: ctx.dataDir, name: 'coordinator' }).sign.publicKey;
      // Loaded only here: SQLite and pg are not needed by the rest of the CLI.
      const [{ verifyAuditDatabase, verifyStoreAudit }, { copySqliteToPostgres }, { PostgresStore }] =
        await Promise.all([
          import('../../audit/verify'),
          import('../../store/copy-to-postgres'),
          import('../../store/postgres-store'),
        ]);
      const before = await verifyAuditDatabase(source.path, key);
      if (!before.ok)
        throw new TwinfedError(
          'AUDIT_CHAIN_INVALID',
          `The audit trail of ${source.path} does not verify (twinfed audit verify --db ${source.path}); nothing was copied.`,
        );
      const copied = await copySqliteToPostgres({
        sqlitePath: source.path,
        postgres: { url: target.url, schema: target.schema },
      });
      const store = await PostgresStore.open({ url: target.url, schema: target.schema, poolSize: 2 });
      const after = await verifyStoreAudit(store, key).finally(() => store.close());
      if (!after.ok) throw new TwinfedError('AUDIT_CHAIN_INVALID', 'The copied audit trail does not verify.');
      const to = redactStore(flags.to);
      ctx.emit({ from: source.path, to, tables: copied.tables, auditEntries: after.entries }, () =>
        [
          `Copied ${source.path} into ${to}.`,
          renderKeyValues(copied.tables.map((t) => [t.table, String(t.rows)])).trimEnd(),
          `Audit trail intact on PostgreSQL: ${after.entries} entries, ${after.heads} signed heads.`,
          `Next: start every replica with --store '${to}' and this data dir's coordinator keys.`,
        ].join('\n'),
      );
    });
}
