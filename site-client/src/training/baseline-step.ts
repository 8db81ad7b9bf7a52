import {
  TwinfedError,
  assertStatsCohort,
  baselineContext,
  baselineGrid,
  baselineVector,
  isCoxModel,
  type BaselineSession,
  type CurrentRound,
  type Plan,
  type WeightSet,
} from '@twinfed/shared';
import { SecureSumStep, type SecureSumStepContext, contributeMasked, secureSumCalls } from './secure-sum-step';

const BASELINE_CALLS = { session: 'baselineSession', contribute: 'contributeBaseline' };

/** Whether the federation is in its baseline phase: a Cox plan, still running, its last round published. */
export function inBaselinePhase(plan: Plan, current: CurrentRound): boolean {
  return (
    isCoxModel(plan.model) &&
    current.federation.state === 'running' &&
    current.round !== null &&
    current.round.state === 'published' &&
    current.round.round >= plan.rounds
  );
}

/**
 * The site's step of a Cox federation's federated Breslow baseline (shared/src/cox-baseline.ts; coordinator
 * rounds/baseline.ts): once the last round is published, reads the baseline session; if this site is in the cohort
 * and has not contributed, computes with the final version (verified against the pinned key) the risk scores of its
 * training rows, the event counts and risk-set sums on the plan's grid, masks them with pairwise masks agreed with
 * every other member (keys only from the coordinator-signed directory, pinned), records the masked bytes and posts them.
 * Only masked vectors leave the site; a restart re-sends the very bytes recorded. Reports each change once.
 */
export class BaselineStep extends SecureSumStep {
  async run(
    opts: SecureSumStepContext & {
      /** The verified weights of a version (the final one). */
      weightsOf: (versionId: string) => Promise<WeightSet>;
      riskScores: (
        weights: WeightSet,
      ) => Promise<{ eta: ArrayLike<number>; time: ArrayLike<number>; event: ArrayLike<number> }>;
    },
  ): Promise<void> {
    const { federationId, enrollment, journal, plan, signal } = opts;
    const api = secureSumCalls<BaselineSession>(opts.api, BASELINE_CALLS);
    if (!api || !isCoxModel(plan.model)) return;
    const session = await api.session(federationId, signal);
    const { versionId } = session;
    const grid = baselineGrid(plan.model);
    const ack =
      session.state === 'collecting' &&
      (await contributeMasked({
        session,
        enrollment,
        journal,
        check: () => {
          assertStatsCohort(session.cohort.length, plan.minSites);
          if (grid.length !== session.grid.length || grid.some((t, i) => t !== session.grid[i]))
            throw new TwinfedError('CONFIG_INVALID', "The coordinator's baseline grid is not the plan's.");
        },
        slot: {
          recorded: () => journal.baselineContribution(federationId, versionId),
          record: (masked) => journal.recordBaselineContribution(federationId, versionId, masked),
        },
        context: baselineContext(federationId, versionId),
        values: async () => baselineVector(await opts.riskScores(await opts.weightsOf(versionId)), grid),
        send: (masked) => api.contribute(federationId, masked, signal),
      }));
    const contributed = ack ? ack.contributed : session.contributed.length;
    this.report({ type: 'baseline', state: session.state, contributed, cohort: session.cohort.length });
  }
}
