/** `twinfed population`: where the high-risk people are, from sites' privacy-safe reports. */
import type { Command } from 'commander';
import type { PopulationView } from '@twinfed/shared';
import { createContext, type CliDeps, type CommandContext } from '../context';
import { printable, renderTable } from '../format';

const n = (x: number | null) => (x === null ? `<k` : String(x));

/** Why the view is empty: no federation, a plan without population settings, or no site has reported yet. */
async function whyEmpty(ctx: CommandContext, view: PopulationView, versionId: string | undefined): Promise<string> {
  const federationId = view.federationId ?? (versionId ? (await ctx.client.getModel(versionId)).federationId : null);
  if (federationId === null) return 'No population reports: there is no federation yet.';
  const federation = await ctx.client.getFederation(federationId);
  const id = printable(federation.id);
  if (!federation.plan.data.population) {
    return (
      `No population reports: the plan of federation ${id} has no population settings (data.population), so its sites do not report population counts.\n` +
      'Start a federation whose plan has data.population (and run the sites with --twins) to get this view.'
    );
  }
  const published = federation.latestVersionId ? '' : ` No version of ${id} is published yet.`;
  return `No population reports yet: only sites that run with --twins report population counts, after the first published version.${published}`;
}

/** Adds the `population` command to `program`. */
export function registerPopulation(program: Command, deps: CliDeps): void {
  program
    .command('population')
    .description(
      'Show the population view: each site’s latest report of scored twins per risk tier (cells under k are suppressed ' +
        'at the site and shown as <k), the totals across sites, and the sites ranked by high-risk count (where to send vaccines first). ' +
        'Only sites running with --twins report, for federations whose plan has data.population; an empty view says which of these is missing.',
    )
    .option('--federation <id>', 'the federation (default: the newest)')
    .option('--version <id>', 'one model version instead of each site’s latest report')
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed population\n  $ twinfed population --federation fed-1a2b3c4d --json\n',
    )
    .action(async (opts: { federation?: string; version?: string }, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const view = await ctx.client.population({
        ...(opts.federation ? { federationId: opts.federation } : {}),
        ...(opts.version ? { versionId: opts.version } : {}),
      });
      if (view.sites.length === 0 && !ctx.json) {
        ctx.print(
          `Population view${view.federationId ? ` of ${view.federationId}` : ''}\n${await whyEmpty(ctx, view, opts.version)}`,
        );
        return;
      }
      ctx.emit(view, () =>
        [
          `Population view${view.federationId ? ` of ${view.federationId}` : ''} (versions ${view.versionIds.join(', ') || '—'})`,
          renderTable(view.ranking, [
            { header: 'RANK', cell: (r) => String(r.rank) },
            { header: 'SITE', cell: (r) => r.name },
            { header: 'HIGH RISK', cell: (r) => n(r.highRisk) },
            { header: 'ALL SCORED', cell: (r) => n(view.sites.find((s) => s.siteId === r.siteId)?.total ?? null) },
          ]),
          'Across sites (released counts only):',
          renderTable(view.tiers, [
            { header: 'TIER', cell: (t) => t.tier },
            { header: 'COUNT', cell: (t) => String(t.count) },
            { header: 'SITES SUPPRESSED', cell: (t) => String(t.suppressedSites) },
          ]),
        ].join('\n'),
      );
    });
}
