/**
 * `--rejects <file>`: every rejected row of an input file with its line number, the column at fault and the
 * reason, as CSV (a `.csv` file name) or NDJSON (any other name). Never a cell value: the file may be shared
 * with whoever fixes the export.
 */
import { writeFileAtomic } from '../fs-atomic';

/** One rejected row as written to a rejects file. */
interface RejectLine {
  line: number | null;
  column: string | null;
  reason: string;
}

const HEADER = ['line', 'column', 'reason'] as const;

function csvCell(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rejects file's text for `rows` (CSV when `file` ends in `.csv`, else NDJSON). */
function rejectsText(file: string, rows: readonly RejectLine[]): string {
  if (file.toLowerCase().endsWith('.csv')) {
    return [HEADER.join(','), ...rows.map((r) => [r.line, r.column, r.reason].map(csvCell).join(','))]
      .map((l) => `${l}\n`)
      .join('');
  }
  return rows.map((r) => `${JSON.stringify({ line: r.line, column: r.column, reason: r.reason })}\n`).join('');
}

/** Writes `rows` to `file` (atomically; an empty file when nothing was rejected). */
export function writeRejectsFile(file: string, rows: readonly RejectLine[]): void {
  writeFileAtomic(file, rejectsText(file, rows));
}

/** "lines 3, 7, 9 and 12 more" — the first `max` line numbers of `rows`. */
export function rejectedLinesText(rows: readonly { line?: number | null }[], max = 20): string {
  const lines = rows.slice(0, max).map((r) => (r.line === undefined || r.line === null ? '?' : String(r.line)));
  const more = rows.length - lines.length;
  return `line${rows.length === 1 ? '' : 's'} ${lines.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}
