import {
  TwinfedError,
  assertStatsCohort,
  baselineContext,
  baselineGrid,
  baselineVector,
  isCoxModel,
  maskContribution,
  toB64,
  type BaselineSession,
  type CurrentRound,
  type Plan,
  type StatsAck,
  type StatsContribution,
  type WeightSet,
} from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import type { SiteApi } from '../transport/coordinator-client';
import type { Journal } from './journal';
import { trustedPeers } from './peer-directory';
import type { RunnerProgress } from './progress';

/** The two coordinator calls of the baseline secure sum (implemented by `CoordinatorClient`). */
interface BaselineApi {
  baselineSession(federationId: string, options?: { signal?: AbortSignal }): Promise<BaselineSession>;
  contributeBaseline(opts: {
    federationId: string;
    contribution: StatsContribution;
    signal?: AbortSignal;
  }): Promise<StatsAck>;
}

function hasBaselineApi<T extends object>(api: T): api is T & BaselineApi {
  const a = api as Partial<BaselineApi>;
  return typeof a.baselineSession === 'function' && typeof a.contributeBaseline === 'function';
}

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
export class BaselineStep {
  private last = '';

  constructor(private readonly emit: (event: RunnerProgress) => void) {}

  async run(opts: {
    api: SiteApi;
    federationId: string;
    enrollment: Enrollment;
    journal: Journal;
    plan: Plan;
    /** The verified weights of a version (the final one). */
    weightsOf: (versionId: string) => Promise<WeightSet>;
    riskScores: (
      weights: WeightSet,
    ) => Promise<{ eta: ArrayLike<number>; time: ArrayLike<number>; event: ArrayLike<number> }>;
    signal: AbortSignal;
  }): Promise<void> {
    const { api, federationId, enrollment, journal, plan, signal } = opts;
    if (!hasBaselineApi(api) || !isCoxModel(plan.model)) return;
    const siteId = enrollment.state.siteId;
    const session = await api.baselineSession(federationId, { signal });
    let contributed = session.contributed.length;
    if (
      session.state === 'collecting' &&
      session.cohort.some((m) => m.siteId === siteId) &&
      !session.contributed.includes(siteId)
    ) {
      assertStatsCohort(session.cohort.length, plan.minSites);
      const grid = baselineGrid(plan.model);
      if (grid.length !== session.grid.length || grid.some((t, i) => t !== session.grid[i]))
        throw new TwinfedError('CONFIG_INVALID', "The coordinator's baseline grid is not the plan's.");
      let masked = journal.baselineContribution(federationId, session.versionId);
      if (masked === undefined) {
        const peers = trustedPeers({ members: session.cohort, enrollment, journal });
        const rows = await opts.riskScores(await opts.weightsOf(session.versionId));
        masked = toB64(
          maskContribution({
            values: baselineVector(rows, grid),
            siteId,
            boxSecretKey: enrollment.identity.box.secretKey,
            cohort: [...peers.values()].map((p) => ({ siteId: p.siteId, boxPublicKey: p.boxPublicKey })),
            context: baselineContext(federationId, session.versionId),
            fractionBits: session.fractionBits,
          }),
        );
        journal.recordBaselineContribution(federationId, session.versionId, masked);
      }
      const ack = await api.contributeBaseline({ federationId, contribution: { masked }, signal });
      contributed = ack.contributed;
    }
    const event: RunnerProgress = {
      type: 'baseline',
      state: session.state,
      contributed,
      cohort: session.cohort.length,
    };
    const key = JSON.stringify(event);
    if (key !== this.last) {
      this.last = key;
      this.emit(event);
    }
  }
}
