/** PostgreSQL: the metric counts a replica keeps across restarts (one atomic upsert per increment). */
import type { CountStore } from '../types';
import type { PgContext } from './context';

export function counts(x: PgContext): CountStore {
  return {
    async addToCount({ replica, name, by }) {
      await x.sql.count(
        `INSERT INTO metric_counts (replica, name, value) VALUES ($1, $2, $3)
           ON CONFLICT (replica, name) DO UPDATE SET value = metric_counts.value + EXCLUDED.value`,
        [replica, name, by],
      );
    },

    async listCounts(replica) {
      const rows = await x.sql.rows<{ name: string; value: string }>(
        'SELECT name, value FROM metric_counts WHERE replica = $1',
        [replica],
      );
      return Object.fromEntries(rows.map((r) => [r.name, Number(r.value)]));
    },
  };
}
