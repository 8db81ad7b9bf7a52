import type { PopulationReport } from '@twinfed/shared';

/** One site's latest report, as the population view lists it. */
interface SiteRollup {
  siteId: string;
  name: string;
  versionId: string;
  at: string;
  k: number;
  epsilon: number | null;
  /** Released total of scored twins (null: suppressed at the site). */
  total: number | null;
  byTier: Array<{ tier: string; count: number | null }>;
  /** Count in the highest tier (the last of the report's tiers), null when suppressed. */
  highRisk: number | null;
}

/** The consortium-wide population picture built from sites' k-suppressed reports. */
interface PopulationView {
  versionIds: string[];
  sites: SiteRollup[];
  /** Per tier: the sum of released counts across sites, and how many sites suppressed that total. */
  tiers: Array<{ tier: string; count: number; suppressedSites: number }>;
  /** Per tier × age band: the sum of released cells across sites, and how many sites suppressed the cell. */
  cells: Array<{ tier: string; ageBand: string; count: number; suppressedSites: number }>;
  /** Vaccine-priority view: sites ranked by high-risk count, most first; suppressed counts last. */
  ranking: Array<{ rank: number; siteId: string; name: string; highRisk: number | null }>;
}

/**
 * Rolls up the latest report of each site. Only what the sites released is summed: a suppressed cell stays
 * unknown (counted in `suppressedSites`), never inferred. Pure: the caller loads the reports.
 */
export function populationView(
  reports: Array<{ siteId: string; name: string; versionId: string; report: PopulationReport }>,
): PopulationView {
  const latest = new Map<string, (typeof reports)[number]>();
  for (const r of reports) latest.set(r.siteId, r); // reports arrive in publication order: the last wins
  const sites: SiteRollup[] = [...latest.values()].map(({ siteId, name, versionId, report }) => {
    const high = report.tiers[report.tiers.length - 1]!;
    return {
      siteId,
      name,
      versionId,
      at: report.at,
      k: report.k,
      epsilon: report.epsilon,
      total: report.totals.all,
      byTier: report.totals.byTier,
      highRisk: report.totals.byTier.find((t) => t.tier === high)?.count ?? null,
    };
  });
  const tiers = new Map<string, { count: number; suppressedSites: number }>();
  const cells = new Map<string, { tier: string; ageBand: string; count: number; suppressedSites: number }>();
  for (const { report } of latest.values()) {
    for (const t of report.totals.byTier) {
      const acc = tiers.get(t.tier) ?? { count: 0, suppressedSites: 0 };
      if (t.count === null) acc.suppressedSites++;
      else acc.count += t.count;
      tiers.set(t.tier, acc);
    }
    for (const c of report.cells) {
      const k = `${c.tier}\u0000${c.ageBand}`;
      const acc = cells.get(k) ?? { tier: c.tier, ageBand: c.ageBand, count: 0, suppressedSites: 0 };
      if (c.count === null) acc.suppressedSites++;
      else acc.count += c.count;
      cells.set(k, acc);
    }
  }
  const ranked = [...sites].sort((a, b) => (b.highRisk ?? -1) - (a.highRisk ?? -1) || a.name.localeCompare(b.name));
  return {
    versionIds: [...new Set(sites.map((s) => s.versionId))],
    sites,
    tiers: [...tiers.entries()].map(([tier, v]) => ({ tier, ...v })),
    cells: [...cells.values()],
    ranking: ranked.map((s, i) => ({ rank: i + 1, siteId: s.siteId, name: s.name, highRisk: s.highRisk })),
  };
}
