/**
 * Plain-text rendering for the operator CLI: aligned tables and key/value blocks. No colours. Every cell, header,
 * value and metric name goes through {@link printable}: text from the coordinator cannot carry terminal escapes.
 */
import { printable } from '@twinfed/shared';

export { printable };

/** A table column: its header and how to get a cell from a row. */
export interface Column<T> {
  header: string;
  cell: (row: T) => string | number | null | undefined;
  /** Right-align (numbers). */
  right?: boolean;
}

const text = (v: string | number | null | undefined): string =>
  v === null || v === undefined || v === '' ? '-' : printable(String(v));

/** Renders rows as an aligned table with a header line; an empty list renders as `empty` (default "(none)"). */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty = '(none)'): string {
  if (rows.length === 0) return `${empty}\n`;
  const cells = rows.map((r) => columns.map((c) => text(c.cell(r))));
  const widths = columns.map((c, i) => Math.max(printable(c.header).length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (columns[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => printable(c.header))), ...cells.map(line)].join('\n') + '\n';
}

/** Renders `key: value` lines with the values aligned. */
export function renderKeyValues(pairs: ReadonlyArray<readonly [string, string | number | null | undefined]>): string {
  const width = Math.max(0, ...pairs.map(([k]) => printable(k).length));
  return pairs.map(([k, v]) => `${`${printable(k)}:`.padEnd(width + 1)} ${text(v)}`).join('\n') + '\n';
}

/** Formats a metric record compactly: `auc=0.812 accuracy=0.75` (4 significant digits, sorted by name). */
export function formatMetrics(metrics: Readonly<Record<string, number>> | undefined): string {
  if (!metrics) return '';
  return Object.keys(metrics)
    .sort()
    .map((k) => `${printable(k)}=${Number(metrics[k]!.toPrecision(4))}`)
    .join(' ');
}

/** Shortens a long hex digest or key for display: first 16 characters followed by an ellipsis. */
export function short(value: string | null | undefined, length = 16): string {
  if (!value) return '';
  return value.length > length ? `${value.slice(0, length)}…` : value;
}
