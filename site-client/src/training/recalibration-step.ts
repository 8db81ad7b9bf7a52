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
  recalibrationContext,
  recalibrationStatsLength,
  type RecalibrationSession,
} from '@twinfed/shared';
import type { FederationSession } from './federation-session';
import type { RoundWorker } from './round-worker';
import { SecureSumStep, type SecureSumStepContext, contributeMasked, secureSumCalls } from './secure-sum-step';

const RECALIBRATION_CALLS = { session: 'recalibrationSession', contribute: 'contributeRecalibration' };

/** Where the recalibration stands for the runner: keep waiting, or settled (with the recalibrated version, if any). */
type StepResult = { settled: false } | { settled: true; versionId: string | null };

/** Runs at each wake-up of a completed federation until the recalibration settles; reports each change once. */
export class RecalibrationStep extends SecureSumStep {
  async run(
    opts: SecureSumStepContext & {
      session: FederationSession;
      worker: RoundWorker;
    },
  ): Promise<StepResult> {
    const { federationId, enrollment, journal, plan, signal } = opts;
    const api = secureSumCalls<RecalibrationSession>(opts.api, RECALIBRATION_CALLS);
    if (!plan.recalibration || !api) return { settled: true, versionId: null };
    let s = await api.session(federationId, signal);
    const ack =
      s.state === 'open' &&
      (await contributeMasked({
        session: s,
        enrollment,
        journal,
        check: () => {
          assertStatsCohort(s.cohort.length, plan.minSites);
          if (s.length !== recalibrationStatsLength())
            throw new TwinfedError(
              'CONFIG_INVALID',
              `The coordinator expects ${s.length} recalibration values; this site's grid has ${recalibrationStatsLength()}.`,
            );
        },
        slot: {
          recorded: () => journal.recalibrationContribution(federationId),
          record: (masked) => journal.recordRecalibrationContribution(federationId, masked),
        },
        context: recalibrationContext(federationId, s.baseVersionId!),
        values: async () => {
          const model = await opts.worker.verifiedModel(s.baseVersionId!);
          const test = opts.session.dataset.test;
          const logits = await modelOutputs({ spec: plan.model, weights: model.weights, x: test.x, n: test.n });
          return logitHistogram(logits, test.y);
        },
        send: (masked) => api.contribute(federationId, masked, signal),
      }));
    if (ack) s = await api.session(federationId, signal);
    this.report({
      type: 'recalibration',
      state: s.state,
      contributed: s.contributed.length,
      cohort: s.cohort.length,
      ...(s.versionId ? { versionId: s.versionId } : {}),
      ...(s.reason ? { reason: s.reason } : {}),
    });
    if (s.state === 'fitted') return { settled: true, versionId: s.versionId };
    if (s.state === 'expired' || s.state === 'failed') return { settled: true, versionId: null };
    return { settled: false };
  }
}
