/** @twinfed/coordinator — the consortium's coordinator: enrollment, rounds, aggregation, signed model registry. */
export { loadConfig, type CoordinatorConfig } from './config';
export { startCoordinator, type RunningCoordinator, type StartOptions } from './main';
export { createLogger, type Logger } from './logger';
export { RoundEngine } from './rounds/engine';
export { DP_PUBLIC_METRICS } from './rounds/dp-release';
export { routeTable, type RouteDef } from './http/route-table';
export * as store from './store';
export * as strategies from './strategies';
export { createAdminClient, type AdminClient } from './cli/admin-client';
