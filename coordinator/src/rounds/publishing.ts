import {
  dpMechanism,
  initialWeights,
  layoutOf,
  type CoxBaseline,
  type DpMechanism,
  type ModelVersionMeta,
  type Plan,
} from '@twinfed/shared';
import type { ModelVersion, Round } from '../store';
import { buildVersion, type BuiltVersion } from '../registry/registry';
import { auditHeadSigner } from '../audit/head-signer';
import { dpEpsilonAfter, type EngineCore, type Loaded } from './core';
import { releasedRoundFacts } from './dp-release';

/** A signed version ready to publish, with the strategy state that goes with it. */
export type Aggregated = BuiltVersion & { strategyState: Uint8Array; data: Float32Array };

/** What a closed round yields, plain or secure: the new weights, the strategy state and what the version tells of the round. */
interface RoundOutcome {
  weights: Float32Array;
  strategyState: Uint8Array;
  metrics: Record<string, number>;
  contributors: ReadonlyArray<{ siteId: string; numExamples?: number }>;
}

/**
 * Signing and publishing model versions: the initial version of a federation and the version of each closed round
 * (one way for plain and secure rounds alike). Each publish is one store transaction with its audit entry.
 */
export class Publishing {
  constructor(private readonly core: EngineCore) {}

  /** Publishes the signed initial version (round 0) of a federation that has none. */
  async publishInitial(loaded: Loaded): Promise<void> {
    const { federation, plan, strategy } = loaded;
    const weights = initialWeights(plan.model, plan.seed);
    const built = buildVersion(
      {
        federationId: federation.id,
        parentVersionId: null,
        round: 0,
        strategy: plan.strategy.name,
        weights,
        contributors: [],
        metrics: {},
        ...dpFields(plan, 0),
        plan,
        createdAt: this.core.iso(),
      },
      this.core.deps.identity,
    );
    await this.core.store.publishVersion({
      version: built.version,
      weights: built.weights,
      strategyState: strategy.encodeState(strategy.initialState(weights.data.length)),
      federationPatch: { latestVersionId: built.version.id },
      ...this.publishAudit(built),
      fence: this.core.fence(federation.id),
    });
  }

  /**
   * The signed version of a round, plain or secure: its lineage, weights and plan, and of the round's metrics and
   * contributors what the plan lets it release (`releasedRoundFacts`); a DP federation's version counts one more release
   * than its base version and carries the ε spent.
   */
  async buildPublishedVersion(loaded: Loaded, round: Round, outcome: RoundOutcome): Promise<Aggregated> {
    const { federation, plan } = loaded;
    // Every published round of a DP federation is one more release (Gaussian, or Skellam under secure aggregation).
    const releases = plan.privacy.dp ? (await this.dpRoundsOf(round.baseVersionId)) + 1 : 0;
    const dp = dpFields(plan, releases);
    const released = releasedRoundFacts(plan, {
      metrics: { ...outcome.metrics, ...(dp.dpEpsilon === undefined ? {} : { dpRounds: releases }) },
      contributors: outcome.contributors,
    });
    const built = buildVersion(
      {
        federationId: federation.id,
        parentVersionId: round.baseVersionId,
        round: round.round,
        strategy: plan.strategy.name,
        weights: { layout: layoutOf(plan.model), data: outcome.weights },
        ...released,
        ...dp,
        plan,
        createdAt: this.core.iso(),
      },
      this.core.deps.identity,
    );
    return { ...built, strategyState: outcome.strategyState, data: outcome.weights };
  }

  /** One transaction: version + weights + strategy state + round CAS aggregating → published + federation head. */
  async publish(loaded: Loaded, round: Round, built: Aggregated): Promise<void> {
    const { core } = this;
    const federationId = loaded.federation.id;
    const published = await core.store.publishVersion({
      version: built.version,
      weights: built.weights,
      strategyState: built.strategyState,
      round: { federationId, round: round.round, from: ['aggregating'] },
      federationPatch: { latestVersionId: built.version.id, updatedAt: built.version.createdAt },
      ...this.publishAudit(built),
      fence: core.fence(federationId),
    });
    if (!published) return;
    core.crash('version.published');
    core.remember(built.version.id, { layout: layoutOf(loaded.plan.model), data: built.data });
    core.metrics.round('published', (Date.parse(built.version.createdAt) - Date.parse(round.openedAt)) / 1000);
    core.logger.info(
      {
        federationId,
        round: round.round,
        versionId: built.version.id,
        contributors: (built.version.meta.contributors as unknown[]).length,
      },
      'model version published',
    );
    core.events.modelPublished({ federationId, round: round.round, versionId: built.version.id });
  }

  /**
   * Publishes a Cox federation's baseline version: the final version's weights, lineage, contributors and metrics
   * with the federated baseline signed in (parent: the final version), and makes it the federation's head.
   */
  async publishBaseline(loaded: Loaded, finalVersion: ModelVersion, coxBaseline: CoxBaseline): Promise<string> {
    const { core } = this;
    const { federation, plan } = loaded;
    const meta = finalVersion.meta as unknown as ModelVersionMeta;
    const built = buildVersion(
      {
        federationId: federation.id,
        parentVersionId: finalVersion.id,
        round: finalVersion.round,
        strategy: meta.strategy,
        weights: await core.global(finalVersion.id),
        contributors: 'contributors' in meta ? meta.contributors : [],
        metrics: meta.metrics,
        plan,
        coxBaseline,
        createdAt: core.iso(),
      },
      core.deps.identity,
    );
    await core.store.publishVersion({
      version: built.version,
      weights: built.weights,
      federationPatch: { latestVersionId: built.version.id, updatedAt: built.version.createdAt },
      ...this.publishAudit(built),
      fence: core.fence(federation.id),
    });
    core.logger.info(
      {
        federationId: federation.id,
        versionId: built.version.id,
        sites: coxBaseline.sites,
        events: coxBaseline.events,
      },
      'federated baseline published',
    );
    core.events.modelPublished({ federationId: federation.id, round: finalVersion.round, versionId: built.version.id });
    return built.version.id;
  }

  /** The DP releases behind a version (its signed `metrics.dpRounds`; 0 for the initial version). */
  private async dpRoundsOf(versionId: string): Promise<number> {
    const version = await this.core.store.getVersion(versionId);
    const n = (version?.meta.metrics as Record<string, unknown> | undefined)?.dpRounds;
    return typeof n === 'number' ? n : 0;
  }

  /** The audit entry of a version publish and the signer of the chain head it ends (both inside the publish transaction). */
  private publishAudit(built: BuiltVersion) {
    const v = built.version;
    const contributors = (v.meta.contributors as Array<{ siteId: string; numExamples: number }> | undefined) ?? [];
    return {
      audit: {
        at: v.createdAt,
        actor: 'system',
        action: 'version.publish',
        subject: v.id,
        detail: {
          federationId: v.federationId,
          round: v.round,
          parentVersionId: v.parentVersionId,
          weightsSha256: v.weightsSha256,
          contributors: contributors.map((c) => c.siteId),
        },
      },
      signAuditHead: auditHeadSigner(this.core.deps.identity),
    };
  }
}

/** `dpEpsilon` and `dpMechanism` for a version after `releases` DP releases, or nothing for a federation without DP. */
function dpFields(plan: Plan, releases: number): { dpEpsilon?: number; dpMechanism?: DpMechanism } {
  const eps = dpEpsilonAfter(plan, releases);
  const mechanism = dpMechanism(plan);
  return eps === undefined || mechanism === null ? {} : { dpEpsilon: eps, dpMechanism: mechanism };
}
