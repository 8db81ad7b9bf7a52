/** The cross-site evaluation part of `twinfed federations report`: the signed matrix as a table, or its progress. */
import { fromB64, verifyCrossSiteMatrix, type CrossSiteView, type SignedCrossSiteMatrix } from '@twinfed/shared';
import { renderTable, type Column } from './format';

const METRIC_NAME = { auc: 'AUC', cIndex: 'C-index' } as const;

type Row = SignedCrossSiteMatrix['rows'][number];

/** A cell: the metric to 3 decimals, or why there is none (`withheld`, `missing`, `n/a`). */
function cell(m: SignedCrossSiteMatrix, row: Row, column: number): string {
  const status = m.columns[column]!.status;
  if (status !== 'reported') return status;
  const v = row.values[column];
  return v === null || v === undefined ? 'n/a' : v.toFixed(3);
}

/**
 * The matrix: one row per model (the global model, then each site's local-only model), one column per site's test
 * data, with n under each column; then who refused or stayed silent and whether the coordinator's signature verifies
 * with its published key. While the evaluation runs: its phase and who has answered.
 */
export function crossSiteText(view: CrossSiteView, coordinatorSignPublicKey: string): string {
  if (view.state === 'not-started') return 'not started (it begins once the federation has completed)\n';
  const m = view.matrix;
  if (!m) {
    const deadline = view.state === 'models' ? view.modelsDeadlineAt : view.resultsDeadlineAt;
    const done = view.state === 'models' ? view.answered : view.reported;
    return `${view.state === 'models' ? 'waiting for the sites’ sealed local models' : 'waiting for the sites’ results'}: ${done.length} of ${view.candidates.length} sites so far, deadline ${deadline ?? '-'}\n`;
  }
  const verified = verifyCrossSiteMatrix(m, fromB64(coordinatorSignPublicKey));
  const columns: Column<Row | 'n'>[] = [
    {
      header: 'MODEL \\ TEST DATA',
      cell: (r) =>
        r === 'n' ? 'n (test rows)' : r.model === 'global' ? `global ${m.globalVersionId}` : `local ${r.siteId}`,
    },
    ...m.columns.map((c, i): Column<Row | 'n'> => ({
      header: c.siteId,
      cell: (r) => (r === 'n' ? (c.n ?? c.status) : cell(m, r, i)),
      right: true,
    })),
  ];
  const table = renderTable<Row | 'n'>([...m.rows, 'n'], columns, '(no site took part)');
  const who = [
    m.refused.length > 0 ? `refused by site policy: ${m.refused.join(', ')}` : null,
    m.silent.length > 0 ? `silent past the deadline: ${m.silent.join(', ')}` : null,
  ].filter((x) => x !== null);
  return (
    `${METRIC_NAME[m.metric]} of each model (rows) on each site's test data (columns); withheld: fewer test rows than the site's k\n` +
    table +
    (who.length > 0 ? `${who.join('; ')}\n` : '') +
    `completed ${m.completedAt}; signature ${verified ? 'verified with the coordinator key' : 'DOES NOT VERIFY'}\n`
  );
}
