/**
 * The site-level privacy ledger: what each federation spent of each site's privacy, composed across federations.
 * A site spends a federation's ε when it contributed an update to at least one of its published versions; it is
 * charged the whole ε the federation's latest version is signed with (every release so far, as if it took part in
 * each: an upper bound). Across federations the ledger composes by basic composition (ε = Σ ε, δ = Σ δ), which holds
 * for any mix of mechanisms and plans chosen adaptively; a federation without DP makes the total unbounded.
 * (docs/decisions.md, "Site-level privacy ledger".)
 */
import { PlanSchema, dpMechanism, planEpsilon, type PrivacySpend, type SitePrivacyLedger } from '@twinfed/shared';
import type { Federation, ModelVersion, Site } from '../store';

/** The ledger's inputs: the federations (already scoped to the caller), every version of them, and the sites to name. */
interface LedgerInput {
  federations: readonly Federation[];
  versions: readonly ModelVersion[];
  sites: readonly Pick<Site, 'id' | 'name'>[];
}

const contributorsOf = (v: ModelVersion): string[] => {
  const list: unknown = v.meta.contributors;
  if (!Array.isArray(list)) return [];
  return (list as unknown[]).flatMap((c) => {
    const id = c && typeof c === 'object' ? (c as { siteId?: unknown }).siteId : undefined;
    return typeof id === 'string' ? [id] : [];
  });
};

const numberOr = (x: unknown, fallback: number): number => (typeof x === 'number' && Number.isFinite(x) ? x : fallback);

/** One federation's spend, for each site that contributed to it. */
function federationSpends(f: Federation, versions: readonly ModelVersion[]): Map<string, PrivacySpend> {
  const plan = PlanSchema.parse(f.plan);
  const dp = plan.privacy.dp;
  const published = versions.filter((v) => v.federationId === f.id).sort((a, b) => a.round - b.round);
  const latest = published.at(-1);
  const contributed = new Map<string, number>();
  for (const v of published) for (const s of contributorsOf(v)) contributed.set(s, (contributed.get(s) ?? 0) + 1);
  const out = new Map<string, PrivacySpend>();
  for (const [siteId, versionsContributed] of contributed) {
    out.set(siteId, {
      federationId: f.id,
      federationName: f.name,
      studyId: f.studyId,
      state: f.state,
      mechanism: dp ? dpMechanism(plan) : null,
      epsilon: dp ? numberOr(latest?.meta.dpEpsilon, 0) : null,
      plannedEpsilon: dp ? planEpsilon(plan) : null,
      delta: dp ? dp.delta : null,
      releases: dp ? numberOr((latest?.meta.metrics as Record<string, unknown> | undefined)?.dpRounds, 0) : 0,
      versionsContributed,
      latestVersionId: latest?.id ?? null,
    });
  }
  return out;
}

/** Basic composition of one site's spends (see the module comment). */
export function composeSpends(spends: readonly PrivacySpend[]): SitePrivacyLedger['total'] {
  const withoutDp = spends.filter((s) => s.epsilon === null).length;
  const sum = (xs: ReadonlyArray<number | null>) => xs.reduce<number>((a, x) => a + (x ?? 0), 0);
  return {
    epsilon: withoutDp ? null : sum(spends.map((s) => s.epsilon)),
    plannedEpsilon: withoutDp ? null : sum(spends.map((s) => s.plannedEpsilon)),
    delta: sum(spends.map((s) => s.delta)),
    federationsWithoutDp: withoutDp,
  };
}

/**
 * Every site's ledger over the given federations, sites in name order (then id), each site's federations in
 * creation order; sites that contributed to none are left out. `onlySite` keeps that site's entry alone.
 */
export function privacyLedger(input: LedgerInput, onlySite?: string): SitePrivacyLedger[] {
  const bySite = new Map<string, PrivacySpend[]>();
  const federations = [...input.federations].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const f of federations)
    for (const [siteId, spend] of federationSpends(f, input.versions)) {
      if (onlySite !== undefined && siteId !== onlySite) continue;
      bySite.set(siteId, [...(bySite.get(siteId) ?? []), spend]);
    }
  const names = new Map(input.sites.map((s) => [s.id, s.name]));
  return [...bySite]
    .map(([siteId, federations]) => ({
      siteId,
      siteName: names.get(siteId) ?? siteId,
      federations,
      total: composeSpends(federations),
    }))
    .sort((a, b) => a.siteName.localeCompare(b.siteName) || a.siteId.localeCompare(b.siteId));
}
