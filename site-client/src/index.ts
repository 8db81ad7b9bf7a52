/**
 * @twinfed/site-client — a hospital's side of twinfed: enrollment and pinned coordinator keys, the signed
 * HTTP client and push event stream, the runner that trains, uploads and evaluates in a federation, and the
 * digital twins: twin store, ingestion (FHIR, CSV, wearable stream), features, scoring, population reports,
 * the local streaming and scoring API, and the hospital simulator. Most of it is reached through the
 * `twinfed-site` CLI; exported here is what another workspace (the tests, demos and benchmarks) imports
 * (tests/src/hygiene/public-surface.test.ts checks both ways).
 */
// audit
export { SiteAuditLog } from './audit/site-audit';

// cli
export type { CliDeps } from './cli/context';
export { loadLocalData } from './cli/load-data';
export { runCli } from './cli/program';

// cohort statistics
export { CohortPolicySchema } from './cohort/policy';
export { releaseCohortTable } from './cohort/release';
export { rowsFromDataset } from './cohort/rows';

// governance
export { POLICY_FILE } from './governance/policy-file';
export { SitePolicySchema, evaluatePolicy, policyLineText, type SitePolicy } from './governance/policy';

// identity
export { enroll } from './identity/enroll';
export { type Enrollment, enrollmentCredentials, loadEnrollment } from './identity/load';

// ingest
export { CsvIngestMappingSchema } from './ingest/csv-mapping';
export { importCsv } from './ingest/csv';
export { importFhir } from './ingest/fhir/import';
export type { IngestReport } from './ingest/report';

// local-api
export { startLocalApi } from './local-api/server';

// simulate
export { SIM_NAMED_PATIENTS } from './simulate/people';
export { TWIN_SCENARIO_PLAN, twinScenarioCoxPlan, twinScenarioPlan } from './simulate/plan';

// stream
export { IngestQueue } from './stream/ingest-queue';
export { LiveScorer } from './stream/live-scorer';

// training
export type { LocalDataset } from './training/dataset';
export { defaultModelOps, type ModelOps } from './training/federation-session';
export { Journal, type UploadEntry } from './training/journal';
export type { RunnerProgress, RunSummary } from './training/progress';
export { SiteRunner } from './training/runner';
export { readTwins, twinLocalDataset } from './training/twin-dataset';

// transport
export { CoordinatorClient } from './transport/coordinator-client';
export { EventStream } from './transport/event-stream';
export { SiteAuthenticator } from './transport/site-auth';

// twins
export { MemoryTwinStore } from './twins/memory-store';
export { SqliteTwinStore } from './twins/sqlite-store';
export type { TwinStore } from './twins/store-types';
export { openTwinStore } from './twins/store';
