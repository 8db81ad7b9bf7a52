import type { Standardizer } from '@twinfed/models';
import type { Plan, ServerToClientEvents, Logger } from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import type { SiteApi } from '../transport/coordinator-client';
import type { ConnectionListener, SiteStatus } from '../transport/event-stream';
import type { LocalDataset } from './dataset';
import type { DatasetSource } from './dataset-source';
import type { ModelOps } from './federation-session';
import type { Journal } from './journal';
import type { SiteAuditLog } from '../audit/site-audit';
import type { PlanDecisionChannel } from '../governance/channel';
import type { SitePolicy } from '../governance/policy';
import type { ProgressListener, RunnerProgress } from './progress';
import type { VerifiedModel } from './verified-model';

/** Push events the runner listens to ({@link EventStream} implements it). */
export interface PushSource {
  on<E extends keyof ServerToClientEvents>(event: E, handler: ServerToClientEvents[E]): () => void;
  onConnection(listener: ConnectionListener): () => void;
  start(): void;
  close(): void;
  reportStatus(status: SiteStatus): Promise<unknown>;
  /** True while the push channel is up (when the source can tell); secure aggregation then polls only as a safety net. */
  readonly connected?: boolean;
}

/** What a {@link VersionHook} gets: a published version this site verified, and the site's current data. */
export interface VersionHookInput {
  versionId: string;
  model: VerifiedModel;
  plan: Plan;
  /** The local data in use (un-normalised), e.g. a twin dataset with its fill values. */
  dataset: LocalDataset;
  /** The z-score statistics training used (see `FederationSession.standardizer`), or null without normalisation. */
  standardizer: Standardizer | null;
  signal: AbortSignal;
  emit: (event: RunnerProgress) => void;
}

/**
 * Work a site does with each published version it verified (the twin site saves it, scores its twins and
 * reports the population view). It must be idempotent: it runs again after a restart, and after it threw
 * (the runner warns and retries at the next wake-up). A model rejection thrown here ends it for the version.
 */
export type VersionHook = (input: VersionHookInput) => Promise<void>;

/** Options of {@link SiteRunner}. */
export interface SiteRunnerOptions {
  federationId: string;
  enrollment: Enrollment;
  api: SiteApi;
  /** Push events; optional (without them the runner only polls). */
  events?: PushSource;
  /**
   * Local data, featurised in the plan's feature order (normalised by the runner as the plan says). Give
   * either a fixed `dataset` or a `datasetSource`, which is asked again at the start of every round this site
   * trains in and before every evaluation (a consent withdrawal takes effect at the next round).
   */
  dataset?: LocalDataset;
  datasetSource?: DatasetSource;
  /** Runs once per published version after its evaluation (see {@link VersionHook}). */
  afterVersion?: VersionHook;
  journal: Journal;
  /**
   * The site's own audit chain: what it trained, uploaded and refused, and its decisions about plans (the runner
   * trains only on a plan hash approved there, by a person or by `policy`).
   */
  audit: SiteAuditLog;
  /**
   * The site's policy in force, evaluated again at every round (a function is asked each time: the CLI re-reads the
   * policy file with the privacy floors added). A plan that breaks a rule is refused (`PLAN_REJECTED`); one nobody
   * approved is refused (`PLAN_NOT_APPROVED`) unless the policy has `autoApprove`.
   */
  policy: SitePolicy | (() => SitePolicy);
  /** Where the site's decisions go to the coordinator (only the decision and the plan hash); without it they stay local. */
  decisionChannel?: PlanDecisionChannel;
  logger?: Logger;
  /** Poll interval of `rounds/current` (default 3000 ms). */
  pollIntervalMs?: number;
  /**
   * When `rounds/current` brings the latest version along: how long after a `model:published` the runner waits for
   * the wake-up that brings it (the round's next event) before it downloads the version apart (default 2000 ms).
   */
  versionGraceMs?: number;
  /**
   * How long the first `rounds/current` waits for the push source's first connection (default 2000 ms; ended early by a
   * failed attempt): polled after it, the connection needs no catch-up poll of its own.
   */
  connectWaitMs?: number;
  modelOps?: ModelOps;
  /** Overrides the trainer seed. */
  seed?: number;
  onProgress?: ProgressListener;
  /**
   * After {@link SiteRunner.stop}, how long an update already trained or being uploaded may take to be
   * acknowledged (and journalled) before in-flight requests are cancelled. Default 10 s.
   */
  stopGraceMs?: number;
}
