/**
 * Guardrails on a parsed CSV before a site trains on it: a label mapping that yields one class, a feature column
 * without any usable value, no usable row at all, or a feature column that is constant stop the site with a
 * stable code. The messages name columns, counts and label values (which stay on the site), never rows.
 */
import { TwinfedError } from '@twinfed/shared';
import { isSurvivalLabel, type CsvDataset, type CsvMapping } from './csv-dataset';

/** How many distinct label values a refusal lists. */
const SHOWN_VALUES = 5;

const quote = (v: string | number): string => JSON.stringify(String(v));

function labelValues(ds: CsvDataset): string {
  const { values, otherValues } = ds.profile.label;
  if (values.length === 0) return 'no non-missing value';
  const shown = values.slice(0, SHOWN_VALUES).map((v) => `${quote(v.value)} ×${v.count}`);
  const hidden = values.length - shown.length;
  return hidden > 0 || otherValues > 0
    ? `${shown.join(', ')} and ${hidden}${otherValues > 0 ? '+' : ''} more`
    : shown.join(', ');
}

function singleClass(
  ds: CsvDataset,
  mapping: Pick<CsvMapping, 'label'>,
  counts: { positive: number; negative: number },
  usable: boolean,
): TwinfedError {
  const { label } = mapping;
  if (isSurvivalLabel(label)) {
    const rows = usable ? `usable rows (after ${ds.rejected.length} rejected)` : 'rows';
    return new TwinfedError(
      'DATA_SINGLE_CLASS',
      `The event column "${label.event}" has no observed event: 0 events and ${counts.negative} censored ${rows}. Values found: ${labelValues(ds)}. ` +
        'A Cox model learns only from events (1 = observed, 0 = censored); check that label.event names the right column.',
      {
        details: {
          column: label.event,
          positive: counts.positive,
          negative: counts.negative,
          values: ds.profile.label.values.slice(0, SHOWN_VALUES),
        },
      },
    );
  }
  const lookedFor = label.positive.map(quote).join(', ');
  const negatives = label.negative ? `; negative values: ${label.negative.map(quote).join(', ')}` : '';
  const rows = usable
    ? `${counts.positive} positive and ${counts.negative} negative usable rows (after ${ds.rejected.length} rejected)`
    : `${counts.positive} positive and ${counts.negative} negative rows`;
  return new TwinfedError(
    'DATA_SINGLE_CLASS',
    `The label column "${label.column}" gives a single class: ${rows}. Values found: ${labelValues(ds)}. ` +
      `Positive values looked for: ${lookedFor}${negatives}. Fix label.positive${label.negative ? '/label.negative' : ''} in the mapping; a site that trains on one class teaches the federation nothing.`,
    {
      details: {
        column: label.column,
        positive: counts.positive,
        negative: counts.negative,
        values: ds.profile.label.values.slice(0, SHOWN_VALUES),
        lookedFor: label.positive,
        ...(label.negative ? { negativeValues: label.negative } : {}),
      },
    },
  );
}

/**
 * Throws the first guardrail a parsed CSV breaks, in this order:
 * - `DATA_FEATURE_MISSING`: a mapped feature column has no numeric value in any data row;
 * - `DATA_SINGLE_CLASS`: the label column's values map to one class only (no positive or no negative row; for
 *   time-to-event data, no observed event);
 * - `DATA_TOO_FEW_ROWS`: every row was rejected;
 * - `DATA_SINGLE_CLASS`: the rows left after rejection are of one class only;
 * - `DATA_FEATURE_CONSTANT`: a feature column has the same value in every accepted row (unless `allowConstant`).
 * The plan's minimum number of rows is checked later, once the site knows the plan.
 */
export function checkCsvDataset(
  ds: CsvDataset,
  mapping: Pick<CsvMapping, 'label'> & { features: readonly { column: string; allowConstant?: boolean }[] },
): void {
  const { profile } = ds;
  for (const f of profile.features) {
    if (profile.rows > 0 && f.usable === 0) {
      throw new TwinfedError(
        'DATA_FEATURE_MISSING',
        `The feature column "${f.column}" has no usable value in any of the ${profile.rows} rows (${f.missing} missing, ${f.nonNumeric} not a number). Map a numeric column, or drop the feature from the plan and the mapping.`,
        { details: { column: f.column, rows: profile.rows, missing: f.missing, nonNumeric: f.nonNumeric } },
      );
    }
  }
  const { label } = profile;
  // Time-to-event data need events; a table without censoring is fine.
  const survival = isSurvivalLabel(mapping.label);
  const oneClass = (c: { positive: number; negative: number }): boolean =>
    c.positive === 0 || (!survival && c.negative === 0);
  if (oneClass(label)) throw singleClass(ds, mapping, label, false);
  if (ds.n === 0) {
    const reasons = new Map<string, number>();
    for (const r of ds.rejected) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
    const top = [...reasons]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([r, n]) => `${n}× ${r}`)
      .join(', ');
    throw new TwinfedError(
      'DATA_TOO_FEW_ROWS',
      `The CSV has no usable row: all ${ds.rejected.length} rows rejected (${top}).`,
      { details: { rows: profile.rows, rejected: ds.rejected.length } },
    );
  }
  let positive = 0;
  for (let i = 0; i < ds.n; i++) positive += ds.y[i] === 1 ? 1 : 0;
  if (oneClass({ positive, negative: ds.n - positive }))
    throw singleClass(ds, mapping, { positive, negative: ds.n - positive }, true);
  for (let j = 0; j < ds.d; j++) {
    if (mapping.features[j]?.allowConstant) continue;
    const first = ds.x[j]!;
    let constant = true;
    for (let i = 1; i < ds.n && constant; i++) constant = ds.x[i * ds.d + j] === first;
    if (constant) {
      const column = mapping.features[j]?.column ?? ds.featureNames[j]!;
      throw new TwinfedError(
        'DATA_FEATURE_CONSTANT',
        `The feature column "${column}" is ${first} in all ${ds.n} usable rows: it cannot inform the model and often means missing data coded as a number, or the wrong column. ` +
          'Fix the mapping, or set "allowConstant": true on that feature if it really is constant at this site.',
        { details: { column, value: first, rows: ds.n } },
      );
    }
  }
}
