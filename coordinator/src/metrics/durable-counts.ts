import type { Logger } from '@twinfed/shared';
import type { Store } from '../store';
import { DURABLE_COUNTS, type CoordinatorMetrics } from './registry';

const DURABLE: ReadonlySet<string> = new Set(DURABLE_COUNTS);

/**
 * Keeps the metrics' durable counts (late uploads, rounds closed, recoveries) in the store under this replica's id:
 * restores them into `metrics` now, then writes each increment back. Returns `flush`, which waits for the writes
 * still under way (call it before the store closes). A write that fails is logged, not retried: a metric is not
 * worth failing an upload or a round over.
 */
export async function keepCountsDurable(o: {
  store: Store;
  replica: string;
  metrics: CoordinatorMetrics;
  logger: Logger;
}): Promise<{ flush(): Promise<void> }> {
  const stored = await o.store.listCounts(o.replica);
  o.metrics.restore(Object.fromEntries(Object.entries(stored).filter(([k]) => DURABLE.has(k))));
  const pending = new Set<Promise<void>>();
  o.metrics.onDurable = (name, by) => {
    const write = o.store
      .addToCount({ replica: o.replica, name, by })
      .catch((err: unknown) => o.logger.warn({ err, name }, 'metric count not stored'))
      .finally(() => pending.delete(write));
    pending.add(write);
  };
  return {
    flush: async () => {
      await Promise.all([...pending]);
    },
  };
}
