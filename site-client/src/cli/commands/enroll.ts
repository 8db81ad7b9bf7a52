import type { Command } from 'commander';
import { enroll } from '../../identity/enroll';
import {
  commandContext,
  coordinatorAccess,
  dataDirOption,
  writeJsonLine,
  type CliDeps,
  type CommonFlags,
} from '../context';
import { coordinatorOption } from '../parse';

interface EnrollFlags extends CommonFlags {
  coordinator?: string[];
  token: string;
  force?: boolean;
  fingerprint?: string;
  ca?: string;
  insecureHttp?: boolean;
}

/** `twinfed-site enroll`: create this site's keys, enroll with a one-time token, pin the coordinator's keys. */
export function addEnrollCommand(program: Command, deps: CliDeps): void {
  program
    .command('enroll')
    .summary('enroll this site with a coordinator (once per site)')
    .description(
      "Generate this site's signing and encryption keys, present the one-time enrollment token the operator gave you, " +
        "and pin the coordinator's public keys. Keys are written to the data directory (secret key file mode 0600). " +
        'Compare the printed coordinator fingerprint with the one the operator reads to you.',
    )
    .addOption(coordinatorOption('coordinator base URL (or TWINFED_COORDINATOR_URL)'))
    .requiredOption('--token <token>', 'one-time enrollment token from `twinfed sites invite <name>`')
    .addOption(
      dataDirOption(
        'where to keep keys, pinned keys and the journal (default ./.twinfed-site, or TWINFED_SITE_DATA_DIR)',
      ),
    )
    .option(
      '--fingerprint <fp>',
      'the coordinator fingerprint the operator gave you; enrollment stops before using the token if it differs',
    )
    .option(
      '--ca <pem>',
      "CA certificate (PEM) that signed the coordinator's TLS certificate, for a private consortium CA (or TWINFED_CA); recorded for later commands",
    )
    .option(
      '--insecure-http',
      'allow plain http:// to a coordinator that is not on this machine: the token would cross the network in clear (or TWINFED_INSECURE_HTTP=1)',
    )
    .option('--force', 'replace an existing enrollment in the data directory (its journal is moved aside)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ twinfed-site enroll --coordinator https://coordinator.example.org --token 8Hk…Qe --fingerprint 3f2a-91c0-…\n' +
        '  $ twinfed-site enroll --coordinator https://coordinator.consortium:8470 --ca ca.pem --token 8Hk…Qe --fingerprint 3f2a-91c0-…\n' +
        '  $ twinfed-site enroll --coordinator http://127.0.0.1:8470 --token 8Hk…Qe --data-dir ./site-a --fingerprint 3f2a-91c0-…\n' +
        '\nPlain http is refused except to this machine (127.0.0.1, localhost, ::1). The CA given with --ca is recorded in\n' +
        'site.json and used by `run`; --ca on a later command overrides it.',
    )
    .action(async (_opts: EnrollFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<EnrollFlags>();
      const { config, logger } = commandContext(deps, {
        ...flags,
      });
      const access = coordinatorAccess(deps, config); // refuses plain http to a remote host before the token goes anywhere
      const { state, identityFile } = await enroll({
        coordinatorUrl: access.baseUrls,
        insecureHttp: config.insecureHttp,
        ...(access.ca !== undefined ? { ca: access.ca } : {}),
        token: flags.token,
        dataDir: config.dataDir,
        force: flags.force === true,
        timeoutMs: config.requestTimeoutMs,
        logger,
        ...(flags.fingerprint ? { expectedFingerprint: flags.fingerprint } : {}),
        ...(access.fetch ? { fetch: access.fetch } : {}),
      });
      if (flags.json) {
        writeJsonLine(deps.stdout, {
          siteId: state.siteId,
          name: state.name,
          coordinatorUrls: state.coordinatorUrls,
          coordinatorFingerprint: state.coordinator.fingerprint,
          siteFingerprint: state.fingerprint,
          dataDir: config.dataDir,
          identityFile,
        });
        return;
      }
      deps.stdout.write(
        [
          `Enrolled as site "${state.name}" (id ${state.siteId}) with ${state.coordinatorUrls.join(', ')}.`,
          `Coordinator fingerprint (pinned): ${state.coordinator.fingerprint}`,
          flags.fingerprint
            ? '  It matches the fingerprint you gave.'
            : '  Confirm it with the operator out of band before you run rounds.',
          `This site's fingerprint:          ${state.fingerprint}`,
          `Keys: ${identityFile} (mode 0600). Enrollment: ${config.dataDir}/site.json.`,
          '',
        ].join('\n'),
      );
    });
}
