import { InvalidArgumentError, Option, type Command } from 'commander';
import { initBackend, type BackendPreference } from '@twinfed/models';
import { TwinfedError } from '@twinfed/shared';
import { loadEnrollment } from '../../identity/load';
import { Journal } from '../../training/journal';
import { SiteRunner } from '../../training/runner';
import { CoordinatorClient } from '../../transport/coordinator-client';
import { EventStream } from '../../transport/event-stream';
import { commandContext, writeJsonLine, type CliDeps, type CommonFlags } from '../context';
import { loadLocalData, type DataSource } from '../load-data';
import { renderProgress } from '../render';

interface RunFlags extends CommonFlags {
  federation: string;
  heartDisease?: number;
  data?: string;
  mapping?: string;
  testFraction: number;
  splitSeed: number;
  coordinator?: string;
  pollInterval?: number;
  push: boolean;
  backend?: BackendPreference;
}

/** Exit codes of `run`. */
export const RUN_EXIT = { ok: 0, federationFailed: 3, interrupted: 130 } as const;

const number = (what: string, check: (n: number) => boolean) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`${what}.`);
  return n;
};

/** `twinfed-site run`: take part in a federation until it ends. */
export function addRunCommand(program: Command, deps: CliDeps, setExitCode: (code: number) => void): void {
  program
    .command('run')
    .summary('take part in a federation: train when selected, upload, evaluate new models')
    .description(
      'Join a federation and work until it ends: when a round opens and this site is selected, download the global ' +
        'model, verify its signature against the pinned coordinator key, train on the local training rows, and upload ' +
        'the encrypted, signed update (once per round, even across restarts). Every published model version is verified ' +
        'and evaluated on the local test rows; only the metrics are sent. Patient rows never leave this machine. ' +
        'Local data: either --heart-disease <center> (the bundled UCI file, FLamby split) or --data <csv> --mapping <json>.',
    )
    .requiredOption('--federation <id>', 'the federation id the operator gave you')
    .addOption(new Option('--heart-disease <center>', 'use the bundled UCI Heart Disease data of FLamby center 0-3 (0 Cleveland, 1 Hungary, 2 Switzerland, 3 VA)').argParser(number('center must be 0, 1, 2 or 3', (n) => Number.isInteger(n) && n >= 0 && n <= 3)).conflicts(['data', 'mapping']))
    .option('--data <csv>', 'CSV file with a header row (one row per patient)')
    .option('--mapping <json>', 'JSON column mapping: {"features":[{"column","name"}…], "label":{"column","positive":[…]}}')
    .option('--test-fraction <f>', 'share of CSV rows held out for evaluation', number('the test fraction must be between 0 and 1', (n) => n > 0 && n < 1), 0.34)
    .option('--split-seed <n>', 'seed of the stratified CSV train/test split', number('the split seed must be a non-negative integer', (n) => Number.isInteger(n) && n >= 0), 43)
    .option('--data-dir <dir>', 'the site data directory (default ./.twinfed-site, or TWINFED_SITE_DATA_DIR)')
    .option('--coordinator <url>', 'override the coordinator URL stored at enrollment')
    .option('--poll-interval <ms>', 'how often to ask the coordinator for the current round', number('the poll interval must be a positive number of ms', (n) => n >= 50))
    .option('--no-push', 'do not open the socket.io event stream; poll only')
    .addOption(new Option('--backend <name>', 'tfjs backend for local training').choices(['wasm', 'cpu']))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  # the demo: Cleveland Clinic as one site\n' +
        '  $ twinfed-site run --federation fed-1 --heart-disease 0 --data-dir ./site-a\n' +
        '  # your own CSV\n' +
        '  $ twinfed-site run --federation fed-1 --data patients.csv --mapping mapping.json --test-fraction 0.3\n' +
        '\nExit status: 0 when the federation completes or is stopped, 3 when it fails, 130 on Ctrl-C, 1 on errors.',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<RunFlags>();
      const source = dataSource(flags);
      const { config, logger } = commandContext(deps, {
        ...flags,
        ...(flags.coordinator ? { coordinatorUrl: flags.coordinator } : {}),
        ...(flags.pollInterval !== undefined ? { pollIntervalMs: flags.pollInterval } : {}),
      });
      const enrollment = loadEnrollment(config.dataDir);
      const journal = Journal.open(config.dataDir);
      const loaded = loadLocalData(source);
      const { train, test } = loaded.dataset;
      if (flags.json) writeJsonLine(deps.stdout, { type: 'data', source: loaded.description, trainRows: train.n, testRows: test.n, rejectedRows: loaded.rejectedRows, rejectedReasons: loaded.rejectedReasons });
      else deps.stdout.write(`Local data: ${train.n + test.n} rows from ${loaded.description}.\n`);
      if (loaded.rejectedRows > 0 && !flags.json) {
        const reasons = Object.entries(loaded.rejectedReasons).map(([r, n]) => `${n}× ${r}`).join(', ');
        deps.stderr.write(`warning: ${loaded.rejectedRows} rows rejected (${reasons}).\n`);
      }
      if (flags.backend) await initBackend({ prefer: flags.backend });
      const baseUrl = config.coordinatorUrl ?? enrollment.state.coordinatorUrl;
      const credentials = { siteId: enrollment.state.siteId, signSecretKey: enrollment.identity.sign.secretKey };
      const api = new CoordinatorClient({ baseUrl, credentials, timeoutMs: config.requestTimeoutMs, retry: { retries: config.httpRetries, baseMs: 250, maxMs: 30_000 }, logger, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
      const events = flags.push ? new EventStream({ baseUrl, credentials, logger }) : undefined;
      const runner = new SiteRunner({
        federationId: flags.federation,
        enrollment,
        api,
        dataset: loaded.dataset,
        journal,
        logger,
        pollIntervalMs: config.pollIntervalMs,
        onProgress: (e) => (flags.json ? writeJsonLine(deps.stdout, e) : renderProgress(e, deps)),
        ...(events ? { events } : {}),
      });
      let interrupted = false;
      const off = (deps.onInterrupt ?? (() => () => undefined))(() => {
        interrupted = true;
        deps.stderr.write('Stopping (Ctrl-C)…\n');
        runner.stop();
      });
      try {
        const summary = await runner.run();
        if (interrupted) return setExitCode(RUN_EXIT.interrupted);
        if (flags.json) writeJsonLine(deps.stdout, { type: 'done', ...summary });
        else deps.stdout.write(`Done: ${summary.roundsUploaded.length} updates uploaded, ${summary.versionsEvaluated.length} versions evaluated by this process.\n`);
        setExitCode(summary.state === 'failed' ? RUN_EXIT.federationFailed : RUN_EXIT.ok);
      } finally {
        off();
      }
    });
}

function dataSource(flags: RunFlags): DataSource {
  if (flags.heartDisease !== undefined) return { kind: 'heart-disease', center: flags.heartDisease };
  if (!flags.data || !flags.mapping) {
    throw new TwinfedError('CONFIG_INVALID', 'Give the local data: --heart-disease <center>, or both --data <csv> and --mapping <json>.');
  }
  return { kind: 'csv', csvPath: flags.data, mappingPath: flags.mapping, testFraction: flags.testFraction, splitSeed: flags.splitSeed };
}
