/**
 * `twinfed models export`: downloads a version's weights, checks them against the digest its signed metadata
 * declares (and the ETag) and the signature, and only then writes a self-describing bundle directory
 * (manifest.json, weights.twfw, tfjs/model.json + shard; see docs/model-bundle.md).
 */
import path from 'node:path';
import {
  PlanSchema,
  TwinfedError,
  buildBundle,
  deserializeWeights,
  fromB64,
  layoutOf,
  planDigest,
  sha256Hex,
  verifyModelVersion,
  writeBundle,
  type ModelVersionMeta,
  type Plan,
  type StatisticsInput,
} from '@twinfed/shared';
import type { CommandContext } from '../context';
import { metaFields } from '../model-version';

/** What was written. */
interface ExportResult {
  versionId: string;
  dir: string;
  bytes: number;
  sha256: string;
  normalization: Plan['data']['normalization'];
  statistics: string;
  warnings: string[];
}

/** Longest parent chain recorded in the manifest. */
const MAX_ANCESTORS = 50;

async function ancestorsOf(ctx: CommandContext, parent: string | null): Promise<string[]> {
  const out: string[] = [];
  while (parent && out.length < MAX_ANCESTORS && !out.includes(parent)) {
    out.push(parent);
    parent = (await ctx.client.getModel(parent)).parentVersionId;
  }
  return out;
}

async function statisticsFor(ctx: CommandContext, plan: Plan, federationId: string): Promise<StatisticsInput> {
  if (plan.data.normalization !== 'federated') return { kind: 'none' };
  const pooled = await ctx.client.normalization(federationId);
  if (pooled.state !== 'ready' || !pooled.mean || !pooled.std) {
    throw new TwinfedError(
      'NOT_READY',
      `Federation ${federationId} uses federated normalisation but its pooled statistics are not complete (${pooled.contributed} of ${pooled.cohort} sites contributed); nothing was written.`,
    );
  }
  return { kind: 'federated-pooled', mean: pooled.mean, std: pooled.std, rows: pooled.rows };
}

/**
 * Exports one version as a bundle directory. Writes nothing and throws `MODEL_DIGEST_MISMATCH` when the bytes do
 * not hash to the digest the version declares (or its ETag), `MODEL_SIGNATURE_INVALID` when the coordinator's
 * signature over the metadata does not verify against the coordinator's current signing key or the federation's
 * plan is not the one signed into the version, `NOT_READY` when federated statistics are incomplete and
 * `ALREADY_EXISTS` when `out` is a non-empty directory and `force` is not set.
 */
export async function exportModel(
  ctx: CommandContext,
  opts: { versionId: string; out: string; force: boolean },
): Promise<ExportResult> {
  const dir = path.resolve(opts.out);
  const version = await ctx.client.getModel(opts.versionId);
  const declared = metaFields(version).weightsSha256;
  if (declared !== undefined && declared !== version.weightsSha256) {
    throw new TwinfedError(
      'MODEL_DIGEST_MISMATCH',
      `Version ${version.id} declares two different weight digests; nothing was written.`,
    );
  }
  const [download, coordinator, federation] = await Promise.all([
    ctx.client.downloadWeights(version.id),
    ctx.client.coordinatorKeys(),
    ctx.client.getFederation(version.federationId),
  ]);
  const actual = sha256Hex(download.bytes);
  if (actual !== version.weightsSha256) {
    throw new TwinfedError(
      'MODEL_DIGEST_MISMATCH',
      `The downloaded weights of ${version.id} have sha256 ${actual.slice(0, 16)}… but the version metadata says ${version.weightsSha256.slice(0, 16)}…; nothing was written.`,
    );
  }
  if (download.etag !== null && download.etag !== actual) {
    throw new TwinfedError(
      'MODEL_DIGEST_MISMATCH',
      `The coordinator's ETag for ${version.id} does not match the weights it sent; nothing was written.`,
    );
  }
  let meta: ModelVersionMeta;
  try {
    meta = verifyModelVersion({
      meta: version.meta,
      signature: version.signature,
      weightsBytes: download.bytes,
      coordinatorSignPublicKey: fromB64(coordinator.signPublicKey, 'MODEL_SIGNATURE_INVALID'),
    });
  } catch (e) {
    const code = e instanceof TwinfedError && e.code === 'MODEL_DIGEST_MISMATCH' ? e.code : 'MODEL_SIGNATURE_INVALID';
    const what =
      code === 'MODEL_DIGEST_MISMATCH'
        ? 'the weights do not match the digest signed by'
        : 'the signature does not verify against';
    throw new TwinfedError(
      code,
      `Version ${version.id}: ${what} coordinator key ${coordinator.fingerprint}; nothing was written.`,
      { cause: e },
    );
  }
  const plan = PlanSchema.parse(federation.plan);
  const warnings: string[] = [];
  if (meta.planSha256 === undefined)
    warnings.push(
      `Version ${meta.versionId} predates signed plan digests: the bundle's features, label and tiers are not covered by the signature.`,
    );
  else if (meta.planSha256 !== planDigest(plan))
    throw new TwinfedError(
      'MODEL_SIGNATURE_INVALID',
      `The plan of federation ${federation.id} is not the plan signed into ${meta.versionId}; nothing was written.`,
    );
  const weights = deserializeWeights(download.bytes, { expectedLayout: layoutOf(plan.model) });
  const [statistics, evaluations, ancestors] = await Promise.all([
    statisticsFor(ctx, plan, federation.id),
    ctx.client.listEvaluations(meta.versionId),
    ancestorsOf(ctx, meta.parentVersionId),
  ]);
  const bundle = buildBundle({
    meta,
    signature: version.signature,
    coordinator,
    plan,
    weightsBytes: download.bytes,
    weights,
    statistics,
    exportedBy: 'coordinator',
    siteMetrics: evaluations.map((e) => ({ siteId: e.siteId, n: e.n, metrics: e.metrics, createdAt: e.createdAt })),
    ancestors,
  });
  writeBundle(dir, bundle, { force: opts.force });
  if (plan.data.normalization === 'per-site')
    warnings.push(
      'The plan normalises per site: this bundle carries no statistics. Each site applies its own; a site exports a usable bundle with `twinfed-site export`.',
    );
  return {
    versionId: meta.versionId,
    dir,
    bytes: download.bytes.byteLength,
    sha256: actual,
    normalization: plan.data.normalization,
    statistics: bundle.manifest.preprocessing.statistics,
    warnings,
  };
}
