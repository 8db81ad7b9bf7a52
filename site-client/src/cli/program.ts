import { inspect } from 'node:util';
import { Command, CommanderError, Option } from 'commander';
import { isTwinfedError } from '@twinfed/shared';
import { LOG_LEVELS } from '../config';
import { addAuditCommand } from './commands/audit';
import { addEnrollCommand } from './commands/enroll';
import { addExportCommand } from './commands/export';
import { addIngestCommand } from './commands/ingest';
import { addPlansCommand } from './commands/plans';
import { addPolicyCommand } from './commands/policy';
import { addPredictCommand } from './commands/predict';
import { addPrivacyCommand } from './commands/privacy';
import { addRunCommand } from './commands/run';
import { addScoreCommand } from './commands/score';
import { addServeCommand } from './commands/serve';
import { addSimulateCommand } from './commands/simulate';
import { addStatsCommand } from './commands/stats';
import { addStatusCommand } from './commands/status';
import type { CliDeps } from './context';

/** Version string of the CLI. */
const CLI_VERSION = '0.1.0';

/**
 * The `twinfed-site` command tree. Output goes through `deps` (never straight to the console), and commander
 * never exits the process itself: {@link runCli} turns every outcome into an exit code.
 */
function createProgram(deps: CliDeps, setExitCode: (code: number) => void = () => undefined): Command {
  const program = new Command('twinfed-site');
  program
    .description(
      "twinfed site client: a hospital's digital twins and its part in federated learning. Patient data stay here " +
        '(the twin store keeps pseudonymous ids; the hospital ids never leave it); only encrypted, signed model updates, ' +
        'aggregate evaluation metrics and k-anonymous population counts go to the coordinator, over outbound HTTPS.',
    )
    .version(CLI_VERSION, '-V, --version', 'print the version')
    .addOption(
      new Option('--log-level <level>', 'log verbosity on stderr (or TWINFED_LOG_LEVEL; default warn)').choices([
        ...LOG_LEVELS,
      ]),
    )
    .option('--json', 'machine-readable output: one JSON object per line on stdout')
    .option('--debug', 'show stack traces and debug logs')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void deps.stdout.write(s), writeErr: (s) => void deps.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nGetting started:\n' +
        '  1. The operator runs `twinfed sites invite "<site name>"` and gives you a one-time token and the coordinator fingerprint.\n' +
        '  2. $ twinfed-site enroll --coordinator https://coordinator.example.org --token <token> --fingerprint <fp>\n' +
        '  3. $ twinfed-site ingest fhir export.ndjson            (load patients into the twin store)\n' +
        '  4. $ twinfed-site plans show <id>, then plans approve <id>   (read the plan in words; approve it for your data)\n' +
        '     or a site policy in <data-dir>/policy.json that approves plans within your rules (docs/site-policy.md)\n' +
        '  5. $ twinfed-site run --federation <id> --twins --listen   (train each round; stream wearables to the local API)\n' +
        '  6. $ twinfed-site score --top 20                       (scores with explanations: decision support)\n' +
        '  7. $ twinfed-site export --federation <id> --out ./model   (the verified model as a bundle; `predict` scores a CSV with it)\n' +
        '  Cohort statistics a researcher asks for: $ twinfed-site stats list, then stats answer <id> or stats refuse <id>\n' +
        '  Tabular data instead: $ twinfed-site run --federation <id> --data patients.csv --mapping mapping.json\n' +
        '  Try it without a hospital: $ twinfed-site simulate --patients 500 --hospital urban-teaching --seed 1 --out ./sim\n' +
        '\nThe coordinator is reached over https (--ca <pem> at enrollment for a private consortium CA, recorded for later\n' +
        '  commands); plain http is refused except to this machine (127.0.0.1, localhost, ::1) unless --insecure-http.\n' +
        '\nEnvironment: TWINFED_SITE_DATA_DIR, TWINFED_COORDINATOR_URL, TWINFED_LOG_LEVEL, TWINFED_POLL_INTERVAL_MS,\n' +
        '  TWINFED_REQUEST_TIMEOUT_MS, TWINFED_HTTP_RETRIES, TWINFED_CA, TWINFED_INSECURE_HTTP, TWINFED_REQUEST_AUTH\n' +
        '  (mac or signature; flags win over the environment).\n' +
        'Run `twinfed-site <command> --help` for the options of a command.',
    );
  addEnrollCommand(program, deps);
  addExportCommand(program, deps);
  addIngestCommand(program, deps, setExitCode);
  addPlansCommand(program, deps);
  addPolicyCommand(program, deps, setExitCode);
  addPredictCommand(program, deps);
  addPrivacyCommand(program, deps);
  addRunCommand(program, deps, setExitCode);
  addScoreCommand(program, deps);
  addServeCommand(program, deps);
  addSimulateCommand(program, deps);
  addStatsCommand(program, deps);
  addStatusCommand(program, deps);
  addAuditCommand(program, deps);
  return program;
}

/**
 * `twinfed-site export --version <id>`: commander reads `--version` anywhere as the program's own flag (print the CLI
 * version), so after the `export` command it is renamed to that command's `--model-version` before parsing.
 */
function exportVersionAlias(argv: readonly string[]): string[] {
  const args = [...argv];
  let i = 2;
  while (i < args.length && args[i]!.startsWith('-')) i += args[i] === '--log-level' ? 2 : 1;
  if (args[i] !== 'export') return args;
  for (let k = i + 1; k < args.length; k++) {
    if (args[k] === '--') break;
    if (args[k] === '--version') args[k] = '--model-version';
    else if (args[k]!.startsWith('--version=')) args[k] = `--model-version=${args[k]!.slice('--version='.length)}`;
  }
  return args;
}

/**
 * Runs the CLI on `argv` (as `process.argv`: node, script, args…) and resolves with the exit code.
 * Errors become one line on stderr (`error: <message> [CODE]`), with the stack only under `--debug`.
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  let exitCode = 0;
  const program = createProgram(deps, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(exportVersionAlias(argv));
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    const debug = argv.includes('--debug');
    const message = e instanceof Error ? e.message : String(e);
    deps.stderr.write(`error: ${message}${isTwinfedError(e) ? ` [${e.code}]` : ''}\n`);
    if (debug && e instanceof Error)
      deps.stderr.write(
        `${e.stack ?? ''}\n${e.cause ? `cause: ${e.cause instanceof Error ? (e.cause.stack ?? String(e.cause)) : inspect(e.cause)}\n` : ''}`,
      );
    return 1;
  }
}
