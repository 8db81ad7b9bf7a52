/** The cross-site evaluation matrix, assembled from what the sites reported (pure; signed by session.ts). */
import type { CrossSiteMatrix, CrossSiteResult } from '@twinfed/shared';

/** What the matrix is built from: the session's sites and the results the coordinator holds. */
interface MatrixInput {
  federationId: string;
  globalVersionId: string;
  metric: CrossSiteMatrix['metric'];
  /** The sites asked to take part (the federation's contributors), sorted. */
  candidates: readonly string[];
  /** Each candidate's answer: its model, or its refusal; a candidate without one was silent. */
  answers: ReadonlyMap<string, 'model' | 'refused'>;
  /** The sites whose models were stored when the models phase ended, sorted. */
  participants: readonly string[];
  /** Each participant's result (a participant without one is missing). */
  results: ReadonlyMap<string, CrossSiteResult>;
  completedAt: string;
}

/**
 * One row per model (the global model, then each participant's local model), one column per participant's test
 * data. A column is `withheld` when the site's test rows were fewer than its k and `missing` when it reported nothing
 * before the deadline: its values are null, as is a metric the site could not compute (one-class test rows, a box
 * that did not open).
 */
export function assembleCrossSiteMatrix(i: MatrixInput): CrossSiteMatrix {
  const columns = i.participants.map((siteId) => {
    const r = i.results.get(siteId);
    if (!r) return { siteId, status: 'missing' as const, n: null };
    if ('withheld' in r) return { siteId, status: 'withheld' as const, n: null };
    return { siteId, status: 'reported' as const, n: r.n };
  });
  const cell = (column: string, pick: (r: Extract<CrossSiteResult, { n: number }>) => number | null | undefined) => {
    const r = i.results.get(column);
    return r && !('withheld' in r) ? (pick(r) ?? null) : null;
  };
  const rows: CrossSiteMatrix['rows'] = [
    { model: 'global', siteId: null, values: i.participants.map((c) => cell(c, (r) => r.global)) },
    ...i.participants.map((model) => ({
      model: 'local' as const,
      siteId: model,
      values: i.participants.map((c) => cell(c, (r) => (Object.hasOwn(r.local, model) ? r.local[model] : null))),
    })),
  ];
  return {
    federationId: i.federationId,
    globalVersionId: i.globalVersionId,
    metric: i.metric,
    participants: [...i.participants],
    refused: i.candidates.filter((s) => i.answers.get(s) === 'refused'),
    silent: i.candidates.filter((s) => !i.answers.has(s)),
    columns,
    rows,
    completedAt: i.completedAt,
  };
}
