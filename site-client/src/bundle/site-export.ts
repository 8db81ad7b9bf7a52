import { TwinfedError, buildBundle, writeBundle, type StatisticsInput } from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import type { ModelStore, SignedStoredModel } from '../training/model-store';

/** Options of {@link exportSiteBundle}. */
interface SiteExportOptions {
  models: ModelStore;
  enrollment: Enrollment;
  federationId: string;
  /** A version id, or `latest`. The site keeps its latest verified version per federation. */
  version: string;
  out: string;
  force?: boolean;
  now?: () => Date;
}

/** What was written. */
interface SiteExportResult {
  dir: string;
  federationId: string;
  versionId: string;
  round: number;
  normalization: string;
  statistics: string;
}

function statisticsOf(model: SignedStoredModel): StatisticsInput {
  const pre = model.preprocessing;
  const fill = pre && pre.fill.length > 0 ? pre.fill : null;
  const policy = model.plan.data.normalization;
  if (policy === 'none' || !pre?.standardizer) {
    if (policy !== 'none')
      throw new TwinfedError(
        'CONFIG_INVALID',
        `The stored model of ${model.federationId} has no normalisation statistics although the plan normalises (${policy}); run the site again to store the version with them.`,
      );
    return { kind: 'none', fill };
  }
  return {
    kind: policy === 'federated' ? 'federated-pooled' : 'site',
    mean: pre.standardizer.mean,
    std: pre.standardizer.std,
    rows: null,
    fill,
  };
}

/**
 * Writes a model bundle of the version this site verified and stored (re-verified on load against the pinned
 * coordinator key), with the preprocessing this site applies: its own z-score statistics under per-site
 * normalisation (they leave the site only in this local file), the cohort's pooled ones under federated, and
 * for twin plans the fill values of missing inputs. Nothing is sent anywhere.
 * Throws `NOT_FOUND` when no model (or not that version) is stored.
 */
export function exportSiteBundle(options: SiteExportOptions): SiteExportResult {
  const { models, federationId, enrollment } = options;
  const model = models.loadSigned(federationId);
  if (!model)
    throw new TwinfedError(
      'NOT_FOUND',
      `No verified model of federation ${federationId} is stored in this data directory: run \`twinfed-site run --federation ${federationId} …\` until a version is published.`,
    );
  if (options.version !== 'latest' && options.version !== model.meta.versionId) {
    throw new TwinfedError(
      'NOT_FOUND',
      `This site keeps the latest verified version of ${federationId}, which is ${model.meta.versionId}, not ${options.version}: export it with --version latest.`,
    );
  }
  const coordinator = enrollment.state.coordinator;
  const bundle = buildBundle({
    meta: model.meta,
    signature: model.signature,
    coordinator: {
      signPublicKey: coordinator.signPublicKey,
      boxPublicKey: coordinator.boxPublicKey,
      fingerprint: coordinator.fingerprint,
    },
    plan: model.plan,
    weightsBytes: model.weightsBytes,
    weights: model.weights,
    statistics: statisticsOf(model),
    exportedBy: 'site',
    siteId: enrollment.state.siteId,
    siteMetrics: null,
    ancestors: model.meta.parentVersionId ? [model.meta.parentVersionId] : [],
    ...(options.now ? { now: options.now } : {}),
  });
  writeBundle(options.out, bundle, { force: options.force === true, private: true });
  const pre = bundle.manifest.preprocessing;
  return {
    dir: options.out,
    federationId,
    versionId: model.meta.versionId,
    round: model.meta.round,
    normalization: pre.normalization,
    statistics: pre.statistics,
  };
}
