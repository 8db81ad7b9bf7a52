/**
 * @twinfed/coordinator — the consortium's coordinator: enrollment, rounds, aggregation, signed model registry.
 * Run through the `twinfed` CLI; exported here is what another workspace (the tests, demos and benchmarks)
 * imports (tests/src/hygiene/public-surface.test.ts checks both ways).
 */
export { createAdminClient, type AdminClient } from './cli/admin-client';
export { loadConfig } from './config';
export { CoordinatorMetrics } from './metrics/registry';
export { DP_PUBLIC_METRICS } from './rounds/dp-release';
export { startCoordinator, type RunningCoordinator } from './main';
export { dropPostgresSchema, PostgresStore } from './store/postgres-store';
export { SqliteStore } from './store/sqlite-store';
export { FOLD_BATCH } from './rounds/accumulators';
export { fedAvg } from './strategies/fedavg';
export { addAll } from './strategies/types';
export type { ClientResult } from './strategies/types';
