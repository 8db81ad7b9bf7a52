/** In memory: the metric counts a replica keeps across restarts (gone with the process, like the rest of this store). */
import type { CountStore } from '../types';
import type { MemoryContext } from './context';
import { key } from './state';

export function counts(x: MemoryContext): CountStore {
  return {
    async addToCount({ replica, name, by }) {
      const counts = x.s.counts;
      counts.set(key(replica, name), (counts.get(key(replica, name)) ?? 0) + by);
    },

    async listCounts(replica) {
      const prefix = key(replica, '');
      return Object.fromEntries(
        [...x.s.counts].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]),
      );
    },
  };
}
