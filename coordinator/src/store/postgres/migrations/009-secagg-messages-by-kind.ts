import type { PgMigration } from './types';

/**
 * A round's secure-aggregation messages by kind (SQLite's 019): the coordinator counts one kind's senders at every
 * state read, signature and reveal, and lists them in site order; the primary key (federation, round, site, kind)
 * would walk the round's messages of all three kinds.
 */
export const migration009: PgMigration = {
  version: 9,
  name: 'secagg-messages-by-kind',
  sql: `
CREATE INDEX secagg_messages_by_kind ON secagg_messages (federation_id, round, kind, site_id);
`,
};
