import * as fs from 'node:fs';
import type { Command } from 'commander';
import { TwinfedError, openBundle, verifyBundle, type BundleTrust } from '@twinfed/shared';
import { PredictMappingSchema, predictCsv, predictionsCsv } from '../../bundle/predict-bundle';
import { writeFileAtomic } from '../../fs-atomic';
import { loadEnrollment } from '../../identity/load';
import { readSiteState } from '../../identity/site-state';
import { commandContext, dataDirOption, writeJsonLine, type CliDeps, type CommonFlags } from '../context';

interface PredictFlags extends CommonFlags {
  model: string;
  data: string;
  mapping: string;
  out?: string;
  fingerprint?: string;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TwinfedError('CONFIG_INVALID', `Cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`);
  }
}

function readMapping(file: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(readText(file));
  } catch (e) {
    if (e instanceof TwinfedError) throw e;
    throw new TwinfedError('CONFIG_INVALID', `${file} is not valid JSON.`);
  }
  const parsed = PredictMappingSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TwinfedError(
      'CONFIG_INVALID',
      `The mapping ${file} is invalid: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}.`,
    );
  }
  return parsed.data;
}

/**
 * Which key the bundle must be signed by: the coordinator key this site pinned at enrollment when the data
 * directory is enrolled; else the fingerprint given with --fingerprint; else only the key inside the bundle (with a warning).
 */
function trustOf(dataDir: string, fingerprint: string | undefined): BundleTrust {
  if (readSiteState(dataDir))
    return {
      pinnedSignPublicKey: loadEnrollment(dataDir).coordinator.signPublicKey,
      ...(fingerprint ? { fingerprint } : {}),
    };
  return fingerprint ? { fingerprint } : {};
}

/** `twinfed-site predict`: score a CSV with a model bundle, offline. */
export function addPredictCommand(program: Command, deps: CliDeps): void {
  program
    .command('predict')
    .summary('score a CSV with a model bundle (verified offline): line, score and risk tier per row')
    .description(
      'Score the rows of a CSV with a model bundle (from `twinfed-site export` or `twinfed models export`). The bundle is ' +
        'verified first: the coordinator signature over its metadata (against the coordinator key this site pinned at ' +
        'enrollment when --data-dir is an enrolled site; else against --fingerprint; else only against the key inside the ' +
        'bundle, with a warning), the weights digest, the signed plan digest, and every manifest field the signature implies. ' +
        "The mapping must name the model's features in the manifest's order. The manifest's preprocessing is applied " +
        "(missing values filled for twin plans, z-scores), then each row gets a score (probability of the plan's label) and " +
        'a risk tier. Runs offline; nothing is sent. Exit status 1 with a stable code when the bundle is refused ' +
        '(MODEL_SIGNATURE_INVALID, MODEL_DIGEST_MISMATCH, BUNDLE_INVALID) or the mapping does not fit (FEATURE_MISMATCH).',
    )
    .requiredOption('--model <bundle-dir>', 'the bundle directory')
    .requiredOption('--data <csv>', 'CSV file with a header row')
    .requiredOption(
      '--mapping <json>',
      'JSON mapping: {"features":[{"column","name"}…] in model order, "id": optional column copied to the output}',
    )
    .option('--out <csv>', 'write the scores here (default: stdout)')
    .option(
      '--fingerprint <fp>',
      'the coordinator fingerprint the bundle must be signed by (when --data-dir is not an enrolled site)',
    )
    .addOption(
      dataDirOption(
        'the site data directory whose pinned coordinator key verifies the bundle (default ./.twinfed-site, or TWINFED_SITE_DATA_DIR)',
      ),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed-site predict --model ./fed-1-model --data patients.csv --mapping mapping.json --out scores.csv\n  $ twinfed-site predict --model ./bundle --data rows.csv --mapping m.json --fingerprint 1a2b-…',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<PredictFlags>();
      const { config } = commandContext(deps, flags);
      const bundle = verifyBundle(openBundle(flags.model), trustOf(config.dataDir, flags.fingerprint));
      for (const w of bundle.warnings) deps.stderr.write(`warning: ${w}\n`);
      const mapping = readMapping(flags.mapping);
      const result = await predictCsv({ bundle, mapping, csv: readText(flags.data) });
      const text = predictionsCsv(result, mapping.id);
      if (flags.out) writeFileAtomic(flags.out, text);
      else deps.stdout.write(text);
      const summary = {
        type: 'predicted',
        versionId: bundle.meta.versionId,
        federationId: bundle.meta.federationId,
        trust: bundle.trust,
        scored: result.rows.length,
        rejected: result.rejected.length,
        ...(flags.out ? { out: flags.out } : {}),
      };
      if (result.rejected.length > 0)
        deps.stderr.write(
          `warning: ${result.rejected.length} rows not scored (${result.rejected
            .slice(0, 5)
            .map((r) => `line ${r.line}: ${r.reason}`)
            .join('; ')}${result.rejected.length > 5 ? '; …' : ''}).\n`,
        );
      if (flags.out) {
        if (flags.json) writeJsonLine(deps.stdout, summary);
        else
          deps.stdout.write(
            `Scored ${result.rows.length} rows with ${bundle.meta.versionId} (verified: ${bundle.trust}); wrote ${flags.out}.\n`,
          );
      }
    });
}
