import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/paths';

/** One benchmark table: rows of named cells; the first column names the row. */
export interface BenchTable {
  title: string;
  note: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

const cell = (v: string | number) =>
  typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : v;

/** The run's date and machine, the first lines of every benchmark report's meta. */
export function machineMeta(): { date: string; node: string; cpus: string } {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
  };
}

/** The 1, 5 and 15 minute load averages, e.g. `0.52 0.40 0.31`. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

/** Markdown for a set of tables. */
export function toMarkdown(title: string, meta: Record<string, string>, tables: BenchTable[]): string {
  return [`# ${title}`, '', ...Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`), '', tablesMarkdown(tables)].join(
    '\n',
  );
}

/** Markdown for the tables alone: a `##` title, the note and the table of each. */
export function tablesMarkdown(tables: BenchTable[]): string {
  const out: string[] = [];
  for (const t of tables) {
    out.push(
      `## ${t.title}`,
      '',
      t.note,
      '',
      `| ${t.columns.join(' | ')} |`,
      `|${t.columns.map(() => '---').join('|')}|`,
    );
    for (const r of t.rows) out.push(`| ${r.map(cell).join(' | ')} |`);
    out.push('');
  }
  return out.join('\n');
}

/** Writes `bench/results/<name>.json` and `.md`; returns the paths. */
export function writeResults(name: string, data: unknown, markdown: string): { json: string; md: string } {
  const dir = path.join(repoRoot(), 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, `${name}.json`);
  const md = path.join(dir, `${name}.md`);
  fs.writeFileSync(json, `${JSON.stringify(data, null, 2)}\n`);
  fs.writeFileSync(md, markdown);
  return { json, md };
}
