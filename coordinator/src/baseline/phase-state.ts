/**
 * Where a Cox federation's federated Breslow baseline stands (shared/src/cox-baseline.ts), derived from the store
 * alone so every coordinator process and every restart sees the same: the final version (the last published round's),
 * the cohort (the sites that contributed to it, not revoked since), the public grid, the deadline (the final version's
 * time + the plan's round deadline) and the masked contributions of the cohort.
 */
import {
  PlanSchema,
  TwinfedError,
  assertStatsCohort,
  baselineGrid,
  baselineVectorLength,
  isCoxModel,
  type CoxModelSpec,
  type Plan,
} from '@twinfed/shared';
import { collectSum, deadlineAfter, type CollectedSum } from '../secure-sum/session';
import type { Federation, ModelVersion, Store } from '../store';

/** A Cox federation whose rounds are all published: its baseline phase. */
export interface BaselinePhase {
  federation: Federation;
  plan: Plan & { model: CoxModelSpec };
  /** The last round's version: the model whose risk scores are summed. */
  finalVersion: ModelVersion;
  /** The signed baseline version, once published. */
  baselineVersion: ModelVersion | null;
  grid: number[];
  deadlineAt: number;
  /** The cohort (the sites that contributed to the final version, not revoked since) and its masked vectors. */
  sum: CollectedSum;
  /** Why no baseline can be computed at all (DP plan, too small a cohort), or null. */
  impossible: string | null;
}

/** Whether the plan of a federation asks for a baseline (a Cox model). */
export function wantsBaseline(plan: Plan): plan is Plan & { model: CoxModelSpec } {
  return isCoxModel(plan.model);
}

/** The version id of a federation's baseline version: its final version's, suffixed. */
function baselineVersionId(finalVersionId: string): string {
  return `${finalVersionId}.baseline`;
}

/**
 * The baseline phase of a federation, or null when it has none yet (not a Cox plan, or rounds still to publish).
 * Throws UNKNOWN_FEDERATION.
 */
export async function baselinePhase(store: Store, federationId: string): Promise<BaselinePhase | null> {
  const federation = await store.getFederation(federationId);
  if (!federation) throw new TwinfedError('UNKNOWN_FEDERATION');
  const plan = PlanSchema.parse(federation.plan);
  if (!wantsBaseline(plan)) return null;
  const rounds = (await store.listRounds(federationId)).filter((r) => r.state === 'published' && r.versionId);
  if (rounds.length < plan.rounds) return null;
  const finalVersion = await store.getVersion(rounds[rounds.length - 1]!.versionId!);
  if (!finalVersion) return null;
  const baselineVersion = await store.getVersion(baselineVersionId(finalVersion.id));
  const contributors = new Set(
    ((finalVersion.meta.contributors as Array<{ siteId: string }> | undefined) ?? []).map((c) => c.siteId),
  );
  const cohort = (await store.listSites())
    .filter((s) => contributors.has(s.id) && s.revokedAt === null)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const grid = baselineGrid(plan.model);
  return {
    federation,
    plan,
    finalVersion,
    baselineVersion,
    grid,
    deadlineAt: deadlineAfter(finalVersion, plan.roundDeadlineSeconds),
    sum: await collectSum(store, 'baseline', federationId, cohort, baselineVectorLength(grid)),
    impossible: impossibility(plan, cohort.length),
  };
}

function impossibility(plan: Plan, cohort: number): string | null {
  if (plan.privacy.dp)
    return 'the plan uses differential privacy, which does not cover the exact event counts a baseline releases';
  try {
    assertStatsCohort(cohort, plan.minSites);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
