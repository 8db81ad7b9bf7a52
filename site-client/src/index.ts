/**
 * @twinfed/site-client — a hospital's side of twinfed: enrollment and pinned coordinator keys, the signed
 * HTTP client and push event stream, the runner that trains, uploads and evaluates in a federation, and the
 * digital twins: twin store, ingestion (FHIR, CSV, wearable stream), features, scoring, population reports,
 * the local streaming and scoring API, and the hospital simulator.
 */
export { loadSiteConfig, DEFAULT_DATA_DIR, LOG_LEVELS, type LogLevel, type SiteConfig, type SiteConfigOverrides } from './config';
export { createLogger, silentLogger, REDACTED_KEYS, type Logger, type CreateLoggerOptions } from './logger';
export * from './identity';
export { HttpTransport, errorFromResponse, type FetchLike, type HttpRequest, type HttpResponse, type HttpTransportOptions, type SiteCredentials } from './transport/http';
export { CoordinatorClient, type ModelWeightsDownload, type SignedModelVersion, type SiteApi } from './transport/coordinator-client';
export { EventStream, type ConnectionListener, type EventStreamOptions, type SiteSocket, type SiteStatus, type SocketFactory } from './transport/event-stream';
export { DEFAULT_BACKOFF, backoffDelay, isRetryableAnswer, parseRetryAfter, type BackoffPolicy } from './transport/retry';
export { splitDataset, takeRows, type LocalDataset } from './training/dataset';
export { normalizeDataset, type Normalization } from './training/normalize';
export { Journal, JOURNAL_FILE, type EvaluationEntry, type JournalData, type UploadEntry } from './training/journal';
export { FederationSession, defaultModelOps, siteSeed, type FederationSessionOptions, type ModelOps } from './training/federation-session';
export { fetchVerifiedModel, isModelRejection, type FetchVerifiedModelOptions, type VerifiedModel } from './training/verified-model';
export { SiteRunner, type PushSource, type SiteRunnerOptions, type VersionHook, type VersionHookInput } from './training/runner';
export type { DatasetSource } from './training/dataset-source';
export { readTwins, stableTestPids, trainingPreprocessing, TwinDatasetSource, twinLocalDataset, type TwinDatasetSourceOptions, type TwinLocalDatasetOptions } from './training/twin-dataset';
export { ModelStore, MODELS_DIR, type SaveModelOptions, type StoredModel } from './training/model-store';
export { HttpPopulationApi, POPULATION_OUTBOX_FILE, PopulationOutbox, type PopulationApi } from './training/population-outbox';
export { twinVersionHook, type TwinVersionHookOptions } from './training/twin-publisher';
export type { ProgressListener, RunnerProgress, RunSummary, SkipReason } from './training/progress';
export { loadLocalData, type DataSource, type LoadedData } from './cli/load-data';
export { createProgram, runCli, CLI_VERSION } from './cli/program';
export type { CliDeps, TextOut } from './cli/context';
export { SIMULATION_FILES } from './cli/commands/simulate';
export * from './twins';
export * from './ingest';
export * from './features';
export * from './scoring';
export * from './population';
export * from './simulate';
export * from './stream';
export * from './local-api';
