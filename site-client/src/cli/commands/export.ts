import type { Command } from 'commander';
import { exportSiteBundle } from '../../bundle/site-export';
import { openSiteModels } from '../site-models';
import { commandContext, dataDirOption, writeJsonLine, type CliDeps, type CommonFlags } from '../context';

interface ExportFlags extends CommonFlags {
  federation: string;
  modelVersion: string;
  out: string;
  force?: boolean;
}

/** `twinfed-site export`: the verified model version as a self-describing bundle, with this site's preprocessing. */
export function addExportCommand(program: Command, deps: CliDeps): void {
  program
    .command('export')
    .summary(
      'write the verified model as a bundle (manifest, weights, TensorFlow.js files) with this site’s preprocessing',
    )
    .description(
      'Write the model version this site verified and stored (verified again against the pinned coordinator key) as a ' +
        'bundle directory: manifest.json (features in input order, preprocessing, label, risk tiers, lineage, DP ε, digests, ' +
        "the coordinator's signature and key), weights.twfw and tfjs/ (TensorFlow.js layers format). The preprocessing is the " +
        "one this site applies: under per-site normalisation this site's own training means and standard deviations, which " +
        'otherwise never leave the site — the bundle is written locally only; treat it as site data. Nothing is sent. ' +
        'See docs/model-bundle.md.',
    )
    .requiredOption('--federation <id>', 'the federation whose model to export')
    .option(
      '--model-version <id>',
      'the version to export: its id, or latest (the site keeps the latest verified version); also accepted as --version',
      'latest',
    )
    .requiredOption('--out <dir>', 'the bundle directory to write (must not exist or be empty)')
    .option('--force', 'replace an existing bundle directory')
    .addOption(dataDirOption())
    .addHelpText(
      'after',
      '\nExample:\n  $ twinfed-site export --federation fed-1 --version latest --out ./fed-1-model\n  $ twinfed-site predict --model ./fed-1-model --data patients.csv --mapping mapping.json --out scores.csv',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<ExportFlags>();
      const { config } = commandContext(deps, flags);
      const { enrollment, models } = openSiteModels(config.dataDir);
      const result = exportSiteBundle({
        models,
        enrollment,
        federationId: flags.federation,
        version: flags.modelVersion,
        out: flags.out,
        force: flags.force === true,
      });
      if (flags.json) return writeJsonLine(deps.stdout, { type: 'exported', ...result });
      deps.stdout.write(
        `Wrote bundle ${result.dir}: ${result.versionId} (federation ${result.federationId}, round ${result.round}), normalisation ${result.normalization}, statistics ${result.statistics}.\n`,
      );
      if (result.statistics === 'site')
        deps.stderr.write(
          "note: the bundle holds this site's own normalisation statistics (means and standard deviations of its training data): keep it inside the site.\n",
        );
    });
}
