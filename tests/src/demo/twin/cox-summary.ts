import type { Progress } from '../federation-run';
import type { CoxComparison } from './compare';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const f3 = (x: number) => (Number.isNaN(x) ? '  -  ' : x.toFixed(3));
/** Mean of the finite values (a test split without a comparable pair has no C-index), NaN without any. */
const meanOf = (xs: readonly number[]) => {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
};

/**
 * The `cox` part of the twin demo's summary: the federated Cox model's and each hospital's local-only model's
 * C-index on the OTHER hospitals' held-out twins (mean over those hospitals), the overall means, and, as a cross-check
 * computed elsewhere, the C-index each site reported to the coordinator for the final version on its own held-out
 * twins (the federated model on the same twins: their mean equals `federatedCIndex` when every split has one).
 */
export function coxSummary(o: { rows: CoxComparison[]; final: Progress; horizonDays: number }) {
  const { rows, final } = o;
  const federatedBySite = Object.fromEntries(rows.map((r) => [r.site, meanOf(r.federated)]));
  const localOnly = Object.fromEntries(rows.map((r) => [r.site, meanOf(r.localOnly)]));
  const versionId = final.federation.latestVersionId;
  const evaluations = versionId ? (final.evaluations.get(versionId) ?? []) : [];
  const siteReported: Record<string, number> = {};
  for (const [name, id] of final.siteIds) {
    const c = evaluations.find((e) => e.siteId === id)?.metrics.cIndex;
    if (c !== undefined && rows.some((r) => r.site === name)) siteReported[name] = c;
  }
  return {
    horizonDays: o.horizonDays,
    federatedCIndex: meanOf(Object.values(federatedBySite)),
    meanLocalOnlyCIndex: meanOf(Object.values(localOnly)),
    localOnlyCIndex: localOnly,
    federatedCIndexBySite: federatedBySite,
    sites: rows.map((r) => ({
      name: r.site,
      evaluatedOn: r.evaluatedOn,
      testTwins: r.testTwins,
      testEvents: r.testEvents,
      federatedCIndex: federatedBySite[r.site]!,
      localOnlyCIndex: localOnly[r.site]!,
    })),
    finalVersionSiteCIndex: siteReported,
  };
}

/** The printed comparison of {@link coxSummary}. */
export function coxTable(s: ReturnType<typeof coxSummary>): string {
  return [
    `C-index of the risk of pneumonia within ${s.horizonDays} days, on the OTHER hospitals’ held-out twins (mean over those hospitals):`,
    `${pad('site', 21)}${pad('local-only', 12)}${pad('federated', 12)}held-out twins (events)`,
    ...s.sites.map(
      (r) =>
        `${pad(r.name, 21)}${pad(f3(r.localOnlyCIndex), 12)}${pad(f3(r.federatedCIndex), 12)}${r.testTwins} (${r.testEvents})`,
    ),
    `${pad('mean', 21)}${pad(f3(s.meanLocalOnlyCIndex), 12)}${f3(s.federatedCIndex)}`,
  ].join('\n');
}
