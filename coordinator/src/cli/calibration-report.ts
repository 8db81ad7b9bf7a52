/** The calibration part of `twinfed federations report`: each site's ECE before and after recalibration. */
import type { FederationEvaluations, RecalibrationSession } from '@twinfed/shared';
import { renderTable } from './format';

/** One site's expected calibration error of the final version (before) and of the recalibrated version (after). */
interface SiteCalibration {
  siteId: string;
  /** Held-out rows the site evaluated on. */
  n: number;
  before: number | null;
  after: number | null;
}

/** What the report says about calibration (also its `--json` form). */
interface CalibrationReport {
  finalVersionId: string | null;
  recalibratedVersionId: string | null;
  recalibration: RecalibrationSession | null;
  sites: SiteCalibration[];
  /** Means over the sites weighted by their rows (null when no site reported one). */
  mean: { before: number | null; after: number | null };
}

function weightedMean(sites: SiteCalibration[], key: 'before' | 'after'): number | null {
  const have = sites.filter((s) => s[key] !== null);
  const n = have.reduce((a, s) => a + s.n, 0);
  return n === 0 ? null : have.reduce((a, s) => a + s.n * s[key]!, 0) / n;
}

/**
 * Pairs each site's calibration of the final version with that of the recalibrated version. The final version is the
 * recalibration's base when there is one, else the newest version.
 */
export function calibrationReport(
  evaluations: FederationEvaluations,
  recalibration: RecalibrationSession | null,
): CalibrationReport {
  const versions = evaluations.versions;
  const finalId = recalibration?.baseVersionId ?? versions.at(-1)?.versionId ?? null;
  const afterId = recalibration?.versionId ?? null;
  const of = (id: string | null) => versions.find((v) => v.versionId === id)?.evaluations ?? [];
  const bySite = new Map<string, SiteCalibration>();
  const row = (siteId: string, n: number) => {
    const r = bySite.get(siteId) ?? { siteId, n, before: null, after: null };
    bySite.set(siteId, r);
    return r;
  };
  for (const e of of(finalId)) if (e.calibration) row(e.siteId, e.n).before = e.calibration.ece;
  for (const e of of(afterId)) if (e.calibration) row(e.siteId, e.n).after = e.calibration.ece;
  const sites = [...bySite.values()].sort((a, b) => (a.siteId < b.siteId ? -1 : 1));
  return {
    finalVersionId: finalId,
    recalibratedVersionId: afterId,
    recalibration,
    sites,
    mean: { before: weightedMean(sites, 'before'), after: weightedMean(sites, 'after') },
  };
}

const ece = (v: number | null): string | null => (v === null ? null : v.toFixed(3));

function recalibrationLine(r: RecalibrationSession | null): string {
  if (!r) return 'recalibration: not in the plan';
  const head = `recalibration (${r.method}): ${r.state}, ${r.contributed.length} of ${r.cohort.length} sites sent their masked histograms`;
  if (r.state === 'fitted' && r.params) {
    const p = r.params;
    const fit =
      p.method === 'temperature' ? `T = ${(1 / p.a).toFixed(4)}` : `a = ${p.a.toFixed(4)}, b = ${p.b.toFixed(4)}`;
    return `${head}; ${fit} on ${p.rows} held-out rows → ${r.versionId}`;
  }
  if (r.state === 'open' && r.deadlineAt) return `${head}; open until ${r.deadlineAt}`;
  return r.reason ? `${head}; ${r.reason}` : head;
}

/** The calibration section in words and a table: site, rows, ECE before, ECE after, change. */
export function calibrationReportText(report: CalibrationReport): string {
  const lines = [
    `Calibration: expected calibration error (10 bins) of each site's held-out rows`,
    recalibrationLine(report.recalibration),
    `before: ${report.finalVersionId ?? '(no version)'}${report.recalibratedVersionId ? `   after: ${report.recalibratedVersionId}` : ''}`,
  ];
  if (report.sites.length === 0) return `${lines.join('\n')}\n(no site has reported a calibration)\n`;
  const rows = [
    ...report.sites,
    { siteId: 'mean (by rows)', n: report.sites.reduce((a, s) => a + s.n, 0), ...report.mean },
  ];
  const table = renderTable(rows, [
    { header: 'SITE', cell: (r) => r.siteId },
    { header: 'N', cell: (r) => r.n, right: true },
    { header: 'ECE BEFORE', cell: (r) => ece(r.before), right: true },
    { header: 'ECE AFTER', cell: (r) => ece(r.after), right: true },
    {
      header: 'CHANGE',
      cell: (r) =>
        r.before === null || r.after === null
          ? null
          : `${r.after - r.before >= 0 ? '+' : ''}${(r.after - r.before).toFixed(3)}`,
      right: true,
    },
  ]);
  return `${lines.join('\n')}\n${table}`;
}
