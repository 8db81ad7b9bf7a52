import type { Command } from 'commander';
import { readSiteState, siteStatePath } from '../../identity/site-state';
import { TwinfedError, fingerprint, printable } from '@twinfed/shared';
import { Journal } from '../../training/journal';
import { commandContext, dataDirOption, writeJsonLine, type CliDeps, type CommonFlags } from '../context';
import { metricsText } from '../render';

/** `twinfed-site status`: enrollment, pinned fingerprint and journal, read from the data directory only. */
export function addStatusCommand(program: Command, deps: CliDeps): void {
  program
    .command('status')
    .summary('show enrollment, pinned coordinator fingerprint and the local journal')
    .description(
      'Show what the data directory holds: who this site is, which coordinator keys it pinned, the uploads it journalled and each evaluation with its metric values (accuracy, AUC, loss, Brier) on the local held-out rows. Works offline.',
    )
    .addOption(dataDirOption())
    .addHelpText('after', '\nExamples:\n  $ twinfed-site status\n  $ twinfed-site status --data-dir ./site-a --json')
    .action((_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<CommonFlags>();
      const { config } = commandContext(deps, flags);
      const state = readSiteState(config.dataDir);
      if (!state)
        throw new TwinfedError(
          'UNKNOWN_SITE',
          `Not enrolled: ${siteStatePath(config.dataDir)} does not exist. Run "twinfed-site enroll" first.`,
        );
      const journal = Journal.open(config.dataDir).snapshot();
      if (flags.json) {
        writeJsonLine(deps.stdout, { dataDir: config.dataDir, site: state, journal });
        return;
      }
      const lines = [
        `Site:          "${state.name}" (id ${state.siteId})`,
        `Data dir:      ${config.dataDir}`,
        `Coordinator:   ${state.coordinatorUrls.join(', ')}`,
        `Coordinator TLS: ${state.coordinatorUrls.every((u) => u.startsWith('https:')) ? (state.tlsCa ? 'trusts the CA given with --ca at enrollment' : "trusts the system's CAs") : 'none (plain http)'}`,
        `Pinned fingerprint: ${state.coordinator.fingerprint}`,
        `Site fingerprint:   ${state.fingerprint}`,
        `Enrolled at:   ${state.enrolledAt}`,
        `Uploads:       ${journal.uploads.length}`,
        ...journal.uploads.map(
          (u) =>
            `  ${u.federationId} round ${u.round}: ${u.status} at ${u.receivedAt} (base ${u.baseVersionId}, digest ${u.digest.slice(0, 12)}…)`,
        ),
        `Evaluations:   ${journal.evaluations.length}`,
        ...journal.evaluations.map(
          (e) =>
            `  ${e.federationId} version ${e.versionId} on ${e.n} test rows: ${e.metrics ? metricsText(e.metrics) : 'metric values not recorded'} (at ${e.at})`,
        ),
        // Peers' keys as the coordinator vouched for them, first seen: compare the fingerprints with the peers out of band.
        `Pinned peers:  ${journal.peers.length}`,
        ...journal.peers.map(
          (p) =>
            `  ${p.siteId}: ${fingerprint({ signPublicKey: p.signPublicKey, boxPublicKey: p.boxPublicKey })} (pinned at ${p.pinnedAt})`,
        ),
      ];
      // The site's name and the coordinator URL came from elsewhere: nothing they hold reaches the terminal raw.
      deps.stdout.write(printable(`${lines.join('\n')}\n`, { keepNewlines: true }));
    });
}
