import { loadHeartDisease } from '@twinfed/models';
import {
  CoordinatorClient,
  EventStream,
  Journal,
  SiteAuditLog,
  SiteAuthenticator,
  SiteRunner,
  enrollmentCredentials,
  type LocalDataset,
  type ModelOps,
  type RunSummary,
} from '@twinfed/site-client';
import type { PlanInput } from '@twinfed/shared';
import type { BenchConsortium } from './consortium';

/** One published version of a federation, with each center's evaluation of it (reported by that center's site). */
interface VersionScores {
  round: number;
  versionId: string;
  /** Accuracy on center 0..3's own test rows. */
  accuracy: number[];
  /** ROC-AUC on center 0..3's own test rows (NaN where the site reported none). */
  auc: number[];
}

/** What a benchmark federation produced. */
interface FederationOutcome {
  federationId: string;
  state: RunSummary['state'];
  /** Published versions of rounds 1..n, in round order (round 0, the initial model, is left out). */
  versions: VersionScores[];
  seconds: number;
}

/** Options of {@link runBenchFederation}. */
interface BenchFederationOptions {
  consortium: BenchConsortium;
  plan: PlanInput;
  /** The trainer seed of the site holding `center` (its local batch order). */
  siteSeed: (center: number) => number;
  /** Poll interval of the runners (push events start rounds immediately; this is only the fallback). */
  pollIntervalMs?: number;
  timeoutMs?: number;
  /** Each center's local rows (default {@link rawSiteData}). */
  data?: readonly LocalDataset[];
  /** The model operations of the site holding `center` (default the product's): the Byzantine bench swaps one site's trainer here. */
  modelOps?: (center: number) => ModelOps | undefined;
  /** The version hook of the site holding `center` (the privacy bench records each verified version there). */
  afterVersion?: (center: number) => VersionHook | undefined;
  /**
   * Read each version's site evaluations from the coordinator (default true). Sites keep their evaluations local
   * under DP, so a DP plan's bench passes false: `versions` then list the published versions with empty scores.
   */
  siteEvaluations?: boolean;
}

type VersionHook = NonNullable<ConstructorParameters<typeof SiteRunner>[0]['afterVersion']>;

/** Each center's raw (un-normalised) FLamby train/test rows, as a site loads them; the runner normalises per the plan. */
export function rawSiteData(): LocalDataset[] {
  return loadHeartDisease({ normalization: 'none' }).map((c) => ({
    features: c.featureNames,
    train: c.train,
    test: c.test,
  }));
}

/**
 * Runs one federation through the product: the operator creates it over the admin API, then each site's
 * `SiteRunner` (signed HTTP `CoordinatorClient` + socket.io `EventStream`, both over loopback) trains,
 * uploads sealed updates and evaluates every published version on its own test rows. The version scores come
 * from the coordinator's record of those site evaluations.
 */
export async function runBenchFederation(opts: BenchFederationOptions): Promise<FederationOutcome> {
  const started = Date.now();
  const { consortium } = opts;
  const data = opts.data ?? rawSiteData();
  const fed = await consortium.admin.createFederation(opts.plan);
  const runners = consortium.sites.map((site) => {
    const baseUrl = consortium.coordinator.url;
    const credentials = new SiteAuthenticator(enrollmentCredentials(site.enrollment));
    return new SiteRunner({
      federationId: fed.id,
      enrollment: site.enrollment,
      api: new CoordinatorClient({ baseUrl, credentials, timeoutMs: 30_000 }),
      events: new EventStream({ baseUrl, credentials }),
      dataset: data[site.center]!,
      journal: Journal.open(site.dataDir),
      audit: new SiteAuditLog(site.dataDir),
      policy: { autoApprove: true }, // a benchmark site approves every plan by its policy (recorded in its audit chain)
      pollIntervalMs: opts.pollIntervalMs ?? 100,
      seed: opts.siteSeed(site.center),
      modelOps: opts.modelOps?.(site.center),
      afterVersion: opts.afterVersion?.(site.center),
    });
  });
  const timeout = setTimeout(() => runners.forEach((r) => r.stop()), opts.timeoutMs ?? 10 * 60_000);
  let summaries: RunSummary[];
  try {
    summaries = await Promise.all(runners.map((r) => r.run()));
  } catch (e) {
    runners.forEach((r) => r.stop());
    throw e;
  } finally {
    clearTimeout(timeout);
  }
  const state = summaries[0]!.state;
  if (summaries.some((s) => s.state !== 'completed'))
    throw new Error(`federation ${fed.id} ended ${summaries.map((s) => s.state).join('/')}`);
  return {
    federationId: fed.id,
    state,
    versions: await versionScores(consortium, fed.id, opts.siteEvaluations ?? true),
    seconds: (Date.now() - started) / 1000,
  };
}

async function versionScores(
  consortium: BenchConsortium,
  federationId: string,
  siteEvaluations: boolean,
): Promise<VersionScores[]> {
  const centerOf = new Map(consortium.sites.map((s) => [s.enrollment.state.siteId, s.center]));
  const models = (await consortium.admin.listModels({ federationId }))
    .filter((m) => m.round > 0)
    .sort((a, b) => a.round - b.round);
  const out: VersionScores[] = [];
  for (const m of models) {
    if (!siteEvaluations) {
      out.push({ round: m.round, versionId: m.id, accuracy: [], auc: [] });
      continue;
    }
    const evals = await consortium.admin.listEvaluations(m.id);
    const accuracy = new Array<number>(4).fill(Number.NaN);
    const auc = new Array<number>(4).fill(Number.NaN);
    for (const e of evals) {
      const c = centerOf.get(e.siteId);
      if (c === undefined) continue;
      accuracy[c] = e.metrics.accuracy ?? Number.NaN;
      auc[c] = e.metrics.auc ?? Number.NaN;
    }
    if (accuracy.some((a) => Number.isNaN(a)))
      throw new Error(`version ${m.id} (round ${m.round}) lacks a site evaluation: ${evals.length} of 4`);
    out.push({ round: m.round, versionId: m.id, accuracy, auc });
  }
  return out;
}
