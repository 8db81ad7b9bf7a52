import type { Round, Site, Store } from '../store';
import { sortSiteIds } from './accumulators';

/** A site's recent record in one federation. */
interface SiteAttendance {
  /** Closed rounds in a row, most recent first, in which the site was selected and sent nothing. */
  missed: number;
  /** When the most recent of those rounds closed (null when `missed` is 0). */
  lastMissedAt: string | null;
}

/** How far back the streak is counted (a longer streak is shown as this many). */
const ATTENDANCE_LOOKBACK = 100;

/**
 * Each site's streak of missed rounds, derived from the stored rounds and updates only: nothing is
 * incremented, so a crash at any point can neither lose nor double-count a miss (the result is a pure
 * function of the store). Walks closed rounds from the newest until every site's streak has ended.
 */
async function attendanceOf(opts: {
  store: Store;
  rounds: readonly Round[];
  siteIds: readonly string[];
  lookback?: number;
}): Promise<Map<string, SiteAttendance>> {
  const out = new Map<string, SiteAttendance>(opts.siteIds.map((id) => [id, { missed: 0, lastMissedAt: null }]));
  const open = new Set(opts.siteIds);
  const closed = opts.rounds
    .filter((r) => r.state === 'published' || r.state === 'failed')
    .sort((a, b) => b.round - a.round);
  for (const round of closed.slice(0, opts.lookback ?? ATTENDANCE_LOOKBACK)) {
    if (open.size === 0) break;
    const selected = round.selectedSiteIds.filter((s) => open.has(s));
    if (selected.length === 0) continue;
    const answered = new Set(
      (await opts.store.listUpdateSummaries(round.federationId, round.round)).map((u) => u.siteId),
    );
    for (const siteId of selected) {
      const a = out.get(siteId)!;
      if (answered.has(siteId)) {
        open.delete(siteId);
        continue;
      }
      a.missed++;
      a.lastMissedAt ??= round.closedAt ?? round.deadlineAt;
    }
  }
  return out;
}

/** The outcome of {@link eligibleSites}. */
interface Eligibility {
  /** Sorted ids selection may draw from. */
  available: string[];
  /** Sorted ids skipped as absent (missed `maxMissedRounds` in a row and not seen since). */
  skipped: string[];
}

/**
 * The sites a new round may select: enrolled, not revoked, admitted by their decisions on the plan, and not absent. A site is absent when it missed
 * `maxMissedRounds` selected rounds in a row and has not been seen (signed request or socket) since the
 * last of them closed; it comes back as soon as it is seen. When skipping the absent would leave fewer
 * than `minSites`, nobody is skipped (a round that can still succeed beats one that surely fails).
 * Also brings each site's stored `missedRounds` up to date (for operators), writing only changes.
 */
export async function eligibleSites(opts: {
  store: Store;
  rounds: readonly Round[];
  maxMissedRounds: number;
  minSites: number;
  /** A fresher last-seen time than the stored one (ISO), when known. */
  lastSeen?: (siteId: string) => string | null;
  /** Whether the sites' decisions on the plan let selection draw a site (governance.ts); default every site. */
  admits?: (siteId: string) => boolean;
}): Promise<Eligibility> {
  const sites = (await opts.store.listSites()).filter((s) => !s.revokedAt);
  const record = await attendanceOf({ store: opts.store, rounds: opts.rounds, siteIds: sites.map((s) => s.id) });
  const present: string[] = [];
  const absent: string[] = [];
  for (const site of sites) {
    const a = record.get(site.id)!;
    if (a.missed !== site.missedRounds) await opts.store.setMissedRounds(site.id, a.missed);
    if (opts.admits && !opts.admits(site.id)) continue;
    const fresh = opts.lastSeen?.(site.id) ?? null;
    const lastSeenAt =
      fresh !== null && (site.lastSeenAt === null || fresh > site.lastSeenAt) ? fresh : site.lastSeenAt;
    (isAbsent({ ...site, lastSeenAt }, a, opts.maxMissedRounds) ? absent : present).push(site.id);
  }
  if (present.length < opts.minSites) return { available: sortSiteIds([...present, ...absent]), skipped: [] };
  return { available: sortSiteIds(present), skipped: sortSiteIds(absent) };
}

function isAbsent(site: Site, a: SiteAttendance, maxMissedRounds: number): boolean {
  if (a.missed < maxMissedRounds) return false;
  return site.lastSeenAt === null || a.lastMissedAt === null || site.lastSeenAt <= a.lastMissedAt;
}
