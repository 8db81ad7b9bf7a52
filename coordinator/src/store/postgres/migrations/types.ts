/** A numbered PostgreSQL schema migration (its own numbering, independent of SQLite's); applied once, in order. */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}
