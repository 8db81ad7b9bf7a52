/** SQLite: the metric counts a replica keeps across restarts (an increment shares the write batch's commit). */
import type { CountStore } from '../types';
import type { SqliteContext } from './context';

export function counts(x: SqliteContext): CountStore {
  return {
    async addToCount({ replica, name, by }) {
      await x.batch.run((c) =>
        c
          .stmt(
            `INSERT INTO metric_counts (replica, name, value) VALUES (?, ?, ?)
               ON CONFLICT (replica, name) DO UPDATE SET value = value + excluded.value`,
          )
          .run(replica, name, by),
      );
    },

    async listCounts(replica) {
      const rows = x.c.stmt('SELECT name, value FROM metric_counts WHERE replica = ?').all(replica) as Array<{
        name: string;
        value: number;
      }>;
      return Object.fromEntries(rows.map((r) => [r.name, r.value]));
    },
  };
}
