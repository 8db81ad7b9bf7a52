import { Option, type Command } from 'commander';
import { initBackend, type BackendPreference } from '@twinfed/models';
import { TwinfedError } from '@twinfed/shared';
import { loadEnrollment } from '../../identity/load';
import { Journal } from '../../training/journal';
import { SiteAuditLog } from '../../audit/site-audit';
import { coordinatorDecisions } from '../../governance/channel';
import { PlanDecisions } from '../../governance/decisions';
import { sitePolicySource } from '../../governance/policy';
import { ModelStore } from '../../training/model-store';
import { SiteRunner } from '../../training/runner';
import { tabularVersionHook } from '../../training/tabular-publisher';
import { CoordinatorClient } from '../../transport/coordinator-client';
import { EventStream } from '../../transport/event-stream';
import { commandContext, dataDirOption, siteHttp, writeJsonLine, type CliDeps, type CommonFlags } from '../context';
import { loadLocalData, type DataSource, type LoadedData } from '../load-data';
import { instantArg, listenArg, numberArg as number, type ListenAddress, coordinatorOption } from '../parse';
import { rejectedLinesText } from '../rejects-file';
import { renderProgress } from '../render';
import { setupTwinRun, type TwinRun } from '../twin-run';

interface RunFlags extends CommonFlags {
  federation: string;
  heartDisease?: number;
  data?: string;
  mapping?: string;
  testFraction: number;
  splitSeed: number;
  coordinator?: string[];
  pollInterval?: number;
  push: boolean;
  backend?: BackendPreference;
  twins?: boolean;
  at?: number;
  listen?: ListenAddress;
  ca?: string;
  insecureHttp?: boolean;
  rejects?: string;
  requireSecureAggregation?: boolean;
  requireDp?: boolean;
  maxEpsilon?: number;
  minPopulationK?: number;
  populationEpsilonBudget?: number;
}

/** How many rejected line numbers the warning and the --json data event list. */
const SHOWN_REJECTED_LINES = 20;

/** Exit codes of `run` (any error, a refused plan included, is 1). */
const RUN_EXIT = { ok: 0, federationFailed: 3, interrupted: 130 } as const;

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
        'Local data: --twins (the twin store, rebuilt at the start of every round so that consent withdrawals and new data ' +
        'take effect at the next round), --heart-disease <center> (the bundled UCI file, FLamby split) or --data <csv> --mapping <json>. ' +
        'Every published version this site verified is stored in the data directory (for `twinfed-site export`). ' +
        'With --twins, every published version also scores the twins (scoring consent permitting) and yields the ' +
        'population report (risk tier × age band counts, small cells suppressed, noised as the plan says): the only thing ' +
        'about patients that leaves the site.',
    )
    .requiredOption('--federation <id>', 'the federation id the operator gave you')
    .addOption(
      new Option('--twins', 'train on the twin store (features and labels derived as the plan says)').conflicts([
        'heartDisease',
        'data',
        'mapping',
      ]),
    )
    .option(
      '--at <instant>',
      'with --twins: fixed snapshot time of features, labels and scores (default: each round trains at now minus the label horizon, so outcomes are known; scores are at now)',
      instantArg,
    )
    .addOption(
      new Option(
        '--listen [host:port]',
        'with --twins: also run the local streaming and scoring API (default 127.0.0.1, any free port)',
      )
        .preset('127.0.0.1:0')
        .argParser(listenArg),
    )
    .addOption(
      new Option(
        '--heart-disease <center>',
        'use the bundled UCI Heart Disease data of FLamby center 0-3 (0 Cleveland, 1 Hungary, 2 Switzerland, 3 VA)',
      )
        .argParser(number('center must be 0, 1, 2 or 3', (n) => Number.isInteger(n) && n >= 0 && n <= 3))
        .conflicts(['data', 'mapping']),
    )
    .option('--data <csv>', 'CSV file with a header row (one row per patient)')
    .option(
      '--mapping <json>',
      'JSON column mapping (every field in docs/data-mapping.md): {"features":[{"column","name"}…], "label":{"column","positive":[…]}}',
    )
    .option(
      '--rejects <file>',
      'with --data: write every rejected CSV row (line, column, reason; no cell values) to this file: CSV if it ends in .csv, else NDJSON',
    )
    .option(
      '--test-fraction <f>',
      'share of CSV rows (or twins) held out for evaluation',
      number('the test fraction must be between 0 and 1', (n) => n > 0 && n < 1),
      0.34,
    )
    .option(
      '--split-seed <n>',
      'seed of the stratified train/test split',
      number('the split seed must be a non-negative integer', (n) => Number.isInteger(n) && n >= 0),
      43,
    )
    .addOption(dataDirOption())
    .addOption(coordinatorOption('override the coordinator URL stored at enrollment'))
    .option(
      '--ca <pem>',
      'CA certificate (PEM) to trust for the coordinator, instead of the one recorded at enrollment (or TWINFED_CA)',
    )
    .option(
      '--insecure-http',
      'allow plain http:// to a coordinator that is not on this machine (or TWINFED_INSECURE_HTTP=1)',
    )
    .option(
      '--poll-interval <ms>',
      'how often to ask the coordinator for the current round',
      number('the poll interval must be a positive number of ms', (n) => n >= 50),
    )
    .option('--no-push', 'do not open the socket.io event stream; poll only')
    .addOption(new Option('--backend <name>', 'tfjs backend for local training').choices(['wasm', 'cpu']))
    .option(
      '--require-secure-aggregation',
      'privacy floor, added to the site policy: refuse plans without secure aggregation (or TWINFED_REQUIRE_SECURE_AGGREGATION=1)',
    )
    .option(
      '--require-dp',
      'privacy floor, added to the site policy: refuse plans without differential privacy (or TWINFED_REQUIRE_DP=1)',
    )
    .option(
      '--max-epsilon <ε>',
      'privacy floor, added to the site policy: refuse plans whose DP spends more than this ε over their rounds, or that have no DP (or TWINFED_MAX_EPSILON)',
      number('the maximum ε must be a positive number', (n) => n > 0 && n <= 1000),
    )
    .option(
      '--min-population-k <k>',
      "privacy floor, added to the site policy: suppress population cells below at least this k, even when the plan's k is smaller (or TWINFED_MIN_POPULATION_K)",
      number(
        'the minimum population k must be an integer from 2 to 1000',
        (n) => Number.isInteger(n) && n >= 2 && n <= 1000,
      ),
    )
    .option(
      '--population-epsilon-budget <ε>',
      'total ε this site spends on fresh noisy population reports, all federations together; unchanged counts re-send their earlier values (default 10, or TWINFED_POPULATION_EPSILON_BUDGET)',
      number('the population ε budget must be a number from 0 to 1000', (n) => n >= 0 && n <= 1000),
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  # the demo: Cleveland Clinic as one site\n' +
        '  $ twinfed-site run --federation fed-1 --heart-disease 0 --data-dir ./site-a\n' +
        '  # the twin store, with the local API for wearables, at the snapshot time of a simulation\n' +
        '  $ twinfed-site run --federation fed-1 --twins --at 2025-01-29T00:00:00Z --listen 127.0.0.1:8471\n' +
        '  # your own CSV\n' +
        '  $ twinfed-site run --federation fed-1 --data patients.csv --mapping mapping.json --test-fraction 0.3\n' +
        '\nData guardrails: before it sends anything, the site stops (exit status 1, one line naming the problem) when the label\n' +
        'mapping yields one class (DATA_SINGLE_CLASS), a feature column is constant (DATA_FEATURE_CONSTANT) or has no usable\n' +
        "value (DATA_FEATURE_MISSING), or it has fewer training rows than the plan's data.minExamplesPerSite (DATA_TOO_FEW_ROWS).\n" +
        '\nThe plan: the site trains only on the plan the coordinator signed (PLAN_SIGNATURE_INVALID otherwise), never on a plan\n' +
        'that changed since it took part (PLAN_CHANGED), and only on a plan this site approved, checked again at every round:\n' +
        '  - a plan that breaks a rule of the site policy (<data-dir>/policy.json, docs/site-policy.md) or of the privacy floors\n' +
        '    --require-secure-aggregation, --require-dp, --max-epsilon (the stricter of the two wins) is refused (PLAN_REJECTED,\n' +
        '    naming the rules; recorded as rejected by policy unless the policy sets "autoReject": false);\n' +
        '  - a plan a person rejected is refused (PLAN_REJECTED); one nobody approved, or whose approval was revoked, or whose\n' +
        '    hash changed since it was approved, is refused (PLAN_NOT_APPROVED) unless the policy sets "autoApprove": true:\n' +
        '    run `twinfed-site plans show <federation>` then `twinfed-site plans approve <federation>`.\n' +
        '--min-population-k raises the k below which this site suppresses population cells, whatever the plan says.\n' +
        '\nExit status: 0 when the federation completes or is stopped, 3 when it fails, 130 on Ctrl-C, 1 on errors\n' +
        '(PLAN_NOT_APPROVED, PLAN_REJECTED, POLICY_INVALID, a data guardrail, …: one line naming the code).',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<RunFlags>();
      const source = dataSource(flags);
      const { config, logger } = commandContext(deps, {
        ...flags,
        ...(flags.pollInterval !== undefined ? { pollIntervalMs: flags.pollInterval } : {}),
        ...(flags.populationEpsilonBudget !== undefined
          ? { populationEpsilonBudget: flags.populationEpsilonBudget }
          : {}),
        privacy: {
          ...(flags.requireSecureAggregation ? { requireSecureAggregation: true } : {}),
          ...(flags.requireDp ? { requireDp: true } : {}),
          ...(flags.maxEpsilon !== undefined ? { maxEpsilon: flags.maxEpsilon } : {}),
          ...(flags.minPopulationK !== undefined ? { minPopulationK: flags.minPopulationK } : {}),
        },
      });
      const enrollment = loadEnrollment(config.dataDir);
      const { access, http, credentials } = siteHttp(deps, config, enrollment, logger);
      const journal = Journal.open(config.dataDir);
      const audit = new SiteAuditLog(config.dataDir, () => `site:${enrollment.state.siteId}`);
      const decisions = new PlanDecisions(audit);
      const policy = sitePolicySource({
        dataDir: config.dataDir,
        floors: config.privacy,
        onFileChange: (digest) => decisions.notePolicy(digest),
      });
      policy(); // an invalid policy file stops the site before anything else (POLICY_INVALID)
      if (flags.rejects && source?.kind !== 'csv')
        throw new TwinfedError('CONFIG_INVALID', '--rejects goes with --data <csv> --mapping <json>.');
      const loaded = source ? loadLocalData(source, flags.rejects ? { rejectsFile: flags.rejects } : {}) : null;
      if (loaded) announceData(loaded, flags, deps);
      if (flags.backend) await initBackend({ prefer: flags.backend });
      const twins: TwinRun | null = source
        ? null
        : await setupTwinRun({ deps, flags, config, logger, enrollment, http, policy });
      if (twins) {
        const c = twins.counts;
        if (flags.json)
          writeJsonLine(deps.stdout, {
            type: 'data',
            source: 'twin store',
            patients: c.patients,
            observations: c.observations,
            at: flags.at !== undefined ? new Date(flags.at).toISOString() : null,
          });
        else
          deps.stdout.write(
            `Local data: the twin store (${c.patients} patients, ${c.observations} observations), rebuilt at the start of every round.\n`,
          );
      }
      const api = new CoordinatorClient(http);
      // The same endpoint list as every HTTP transport of this site: the stream follows their fail-over.
      const events = flags.push
        ? new EventStream({
            baseUrl: http.baseUrl,
            credentials,
            logger,
            ...(access.ca !== undefined ? { ca: access.ca } : {}),
          })
        : undefined;
      const runner = new SiteRunner({
        federationId: flags.federation,
        enrollment,
        api,
        ...(loaded
          ? {
              dataset: loaded.dataset,
              afterVersion: tabularVersionHook({
                federationId: flags.federation,
                models: new ModelStore(config.dataDir, enrollment.coordinator.signPublicKey),
              }),
            }
          : {}),
        ...(twins ? { datasetSource: twins.datasetSource, afterVersion: twins.afterVersion } : {}),
        journal,
        policy,
        audit,
        decisionChannel: coordinatorDecisions(api),
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
        else
          deps.stdout.write(
            `Done: ${summary.roundsUploaded.length} updates uploaded, ${summary.versionsEvaluated.length} versions evaluated by this process.\n`,
          );
        setExitCode(summary.state === 'failed' ? RUN_EXIT.federationFailed : RUN_EXIT.ok);
      } finally {
        off();
        await twins?.close();
      }
    });
}

function announceData(loaded: LoadedData, flags: RunFlags, deps: CliDeps): void {
  const { train, test } = loaded.dataset;
  const rejectedLines = loaded.rejected.slice(0, SHOWN_REJECTED_LINES).map((r) => r.line);
  if (flags.json)
    writeJsonLine(deps.stdout, {
      type: 'data',
      source: loaded.description,
      trainRows: train.n,
      testRows: test.n,
      rejectedRows: loaded.rejectedRows,
      rejectedReasons: loaded.rejectedReasons,
      rejectedLines,
    });
  else deps.stdout.write(`Local data: ${train.n + test.n} rows from ${loaded.description}.\n`);
  if (loaded.rejectedRows > 0 && !flags.json) {
    const reasons = Object.entries(loaded.rejectedReasons)
      .map(([r, n]) => `${n}× ${r}`)
      .join(', ');
    const all = flags.rejects ? `all of them in ${flags.rejects}` : 'all of them with --rejects <file>';
    deps.stderr.write(
      `warning: ${loaded.rejectedRows} rows rejected (${reasons}): ${rejectedLinesText(loaded.rejected, SHOWN_REJECTED_LINES)}; ${all}.\n`,
    );
  }
}

/** The tabular data source, or null for --twins. */
function dataSource(flags: RunFlags): DataSource | null {
  if (!flags.twins && (flags.at !== undefined || flags.listen))
    throw new TwinfedError('CONFIG_INVALID', '--at and --listen go with --twins.');
  if (flags.twins) return null;
  if (flags.heartDisease !== undefined) return { kind: 'heart-disease', center: flags.heartDisease };
  if (!flags.data || !flags.mapping) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      'Give the local data: --twins, --heart-disease <center>, or both --data <csv> and --mapping <json>.',
    );
  }
  return {
    kind: 'csv',
    csvPath: flags.data,
    mappingPath: flags.mapping,
    testFraction: flags.testFraction,
    splitSeed: flags.splitSeed,
  };
}
