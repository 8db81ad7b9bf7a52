/** `twinfed population`: where the high-risk people are, from sites' privacy-safe reports. */
import type { Command } from 'commander';
import { createContext, type CliDeps } from '../context';
import { renderTable } from '../format';

const n = (x: number | null) => (x === null ? `<k` : String(x));

/** Adds the `population` command to `program`. */
export function registerPopulation(program: Command, deps: CliDeps): void {
  program
    .command('population')
    .description(
      'Show the population view: each site’s latest report of scored twins per risk tier (cells under k are suppressed ' +
        'at the site and shown as <k), the totals across sites, and the sites ranked by high-risk count (where to send vaccines first).',
    )
    .option('--federation <id>', 'the federation (default: the newest)')
    .option('--version <id>', 'one model version instead of each site’s latest report')
    .addHelpText('after', '\nExamples:\n  $ twinfed population\n  $ twinfed population --federation fed-1a2b3c4d --json\n')
    .action(async (opts: { federation?: string; version?: string }, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const view = await ctx.client.population({ ...(opts.federation ? { federationId: opts.federation } : {}), ...(opts.version ? { versionId: opts.version } : {}) });
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
