/**
 * The `twinfed` operator CLI as a commander program that never touches the real process: environment,
 * output streams, fetch and the coordinator runtime are injected, so tests run it in-process.
 */
import { Command } from 'commander';
import { registerAudit } from './commands/audit';
import { registerCoordinator } from './commands/coordinator';
import { registerFederations } from './commands/federations';
import { registerModels } from './commands/models';
import { registerPlan } from './commands/plan';
import { registerPopulation } from './commands/population';
import { registerSites } from './commands/sites';
import { registerStats } from './commands/stats';
import { registerStudies } from './commands/studies';
import { registerTls } from './commands/tls';
import { registerTokens } from './commands/tokens';
import type { CliDeps } from './context';
import { reportError } from './report-error';

export type { CliDeps, CoordinatorRuntime, OnSignal, StartOverrides } from './context';

const OVERVIEW = `
Typical session:
  $ twinfed coordinator start --data-dir ./consortium          # terminal 1
  $ export TWINFED_URL=http://127.0.0.1:8470                   # terminal 2, same host
  $ twinfed --data-dir ./consortium sites invite "St Mary Hospital"
  $ twinfed plan check plan.json                              # validate a plan locally (see docs/plan.md)
  $ twinfed --data-dir ./consortium studies create "Heart 2026"
  $ twinfed --data-dir ./consortium federations create --plan plan.json --study <study id>
  $ twinfed --data-dir ./consortium tokens create "Dr Ada Lovelace" --study <study id>
  $ twinfed --data-dir ./consortium federations status
  $ twinfed --data-dir ./consortium models export <version> --out ./model-bundle
  $ twinfed stats query --study <id> --file query.json --wait  # cohort statistics before a plan (docs/cohort-statistics.md)

Remote coordinator: use https:// (--ca ca.pem for a private consortium CA); plain http is refused except to
this machine (127.0.0.1, localhost, ::1) unless --insecure-http.

Environment: TWINFED_URL, TWINFED_TOKEN, TWINFED_DATA_DIR, TWINFED_CA, TWINFED_INSECURE_HTTP (and the coordinator's
TWINFED_HOST, TWINFED_PORT, TWINFED_TLS_CERT, TWINFED_TLS_KEY, TWINFED_TRUST_PROXY, …).
Errors print one line "twinfed: <message> (<CODE>)"; exit status 1, or 2 for invalid input (bad plan, bad flag).
`;

/** Builds the program. Call `parseAsync(argv, { from: 'user' })`; errors surface as exceptions (exitOverride). */
export function createProgram(deps: CliDeps): Command {
  const program = new Command('twinfed');
  program
    .description(
      'Operator CLI of a twinfed coordinator: run it, enroll hospitals, start federations, inspect and export models.',
    )
    .option('--url <url>', 'coordinator URL (default TWINFED_URL or http://127.0.0.1:8470)')
    .option('--token <token>', 'operator bearer token (default TWINFED_TOKEN, else <data-dir>/operator.token)')
    .option('--data-dir <dir>', "the coordinator's data directory (default TWINFED_DATA_DIR or ./.twinfed)")
    .option(
      '--ca <pem>',
      "CA certificate (PEM) that signed the coordinator's TLS certificate, for a private consortium CA (default TWINFED_CA; else the system's CAs)",
    )
    .option(
      '--insecure-http',
      'allow plain http:// to a host that is not this machine (default: refused; or TWINFED_INSECURE_HTTP=1)',
    )
    .option('--json', 'print machine-readable JSON (one line) instead of text')
    .option('--debug', 'log each request to stderr and show stack traces on errors')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (s) => deps.stdout.write(s),
      writeErr: (s) => deps.stderr.write(s),
      outputError: (s, write) => write(`twinfed: ${s.replace(/^error:\s*/, '').trim()}; see --help (BAD_REQUEST)\n`),
    })
    .exitOverride()
    .addHelpText('after', OVERVIEW);
  registerCoordinator(program, deps);
  registerSites(program, deps);
  registerTokens(program, deps);
  registerStudies(program, deps);
  registerPlan(program, deps);
  registerFederations(program, deps);
  registerModels(program, deps);
  registerPopulation(program, deps);
  registerStats(program, deps);
  registerTls(program, deps);
  registerAudit(program, deps);
  return program;
}

/** Runs `argv` (without `node` and the script) and returns the exit status; errors are written to `deps.stderr`. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const program = createProgram(deps);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    const debug = argv.includes('--debug');
    return reportError(e, { stderr: deps.stderr, debug });
  }
}
