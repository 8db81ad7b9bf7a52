/**
 * Federated recalibration (plan option `recalibration`): after the last round, every cohort member sends its masked
 * histogram of the final version's held-out log-odds (shared `logitHistogram`, one secure sum); once every member has,
 * the coordinator decodes the sum, fits Platt or temperature scaling (`fitRecalibration`) and signs a recalibrated
 * version: the final weights with the fitted parameters, published as the federation's head. The state is derived
 * from the store and the clock at every read, so a silent site costs only the deadline (no timer, any replica).
 */
import {
  PlanSchema,
  SECURE_SUM_FRACTION_BITS,
  TwinfedError,
  assertStatsCohort,
  fitRecalibration,
  isTwinfedError,
  layoutOf,
  recalibrationStatsLength,
  ringFromBytes,
  deserializeWeights,
  type Identity,
  type Logger,
  type RecalibrationSession,
  type StatsAck,
} from '@twinfed/shared';
import { auditHeadSigner } from '../audit/head-signer';
import { buildVersion } from '../registry/registry';
import type { SiteDirectory } from '../registry/site-directory';
import type { ModelVersion, Store } from '../store';
import { assertMember, collectSum, deadlineAfter, storeContribution } from '../secure-sum/session';
import { statsCohort } from '../stats/session';

/** What the recalibration needs of the coordinator. */
export interface RecalibrationDeps {
  store: Store;
  directory: SiteDirectory;
  identity: Identity;
  logger: Logger;
  now: () => number;
  /** Tells the sites a recalibrated version is out (`model:published`). */
  announce: (e: { federationId: string; round: number; versionId: string }) => void;
}

const isRecalibrated = (v: ModelVersion): boolean => v.meta.recalibration !== undefined;

async function load(deps: RecalibrationDeps, federationId: string) {
  const federation = await deps.store.getFederation(federationId);
  if (!federation) throw new TwinfedError('UNKNOWN_FEDERATION');
  const plan = PlanSchema.parse(federation.plan);
  if (!plan.recalibration)
    throw new TwinfedError(
      'BAD_REQUEST',
      'This federation does not recalibrate its model (plan option recalibration).',
    );
  const versions = await deps.store.listVersions({ federationId });
  const cohort = statsCohort(federation, await deps.store.listSites());
  // The final version: the newest version of a round (the recalibrated one, once out, is not).
  const base = federation.state === 'completed' ? (versions.filter((v) => !isRecalibrated(v)).at(-1) ?? null) : null;
  const deadlineAt = base ? new Date(deadlineAfter(base, plan.recalibration.deadlineSeconds)).toISOString() : null;
  return {
    federation,
    plan,
    recalibration: plan.recalibration,
    sum: await collectSum(deps.store, 'recalibration', federationId, cohort, recalibrationStatsLength()),
    base,
    deadlineAt,
    fitted: versions.find(isRecalibrated) ?? null,
  };
}

type Loaded = Awaited<ReturnType<typeof load>>;

function cohortProblem(l: Loaded): string | null {
  try {
    assertStatsCohort(l.sum.cohort.length, l.plan.minSites);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * Fits the completed sum and publishes the recalibrated version (once: a concurrent publish of the same version is
 * ALREADY_EXISTS and changes nothing). Returns the version, or the reason the fit failed.
 */
async function fitAndPublish(deps: RecalibrationDeps, l: Loaded): Promise<ModelVersion | string> {
  const base = l.base!;
  let fit;
  try {
    fit = fitRecalibration(l.sum.decoded(), l.recalibration.method);
  } catch (e) {
    if (isTwinfedError(e) && e.code === 'RECALIBRATION_UNFIT') return e.message;
    throw e;
  }
  const bytes = await deps.store.getVersionWeights(base.id);
  if (!bytes) throw new TwinfedError('UNKNOWN_MODEL_VERSION');
  const weights = deserializeWeights(bytes, { expectedLayout: layoutOf(l.plan.model) });
  const built = buildVersion(
    {
      federationId: l.federation.id,
      parentVersionId: base.id,
      round: base.round,
      strategy: l.plan.strategy.name,
      weights,
      contributors: l.sum.contributed.map((siteId) => ({ siteId })),
      metrics: {},
      ...(base.meta.dpEpsilon === undefined ? {} : { dpEpsilon: base.meta.dpEpsilon as number }),
      ...(base.meta.dpMechanism === undefined ? {} : { dpMechanism: base.meta.dpMechanism as 'gaussian' | 'skellam' }),
      plan: l.plan,
      recalibration: { method: fit.method, a: fit.a, b: fit.b, baseVersionId: base.id, rows: fit.rows },
      createdAt: new Date(deps.now()).toISOString(),
    },
    deps.identity,
  );
  try {
    await deps.store.publishVersion({
      version: built.version,
      weights: built.weights,
      federationPatch: { latestVersionId: built.version.id },
      audit: {
        at: built.version.createdAt,
        actor: 'system',
        action: 'version.publish',
        subject: built.version.id,
        detail: {
          federationId: l.federation.id,
          round: base.round,
          parentVersionId: base.id,
          weightsSha256: built.version.weightsSha256,
          recalibration: { method: fit.method, a: fit.a, b: fit.b, rows: fit.rows },
        },
      },
      signAuditHead: auditHeadSigner(deps.identity),
    });
  } catch (e) {
    if (isTwinfedError(e) && e.code === 'ALREADY_EXISTS') return (await deps.store.getVersion(built.version.id))!;
    throw e;
  }
  deps.logger.info(
    { federationId: l.federation.id, versionId: built.version.id, method: fit.method, a: fit.a, b: fit.b },
    'recalibrated version published',
  );
  deps.announce({ federationId: l.federation.id, round: base.round, versionId: built.version.id });
  return built.version;
}

/**
 * The recalibration of a federation as sites and readers see it; fits and publishes the recalibrated version when the
 * sum is complete and it is not out yet (after a crash between the last histogram and the publication, the next read
 * does it). Throws UNKNOWN_FEDERATION, or BAD_REQUEST when the plan does not recalibrate.
 */
export async function recalibrationSession(
  deps: RecalibrationDeps,
  federationId: string,
): Promise<RecalibrationSession> {
  const l = await load(deps, federationId);
  const view = (
    state: RecalibrationSession['state'],
    extra: Partial<Pick<RecalibrationSession, 'versionId' | 'params' | 'reason'>> = {},
  ): RecalibrationSession => ({
    federationId,
    method: l.recalibration.method,
    state,
    baseVersionId: l.base?.id ?? null,
    deadlineAt: l.deadlineAt,
    length: recalibrationStatsLength(),
    fractionBits: SECURE_SUM_FRACTION_BITS,
    cohort: l.sum.cohort.map((m) => deps.directory.entry(m)),
    contributed: l.sum.contributed,
    versionId: null,
    params: null,
    reason: null,
    ...extra,
  });
  const fittedView = (v: ModelVersion) =>
    view('fitted', { versionId: v.id, params: v.meta.recalibration as RecalibrationSession['params'] });
  if (l.fitted) return fittedView(l.fitted);
  if (l.federation.state === 'running') return view('waiting');
  if (!l.base)
    return view('failed', {
      reason: `The federation ended ${l.federation.state}: there is no final version to recalibrate.`,
    });
  const problem = cohortProblem(l);
  if (problem) return view('failed', { reason: problem });
  if (l.sum.complete) {
    const out = await fitAndPublish(deps, l);
    return typeof out === 'string' ? view('failed', { reason: out }) : fittedView(out);
  }
  if (deps.now() > Date.parse(l.deadlineAt!))
    return view('expired', {
      reason: `${l.sum.contributions.length} of ${l.sum.cohort.length} sites sent their histograms by the deadline; the final version stays as it is.`,
    });
  return view('open');
}

/**
 * Stores a cohort member's masked histogram once (the same bytes again are a duplicate) while the recalibration is
 * open; the last one completes the sum, and the recalibrated version is fitted and published at once. Throws
 * RECALIBRATION_CLOSED unless the federation completed and the deadline has not passed (or the version is out), FORBIDDEN
 * outside the cohort, SECAGG_COHORT_TOO_SMALL, VALIDATION_FAILED for a vector of the wrong length, ALREADY_EXISTS when
 * different bytes are stored.
 */
export async function contributeRecalibration(
  deps: RecalibrationDeps,
  opts: { federationId: string; siteId: string; masked: Uint8Array },
): Promise<StatsAck> {
  const { federationId, siteId, masked } = opts;
  const l = await load(deps, federationId);
  assertMember(
    l.sum.cohort,
    siteId,
    "This site is not in the federation's recalibration cohort (it enrolled after the federation was created).",
  );
  assertStatsCohort(l.sum.cohort.length, l.plan.minSites);
  ringFromBytes(masked, l.sum.length);
  const closed = (why: string) => new TwinfedError('RECALIBRATION_CLOSED', why);
  if (!l.base) throw closed('The federation has not completed: there is no final version to recalibrate yet.');
  const already = l.sum.contributed.includes(siteId);
  if (!already && l.fitted) throw closed('The recalibrated version is already published.');
  if (!already && deps.now() > Date.parse(l.deadlineAt!)) throw closed(`The recalibration closed at ${l.deadlineAt}.`);
  const status = await storeContribution({
    store: deps.store,
    kind: 'recalibration',
    federationId,
    siteId,
    masked,
    createdAt: new Date(deps.now()).toISOString(),
    conflict: 'A different recalibration histogram from this site is already stored.',
    detail: { baseVersionId: l.base.id },
  });
  // The last histogram completes the sum: fit and publish now rather than at the next read.
  const session = await recalibrationSession(deps, federationId);
  return { federationId, siteId, status, contributed: session.contributed.length, cohort: session.cohort.length };
}
