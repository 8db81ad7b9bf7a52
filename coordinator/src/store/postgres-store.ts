/**
 * The PostgreSQL implementation of {@link Store} (`pg`, one pool per store; every session synchronous_commit=on, so
 * every write is on the server's disk before its promise resolves). Several coordinator processes may share one
 * schema: what SQLite gets from being single-writer (one audit chain, insert-once nonces and messages, round CAS) is
 * kept with row locks and ON CONFLICT inserts. Its methods live in postgres/<domain>.ts, one part per domain.
 */
import { storeClass } from './compose';
import { audit } from './postgres/audit';
import { cohort } from './postgres/cohort';
import { cohortPool } from './postgres/cohort-pool';
import { crossSite } from './postgres/cross-site';
import { lifecycle, PgContext } from './postgres/context';
import { checkDurability, PgDb, unreachable, type PgOptions } from './postgres/db';
import { decisions } from './postgres/decisions';
import { federations } from './postgres/federations';
import { identity } from './postgres/identity';
import { counts } from './postgres/counts';
import { leases } from './postgres/leases';
import { migrate } from './postgres/migrate';
import { PG_MIGRATIONS } from './postgres/migrations';
import { population } from './postgres/population';
import { secagg } from './postgres/secagg';
import { recalibration } from './postgres/recalibration';
import { stats } from './postgres/stats';
import { studies } from './postgres/studies';
import { updates } from './postgres/updates';
import { versions } from './postgres/versions';

export class PostgresStore extends storeClass((db: PgDb) => new PgContext(db), {
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
  /**
   * Connects (CONFIG_INVALID naming the server when it cannot, or when commits are not synchronous), creates the schema
   * when absent and applies pending migrations under an advisory lock.
   */
  static async open(options: PgOptions): Promise<PostgresStore> {
    const db = new PgDb(options);
    try {
      await checkDurability(db.sql);
    } catch (e) {
      await db.close();
      if ((e as { code?: unknown }).code === 'CONFIG_INVALID') throw e;
      throw unreachable(options.url, e);
    }
    try {
      await migrate(db, options.schema, PG_MIGRATIONS);
    } catch (e) {
      await db.close();
      throw e;
    }
    return new PostgresStore(db);
  }
}

export { dropSchema as dropPostgresSchema } from './postgres/db';
