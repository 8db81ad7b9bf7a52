/**
 * The rows a site answers a cohort query from, as named numeric columns (NaN where missing): its tabular data (every
 * usable row of the CSV or the Fed-Heart-Disease center, training and test rows alike, plus the outcome as `label`),
 * or its twins (those whose latest `model-training` consent is permit, each derived exactly as the query's `derive`
 * says, plus `age` from the birth date). Nothing here leaves the site.
 */
import { COHORT_CSV_LABEL, COHORT_TWIN_AGE, TwinfedError, featureColumns, type CohortQuery } from '@twinfed/shared';
import { ageAt } from '../features/age';
import { hasConsent } from '../features/consent';
import { deriveFeatures } from '../features/derive';
import type { LocalDataset } from '../training/dataset';
import type { TwinSnapshot } from '../twins/types';

/** Rows as columns: every column has `n` values, NaN where a row has no value. */
export interface CohortRows {
  readonly n: number;
  readonly columns: ReadonlyMap<string, Float64Array>;
  /** What the rows are, for people (never row contents). */
  readonly description: string;
}

/** The rows of a tabular dataset: its features by name, plus `label`. */
export function rowsFromDataset(dataset: LocalDataset, description: string): CohortRows {
  const splits = [dataset.train, dataset.test];
  const n = splits.reduce((a, s) => a + s.n, 0);
  const columns = new Map<string, Float64Array>();
  dataset.features.forEach((name, j) => {
    const col = new Float64Array(n);
    let i = 0;
    for (const s of splits) for (let r = 0; r < s.n; r++) col[i++] = s.x[r * s.d + j]!;
    columns.set(name, col);
  });
  if (!columns.has(COHORT_CSV_LABEL)) {
    const label = new Float64Array(n);
    let i = 0;
    for (const s of splits) for (let r = 0; r < s.n; r++) label[i++] = s.y[r]!;
    columns.set(COHORT_CSV_LABEL, label);
  }
  return { n, columns, description };
}

/**
 * The rows of a twin query: consenting twins, each derived at `at` (the query's snapshot time, else now) as the
 * query's `derive` says, with `age` from the birth date unless a derivation is named `age`.
 */
export function rowsFromTwins(twins: readonly TwinSnapshot[], query: CohortQuery, now: number): CohortRows {
  if (query.source.kind !== 'twins')
    throw new TwinfedError('COHORT_QUERY_UNANSWERABLE', 'The query is not about twins.');
  const derive = query.source.derive;
  const at = query.source.at !== undefined ? Date.parse(query.source.at) : now;
  const consenting = twins.filter((t) => hasConsent(t, 'model-training'));
  const names = featureColumns(derive).map((c) => c.name);
  const columns = new Map(names.map((name) => [name, new Float64Array(consenting.length)]));
  const age = names.includes(COHORT_TWIN_AGE) ? null : new Float64Array(consenting.length);
  consenting.forEach((twin, i) => {
    const row = deriveFeatures({ twin, derivations: derive, at });
    names.forEach((name, j) => (columns.get(name)![i] = row.values[j]!));
    if (age) age[i] = ageAt(twin.birthDate, at) ?? NaN;
  });
  if (age) columns.set(COHORT_TWIN_AGE, age);
  return {
    n: consenting.length,
    columns,
    description: `the twin store (${consenting.length} of ${twins.length} twins consent to model training), at ${new Date(at).toISOString()}`,
  };
}
