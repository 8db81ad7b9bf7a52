/** The calibration part of `twinfed models show`: each site's ECE and reliability curve. */
import { CALIBRATION_BINS, type EvaluationView } from '@twinfed/shared';
import { renderTable } from './format';

const rate = (v: number | null): string | null => (v === null ? null : v.toFixed(3));

/**
 * Per site that reported a calibration: its expected calibration error, then one row per probability bin (range, count,
 * mean prediction, observed positive rate). A bin the site withheld (fewer rows than its minimum cell size) shows its
 * count and `withheld`; an empty bin shows `-`.
 */
export function calibrationText(evaluations: readonly EvaluationView[]): string {
  const calibrated = evaluations.filter((e) => e.calibration);
  if (calibrated.length === 0) return '(no site has reported a calibration)\n';
  return calibrated
    .map((e) => {
      const c = e.calibration!;
      const table = renderTable(
        c.bins.map((b, i) => ({ ...b, i })),
        [
          {
            header: 'BIN',
            cell: (b) => `${(b.i / CALIBRATION_BINS).toFixed(1)}-${((b.i + 1) / CALIBRATION_BINS).toFixed(1)}`,
          },
          { header: 'N', cell: (b) => b.n, right: true },
          { header: 'MEAN P', cell: (b) => rate(b.meanPredicted) ?? (b.n > 0 ? 'withheld' : null), right: true },
          { header: 'OBSERVED', cell: (b) => rate(b.observedRate) ?? (b.n > 0 ? 'withheld' : null), right: true },
        ],
      );
      return `${e.siteId}: ECE ${c.ece.toFixed(3)} (n=${e.n})\n${table.replace(/^(?=.)/gm, '  ')}`;
    })
    .join('\n');
}
