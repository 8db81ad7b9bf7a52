/**
 * The SQLite implementation of {@link Store} (better-sqlite3; WAL, synchronous=FULL, so every write is on
 * disk before its promise resolves). Its methods live in sqlite/<domain>.ts, one part per domain of the
 * interface; multi-statement writes run in BEGIN IMMEDIATE transactions with no await inside.
 */
import { storeClass } from './compose';
import { audit, sealLegacyAudit } from './sqlite/audit';
import { cohort } from './sqlite/cohort';
import { cohortPool } from './sqlite/cohort-pool';
import { crossSite } from './sqlite/cross-site';
import { lifecycle, SqlContext, SqliteContext } from './sqlite/context';
import { openDatabase, type OpenDatabaseOptions } from './sqlite/db';
import { decisions } from './sqlite/decisions';
import { federations } from './sqlite/federations';
import { identity } from './sqlite/identity';
import { counts } from './sqlite/counts';
import { leases } from './sqlite/leases';
import { population } from './sqlite/population';
import { secagg } from './sqlite/secagg';
import { recalibration } from './sqlite/recalibration';
import { stats } from './sqlite/stats';
import { studies } from './sqlite/studies';
import { updates } from './sqlite/updates';
import { versions } from './sqlite/versions';

type SqliteStoreOptions = Omit<OpenDatabaseOptions, 'migrations'>;

export class SqliteStore extends storeClass((context: SqlContext) => new SqliteContext(context), {
  identity,
  studies,
  federations,
  updates,
  versions,
  population,
  cohort,
  cohortPool,
  crossSite,
  stats,
  recalibration,
  secagg,
  decisions,
  audit,
  leases,
  counts,
  lifecycle,
}) {
  /** Opens (creating with mode 0600 if needed) and migrates the database file. */
  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    const context = new SqlContext(openDatabase(options));
    sealLegacyAudit(context);
    return new SqliteStore(context);
  }
}
