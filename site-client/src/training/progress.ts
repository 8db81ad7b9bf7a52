import type { ErrorCode, FederationState, RoundState } from '@twinfed/shared';
import type { DecidedBy } from '../governance/decisions';

/** Why the runner did not train in a round it saw. */
export type SkipReason =
  | 'not-selected'
  | 'already-submitted'
  | 'round-closed'
  | 'wrong-base-version'
  | 'model-rejected'
  | 'update-conflict'
  | 'secagg-refused';

/**
 * What a {@link SiteRunner} reports as it works (discriminated by `type`). Nothing here ever carries
 * weights, keys, tokens or patient rows: counts and aggregate metrics only.
 */
export type RunnerProgress =
  | {
      /** The plan passed this site's gate: approved for this hash, by a person (`by` = the name) or by its policy. */
      type: 'plan';
      federationId: string;
      planSha256: string;
      decidedBy: DecidedBy;
      by: string;
      at: string;
    }
  | { type: 'started'; federationId: string; siteId: string; trainRows: number; testRows: number }
  | { type: 'connection'; connected: boolean; reason?: string }
  | { type: 'round'; federationId: string; round: number; state: RoundState; selected: boolean; submitted: boolean }
  | { type: 'dataset'; round: number | null; trainRows: number; testRows: number }
  | { type: 'stats'; state: 'waiting' | 'ready'; contributed?: number; cohort: number }
  | {
      type: 'recalibration';
      state: 'waiting' | 'open' | 'fitted' | 'expired' | 'failed';
      contributed: number;
      cohort: number;
      versionId?: string;
      reason?: string;
    }
  | { type: 'baseline'; state: 'collecting' | 'published' | 'failed'; contributed: number; cohort: number }
  | { type: 'training'; round: number; baseVersionId: string }
  | { type: 'trained'; round: number; numExamples: number; steps: number; loss: number; durationMs: number }
  | { type: 'uploaded'; round: number; status: 'accepted' | 'duplicate'; digest: string }
  | { type: 'skipped'; round: number; reason: SkipReason; message?: string }
  | { type: 'model-rejected'; versionId: string; code: ErrorCode; message: string }
  | { type: 'evaluated'; versionId: string; round: number; n: number; metrics: Record<string, number> }
  | { type: 'scored'; versionId: string; twins: number; byTier: Record<string, number> }
  | {
      type: 'population';
      versionId: string;
      status: 'sent' | 'already-sent' | 'skipped' | 'refused';
      reason?: string;
      suppressedCells?: number;
    }
  | {
      /** The cross-site evaluation at the end of the federation: what this site did in it. */
      type: 'cross-site';
      step: 'sealed' | 'refused' | 'reported' | 'withheld' | 'not-asked';
      /** `sealed`: the sites the local model was sealed to; `reported`: the models evaluated (global and local). */
      count?: number;
      /** `reported`: this site's test rows. */
      n?: number;
    }
  | { type: 'warning'; message: string; code?: ErrorCode }
  | { type: 'ended'; federationId: string; state: Exclude<FederationState, 'running'> };

/** Listener of runner progress. */
export type ProgressListener = (event: RunnerProgress) => void;

/** What {@link SiteRunner.run} resolves with. */
export interface RunSummary {
  readonly federationId: string;
  readonly state: Exclude<FederationState, 'running'>;
  /** Rounds this process uploaded an update for (acknowledged). */
  readonly roundsUploaded: readonly number[];
  /** Versions this process evaluated and reported. */
  readonly versionsEvaluated: readonly string[];
}
