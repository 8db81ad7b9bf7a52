import { baselineEvents, baselineFromSums, type CoxBaseline } from '@twinfed/shared';
import { baselinePhase, type BaselinePhase } from '../baseline/phase-state';
import type { EngineCore, Loaded } from './core';
import type { Publishing } from './publishing';

/**
 * The last step of a Cox federation, after its last round is published: the federated Breslow baseline through the
 * secure sum (shared/src/cox-baseline.ts; site side site-client/src/training/baseline-step.ts). Runs inside the
 * federation's serial section whenever the federation would otherwise end (openNext), i.e. after the last round,
 * after each contribution, at the deadline and on resume. Publishes the signed baseline version once every cohort
 * member contributed; ends the federation `completed` without a baseline (warned and audited) when that cannot happen:
 * the deadline passed with a member missing, the cohort is under max(3, minSites), or the plan uses DP.
 */
export class BaselineFinish {
  constructor(
    private readonly o: {
      core: EngineCore;
      publishing: Publishing;
      /** Runs `fn` in the federation's serial section after `delayMs` (the federation's one timer). */
      after: (federationId: string, delayMs: number, fn: () => Promise<void>) => void;
      /** Continues the federation (openNext): called again at the deadline. */
      again: (federationId: string) => Promise<void>;
      end: (federationId: string) => Promise<void>;
    },
  ) {}

  /** Handles a federation whose rounds are done: true when it is a Cox federation (ended or waiting), else false. */
  async step(loaded: Loaded): Promise<boolean> {
    const { core } = this.o;
    const federationId = loaded.federation.id;
    const phase = await baselinePhase(core.store, federationId);
    if (!phase) return false;
    if (phase.baselineVersion) {
      await this.o.end(federationId);
      return true;
    }
    if (phase.impossible !== null) {
      await this.fail(phase, `no federated baseline: ${phase.impossible}`);
      return true;
    }
    const { sum } = phase;
    if (sum.complete) {
      await this.o.publishing.publishBaseline(loaded, phase.finalVersion, this.compute(phase));
      await this.o.end(federationId);
      return true;
    }
    const left = phase.deadlineAt - core.now();
    if (left <= 0) {
      const missing = sum.cohort.length - sum.contributions.length;
      await this.fail(phase, `no federated baseline: ${missing} site(s) did not contribute before the deadline`);
      return true;
    }
    core.logger.info(
      { federationId, contributed: sum.contributions.length, cohort: sum.cohort.length },
      'waiting for the federated baseline',
    );
    this.o.after(federationId, left, () => this.o.again(federationId));
    return true;
  }

  private compute(phase: BaselinePhase): CoxBaseline {
    const sum = phase.sum.decoded();
    const b = baselineFromSums(sum, phase.grid);
    return {
      etaVersionId: phase.finalVersion.id,
      times: [...b.times],
      cumulativeHazard: [...b.cumulativeHazard],
      sites: phase.sum.cohort.length,
      events: baselineEvents(sum, phase.grid),
    };
  }

  private async fail(phase: BaselinePhase, reason: string): Promise<void> {
    const { core } = this.o;
    const federationId = phase.federation.id;
    core.logger.warn({ federationId, versionId: phase.finalVersion.id }, reason);
    await core.store.appendAudit({
      at: core.iso(),
      actor: 'system',
      action: 'baseline.failed',
      subject: federationId,
      detail: {
        versionId: phase.finalVersion.id,
        reason,
        contributed: phase.sum.contributions.length,
        cohort: phase.sum.cohort.length,
      },
    });
    await this.o.end(federationId);
  }
}
