/** `twinfed-site audit verify|list`: the site's own hash-chained record of what it did, read from the data directory. */
import { Command, InvalidArgumentError } from 'commander';
import { TwinfedError, printable } from '@twinfed/shared';
import { SiteAuditLog } from '../../audit/site-audit';
import { commandContext, dataDirOption, writeJsonLine, type CliDeps, type CommonFlags } from '../context';

function intArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** Adds `audit verify` and `audit list`. */
export function addAuditCommand(program: Command, deps: CliDeps): void {
  const audit = program
    .command('audit')
    .summary("verify or list the site's own audit chain")
    .description(
      'The site keeps a hash-chained record of what it did in <data-dir>/audit.jsonl: enrolled, trained round N of federation F, ' +
        'uploaded update digest D, refused model version V, refused its data by a guardrail; approved, rejected or revoked ' +
        'plan P (who, by hand or by policy), changed its policy; answered a cohort query. Works offline.',
    );
  audit
    .command('verify')
    .description(
      'Check the whole chain; names the first entry that was edited, removed, inserted or moved and exits 1.',
    )
    .addOption(dataDirOption())
    .action((_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<CommonFlags>();
      const { config } = commandContext(deps, flags);
      const log = new SiteAuditLog(config.dataDir);
      const report = log.verify();
      if (flags.json) writeJsonLine(deps.stdout, report);
      else {
        const lines = [
          `Site audit chain ${log.file}: ${report.ok ? 'INTACT' : 'NOT INTACT'}`,
          `  entries verified: ${report.entries}${report.head ? ` (last seq ${report.head.seq})` : ''}`,
          ...(report.firstBad ? [`  first bad entry:  seq ${report.firstBad.seq}: ${report.firstBad.reason}`] : []),
        ];
        deps.stdout.write(printable(`${lines.join('\n')}\n`, { keepNewlines: true }));
      }
      if (!report.ok)
        throw new TwinfedError(
          'AUDIT_CHAIN_INVALID',
          `The site audit chain does not verify; first bad entry: seq ${report.firstBad!.seq} (${report.firstBad!.reason}).`,
        );
    });
  audit
    .command('list')
    .description('Page through the chain, oldest first.')
    .addOption(dataDirOption())
    .option('--after <seq>', 'only entries after this seq', intArg(0, Number.MAX_SAFE_INTEGER), 0)
    .option('--limit <n>', 'at most this many entries (1–10000)', intArg(1, 10_000), 50)
    .action((opts: { after: number; limit: number }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<CommonFlags>();
      const { config } = commandContext(deps, flags);
      const entries = new SiteAuditLog(config.dataDir).list({ after: opts.after, limit: opts.limit });
      const next = entries.length === opts.limit ? entries[entries.length - 1]!.seq : null;
      if (flags.json) {
        writeJsonLine(deps.stdout, { entries, next });
        return;
      }
      const lines =
        entries.length === 0
          ? ['(no entries)']
          : entries.map((e) => `${e.seq}  ${e.at}  ${e.action}  ${e.subject}  ${JSON.stringify(e.detail)}`);
      if (next !== null) lines.push(`More: twinfed-site audit list --after ${next} --limit ${opts.limit}`);
      deps.stdout.write(printable(`${lines.join('\n')}\n`, { keepNewlines: true }));
    });
}
