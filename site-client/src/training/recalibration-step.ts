/**
 * The site's part of federated recalibration (plan option `recalibration`; coordinator recalibration/session.ts): once
 * the federation completed, it bins the final version's log-odds on its held-out rows by label (`logitHistogram`),
 * masks the histogram for the cohort's secure sum (peers' keys only from the coordinator-signed directory, pinned),
 * records the masked bytes and sends them — re-sending the very same bytes on any retry, never a second masking — then
 * waits until the recalibrated version is out (the runner evaluates it like any version), or the recalibration
 * expired or failed. Only the sum of the cohort's histograms is ever readable by the coordinator.
 */
import { modelOutputs } from '@twinfed/models';
import {
  TwinfedError,
  assertStatsCohort,
  logitHistogram,
  maskContribution,
  recalibrationContext,
  recalibrationStatsLength,
  toB64,
  type Plan,
  type RecalibrationSession,
  type StatsAck,
  type StatsContribution,
} from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import type { SiteApi } from '../transport/coordinator-client';
import type { FederationSession } from './federation-session';
import type { Journal } from './journal';
import { trustedPeers } from './peer-directory';
import type { RunnerProgress } from './progress';
import type { RoundWorker } from './round-worker';

/** The two coordinator calls of the recalibration (implemented by `CoordinatorClient`). */
interface RecalibrationApi {
  recalibrationSession(federationId: string, options?: { signal?: AbortSignal }): Promise<RecalibrationSession>;
  contributeRecalibration(opts: {
    federationId: string;
    contribution: StatsContribution;
    signal?: AbortSignal;
  }): Promise<StatsAck>;
}

function hasRecalibrationApi<T extends object>(api: T): api is T & RecalibrationApi {
  const a = api as Partial<RecalibrationApi>;
  return typeof a.recalibrationSession === 'function' && typeof a.contributeRecalibration === 'function';
}

/** Where the recalibration stands for the runner: keep waiting, or settled (with the recalibrated version, if any). */
type StepResult = { settled: false } | { settled: true; versionId: string | null };

/** Runs at each wake-up of a completed federation until the recalibration settles; reports each change once. */
export class RecalibrationStep {
  private last = '';

  constructor(private readonly emit: (event: RunnerProgress) => void) {}

  async run(opts: {
    api: SiteApi;
    federationId: string;
    enrollment: Enrollment;
    journal: Journal;
    plan: Plan;
    session: FederationSession;
    worker: RoundWorker;
    signal: AbortSignal;
  }): Promise<StepResult> {
    const { api, federationId, enrollment, journal, plan, signal } = opts;
    if (!plan.recalibration || !hasRecalibrationApi(api)) return { settled: true, versionId: null };
    let s = await api.recalibrationSession(federationId, { signal });
    const siteId = enrollment.state.siteId;
    if (s.state === 'open' && s.cohort.some((m) => m.siteId === siteId) && !s.contributed.includes(siteId)) {
      assertStatsCohort(s.cohort.length, plan.minSites);
      if (s.length !== recalibrationStatsLength())
        throw new TwinfedError(
          'CONFIG_INVALID',
          `The coordinator expects ${s.length} recalibration values; this site's grid has ${recalibrationStatsLength()}.`,
        );
      let masked = journal.recalibrationContribution(federationId);
      if (masked === undefined) {
        const peers = trustedPeers({ members: s.cohort, enrollment, journal });
        const model = await opts.worker.verifiedModel(s.baseVersionId!);
        const test = opts.session.dataset.test;
        const logits = await modelOutputs({ spec: plan.model, weights: model.weights, x: test.x, n: test.n });
        masked = toB64(
          maskContribution({
            values: logitHistogram(logits, test.y),
            siteId,
            boxSecretKey: enrollment.identity.box.secretKey,
            cohort: [...peers.values()].map((p) => ({ siteId: p.siteId, boxPublicKey: p.boxPublicKey })),
            context: recalibrationContext(federationId, s.baseVersionId!),
            fractionBits: s.fractionBits,
          }),
        );
        journal.recordRecalibrationContribution(federationId, masked);
      }
      await api.contributeRecalibration({ federationId, contribution: { masked }, signal });
      s = await api.recalibrationSession(federationId, { signal });
    }
    this.report(s);
    if (s.state === 'fitted') return { settled: true, versionId: s.versionId };
    if (s.state === 'expired' || s.state === 'failed') return { settled: true, versionId: null };
    return { settled: false };
  }

  private report(s: RecalibrationSession): void {
    const event: RunnerProgress = {
      type: 'recalibration',
      state: s.state,
      contributed: s.contributed.length,
      cohort: s.cohort.length,
      ...(s.versionId ? { versionId: s.versionId } : {}),
      ...(s.reason ? { reason: s.reason } : {}),
    };
    const key = JSON.stringify(event);
    if (key === this.last) return;
    this.last = key;
    this.emit(event);
  }
}
