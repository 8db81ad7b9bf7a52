/**
 * `twinfed-site privacy ledger`: the privacy this site spent, as the coordinator accounts it — ε and δ of every
 * federation this site contributed an update to (the ε signed into the federation's latest version) and their basic
 * composition (Σ ε, Σ δ; unbounded when one federation had no differential privacy).
 */
import type { Command } from 'commander';
import { printable, type PrivacyLedger, type PrivacySpend } from '@twinfed/shared';
import { loadEnrollment } from '../../identity/load';
import { CoordinatorClient } from '../../transport/coordinator-client';
import { commandContext, dataDirOption, siteHttp, writeJsonLine, type CliDeps, type CommonFlags } from '../context';
import { coordinatorOption } from '../parse';

interface LedgerFlags extends CommonFlags {
  coordinator?: string[];
  ca?: string;
  insecureHttp?: boolean;
}

const eps = (x: number | null) => (x === null ? 'unbounded (no DP)' : x.toFixed(2));

function spendLine(f: PrivacySpend): string {
  const head = `  ${f.federationName} (${f.federationId}, ${f.state}): `;
  if (f.epsilon === null)
    return `${head}no differential privacy: ε unbounded; ${f.versionsContributed} version(s) contributed`;
  return (
    `${head}ε ${eps(f.epsilon)} after ${f.releases} release(s) (${eps(f.plannedEpsilon)} when complete), δ ${f.delta}, ` +
    `${f.mechanism === 'skellam' ? 'distributed DP (Skellam)' : 'central DP (Gaussian)'}; ${f.versionsContributed} version(s) contributed`
  );
}

/** The ledger in words, one federation a line, then the composed total. */
function ledgerText(ledger: PrivacyLedger): string {
  const own = ledger.sites[0];
  if (!own) return 'This site has not contributed to any federation: no privacy spent.\n';
  const t = own.total;
  const lines = [
    `Privacy ledger of "${own.siteName}" (site-level DP: add/remove of this site's whole data)`,
    ...own.federations.map(spendLine),
    t.epsilon === null
      ? `Total: ε unbounded: ${t.federationsWithoutDp} federation(s) without differential privacy; Σ δ ${t.delta} over the others`
      : `Total (basic composition, Σ ε and Σ δ): ε ${eps(t.epsilon)}, δ ${t.delta}; ε ${eps(t.plannedEpsilon)} when every plan completes`,
  ];
  return printable(`${lines.join('\n')}\n`, { keepNewlines: true });
}

/** Adds `privacy ledger`. */
export function addPrivacyCommand(program: Command, deps: CliDeps): void {
  const privacy = program
    .command('privacy')
    .summary('the differential privacy this site spent across federations')
    .description(
      'What the federations this site took part in spent of its privacy, as the coordinator accounts it (site-level ' +
        'differential privacy: the guarantee covers adding or removing this site’s whole data).',
    );
  privacy
    .command('ledger')
    .description(
      'Each federation this site contributed an update to, with the ε signed into its latest version, its δ and ' +
        'mechanism, and the total by basic composition (Σ ε, Σ δ; unbounded when one had no DP).',
    )
    .addOption(dataDirOption())
    .addOption(coordinatorOption('override the coordinator URL stored at enrollment'))
    .option('--ca <pem>', 'CA certificate (PEM) to trust for the coordinator (or TWINFED_CA)')
    .option('--insecure-http', 'allow plain http:// to a coordinator that is not on this machine')
    .addHelpText('after', '\nExamples:\n  $ twinfed-site privacy ledger\n  $ twinfed-site --json privacy ledger')
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<LedgerFlags>();
      const { config, logger } = commandContext(deps, flags);
      const enrollment = loadEnrollment(config.dataDir);
      const api = new CoordinatorClient(siteHttp(deps, config, enrollment, logger).http);
      const ledger = await api.privacyLedger();
      if (flags.json) return writeJsonLine(deps.stdout, ledger);
      deps.stdout.write(ledgerText(ledger));
    });
}
