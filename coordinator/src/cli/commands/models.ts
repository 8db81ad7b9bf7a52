/** `twinfed models list|show|export`: the registry of signed global model versions. */
import type { Command } from 'commander';
import {
  TwinfedError,
  fromB64,
  verifyModelVersion,
  type CoordinatorKeys,
  type CrossSiteView,
  type EvaluationView,
  type ModelVersionView,
} from '@twinfed/shared';
import { calibrationText } from '../calibration-table';
import { crossSiteText } from '../cross-site-table';
import { createContext, type CliDeps, type CommandContext } from '../context';
import { formatMetrics, renderKeyValues, renderTable, short } from '../format';
import { metaFields } from '../model-version';
import { exportModel } from './model-export';

/** Longest parent chain `models show` walks. */
const MAX_LINEAGE = 50;

async function lineageOf(ctx: CommandContext, version: ModelVersionView): Promise<string[]> {
  const chain = [version.id];
  let parent = version.parentVersionId;
  while (parent && chain.length < MAX_LINEAGE && !chain.includes(parent)) {
    chain.push(parent);
    parent = (await ctx.client.getModel(parent)).parentVersionId;
  }
  if (parent) chain.push('…');
  return chain;
}

/** True when the version's signature verifies against the coordinator's signing key. */
function signatureValid(v: ModelVersionView, keys: CoordinatorKeys): boolean {
  try {
    verifyModelVersion({ meta: v.meta, signature: v.signature, coordinatorSignPublicKey: fromB64(keys.signPublicKey) });
    return true;
  } catch {
    return false;
  }
}

interface ShowExtras {
  lineage: string[];
  signer: CoordinatorKeys;
  signatureValid: boolean;
  evaluations: EvaluationView[];
  /** The federation's cross-site evaluation when this version is the global model its matrix evaluated; else null. */
  crossSite: CrossSiteView | null;
}

/** The cross-site evaluation whose matrix rates `version` as the global model (null when there is none). */
async function crossSiteOf(ctx: CommandContext, version: ModelVersionView): Promise<CrossSiteView | null> {
  const federation = await ctx.client.getFederation(version.federationId);
  if (!federation.plan.crossSiteEvaluation) return null;
  const view = await ctx.client.crossSite(version.federationId).catch((e: unknown) => {
    if (e instanceof TwinfedError && e.code === 'CROSS_SITE_NOT_PLANNED') return null;
    throw e;
  });
  return view?.matrix?.globalVersionId === version.id ? view : null;
}

function showText(v: ModelVersionView, more: ShowExtras): string {
  const m = metaFields(v);
  const contributors = m.contributors
    ?.map((c) => (c.numExamples === undefined ? c.siteId : `${c.siteId} (${c.numExamples})`))
    .join(', ');
  const head = renderKeyValues([
    ['version', v.id],
    ['federation', v.federationId],
    ['round', v.round],
    ['parent', v.parentVersionId ?? '(initial)'],
    ['strategy', m.strategy],
    ['contributors', contributors],
    ['metrics', formatMetrics(m.metrics)],
    ['DP ε spent', m.dpEpsilon],
    ...(m.dpMechanism
      ? [
          [
            'DP mechanism',
            m.dpMechanism === 'skellam'
              ? 'distributed (Skellam, noise added by the sites)'
              : 'central (Gaussian, noise added by the coordinator)',
          ] as const,
        ]
      : []),
    ['weights sha256', v.weightsSha256],
    ['signature', `${short(v.signature, 24)} ${more.signatureValid ? 'valid' : 'DOES NOT VERIFY'}`],
    ['signer key', more.signer.fingerprint],
    ['created', v.createdAt],
  ]);
  const evals = renderTable(
    more.evaluations,
    [
      { header: 'SITE', cell: (e) => e.siteId },
      { header: 'N', cell: (e) => e.n, right: true },
      { header: 'METRICS', cell: (e) => formatMetrics(e.metrics) },
      { header: 'AT', cell: (e) => e.createdAt },
    ],
    '(no site has reported an evaluation yet)',
  );
  const calibration = calibrationText(more.evaluations);
  const crossSite = more.crossSite
    ? `\nCross-site evaluation (this version is its global model):\n${crossSiteText(more.crossSite, more.signer.signPublicKey)}`
    : '';
  return `${head}\nLineage (newest first):\n  ${more.lineage.join(' ← ')}\n\nEvaluations per site:\n${evals}\nCalibration per site (reliability, 10 bins):\n${calibration}${crossSite}`;
}

/** Adds the `models` command group to `program`. */
export function registerModels(program: Command, deps: CliDeps): void {
  const models = program
    .command('models')
    .description('Inspect and export the signed global model versions the federations published.')
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed models list --federation heart-fedavg\n  $ twinfed models show heart-fedavg.v3\n  $ twinfed models export heart-fedavg.v3 --out ./heart-v3\n',
    );

  models
    .command('list')
    .description('List model versions, newest last, optionally of one federation.')
    .option('--federation <id>', 'only versions of this federation')
    .addHelpText('after', '\nExample:\n  $ twinfed models list --federation heart-fedavg\n')
    .action(async (opts: { federation?: string }, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const list = await ctx.client.listModels(opts.federation ? { federationId: opts.federation } : {});
      ctx.emit(list, () =>
        renderTable(
          list,
          [
            { header: 'VERSION', cell: (v) => v.id },
            { header: 'FEDERATION', cell: (v) => v.federationId },
            { header: 'ROUND', cell: (v) => v.round, right: true },
            { header: 'PARENT', cell: (v) => v.parentVersionId },
            { header: 'STRATEGY', cell: (v) => metaFields(v).strategy },
            { header: 'SITES', cell: (v) => metaFields(v).contributors?.length, right: true },
            { header: 'METRICS', cell: (v) => formatMetrics(metaFields(v).metrics) },
            { header: 'CREATED', cell: (v) => v.createdAt },
          ],
          '(no model versions yet)',
        ),
      );
    });

  models
    .command('show')
    .description(
      'Show one version: metadata, lineage back to the initial model, signature and signer fingerprint, each site’s evaluation and calibration, and — when it is the global model of its federation’s cross-site evaluation — the signed matrix.',
    )
    .argument('<version>', 'a model version id (see `twinfed models list`)')
    .addHelpText('after', '\nExample:\n  $ twinfed models show heart-fedavg.v3\n')
    .action(async (versionId: string, _opts: unknown, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const version = await ctx.client.getModel(versionId);
      const [lineage, keys, evaluations, crossSite] = await Promise.all([
        lineageOf(ctx, version),
        ctx.client.coordinatorKeys(),
        ctx.client.listEvaluations(versionId),
        crossSiteOf(ctx, version),
      ]);
      const extras: ShowExtras = {
        lineage,
        signer: keys,
        signatureValid: signatureValid(version, keys),
        evaluations,
        crossSite,
      };
      ctx.emit({ version, ...extras }, () => showText(version, extras));
    });

  models
    .command('export')
    .description(
      'Write a version as a self-describing bundle directory <dir>: manifest.json (model kind and layers, feature names in ' +
        'input order, preprocessing — the pooled normalisation statistics when the plan uses federated normalisation —, label, ' +
        'risk tiers, per-site metrics, lineage, DP ε, digests, and the coordinator signature with the signed metadata and key), ' +
        'weights.twfw (the signed weights) and tfjs/ (TensorFlow.js layers format). Before anything is written the weights are ' +
        "checked against the digest in the signed metadata (and the ETag) and the signature against the coordinator's key; on a " +
        'mismatch nothing is written. See docs/model-bundle.md.',
    )
    .argument('<version>', 'a model version id')
    .requiredOption('--out <dir>', 'the bundle directory to write (created; must not exist or be empty)')
    .option('--force', 'replace an existing bundle directory')
    .addHelpText(
      'after',
      '\nExample:\n  $ twinfed models export heart-fedavg.v3 --out ./heart-v3\n  (writes heart-v3/manifest.json, heart-v3/weights.twfw, heart-v3/tfjs/model.json, heart-v3/tfjs/group1-shard1of1.bin)\n',
    )
    .action(async (versionId: string, opts: { out: string; force?: boolean }, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const result = await exportModel(ctx, { versionId, out: opts.out, force: opts.force === true });
      ctx.emit(result, () =>
        [
          `Wrote bundle ${result.dir} (${result.versionId}, weights ${result.bytes} bytes, sha256 ${short(result.sha256)}; normalisation ${result.normalization}, statistics ${result.statistics}).`,
          ...result.warnings.map((w) => `warning: ${w}`),
        ].join('\n'),
      );
    });
}
