import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/paths';
import { machineMeta } from './report';

/** One load row of `bench/results/scale.json`: a federation of simulated sites against one coordinator. */
export interface ScaleRow {
  readonly sites: number;
  readonly params: number;
  readonly secure: boolean;
  readonly roundP50s: number;
  readonly roundP95s: number;
  readonly coordinatorCpuMsPerSiteRound: number;
  readonly siteCpuMsPerSiteRound: number;
  readonly errors: number;
  readonly retried503: number;
  /** Anything else the section measured for this row (dropouts, wire bytes …). */
  readonly [extra: string]: unknown;
}

/** One aggregation row: the FedAvg-family fold against a read-only pass over the same update bytes. */
export interface ScaleAggregationRow {
  readonly sites: number;
  readonly params: number;
  readonly foldMiBs: number;
  readonly readOnlyMiBs: number;
  readonly ratio: number;
  readonly [extra: string]: unknown;
}

/** The document behind `bench/results/scale.{json,md}`: several benchmark sections each own some of its keys. */
export interface ScaleDocument {
  rows: ScaleRow[];
  aggregation: ScaleAggregationRow[];
  cryptoFloorMsPerUpload?: number;
  /** Per section: when it last ran, on what machine, and its markdown. */
  sections: Record<string, { meta: Record<string, string>; markdown: string }>;
  [key: string]: unknown;
}

/** The order sections appear in scale.md; a section not listed here goes last, by name. */
const SECTION_ORDER = ['load', 'secure-load', 'aggregation', 'wire', 'profile'];

function paths(): { json: string; md: string } {
  const dir = path.join(repoRoot(), 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  return { json: path.join(dir, 'scale.json'), md: path.join(dir, 'scale.md') };
}

/** Reads scale.json (an empty document when there is none yet). */
function readScaleDocument(): ScaleDocument {
  const { json } = paths();
  if (!fs.existsSync(json)) return { rows: [], aggregation: [], sections: {} };
  return JSON.parse(fs.readFileSync(json, 'utf8')) as ScaleDocument;
}

/** Replaces the rows with the same `(sites, params, secure)` and keeps the others, sorted. */
export function upsertScaleRows(doc: ScaleDocument, rows: readonly ScaleRow[]): void {
  const key = (r: ScaleRow) => `${r.secure ? 1 : 0}:${r.sites}:${r.params}`;
  const fresh = new Set(rows.map(key));
  doc.rows = [...doc.rows.filter((r) => !fresh.has(key(r))), ...rows].sort(
    (a, b) => Number(a.secure) - Number(b.secure) || a.sites - b.sites || a.params - b.params,
  );
}

/**
 * Rewrites one section of `bench/results/scale.{json,md}` and keeps the others: `update` changes the
 * keys this section owns (its rows, `aggregation`, `cryptoFloorMsPerUpload` …), and `markdown` is the
 * section's text (its tables), placed in the fixed section order. Returns the two paths.
 */
export function writeScaleSection(opts: {
  name: string;
  /** The section's markdown, or a function of the updated document (a section that keeps earlier runs). */
  markdown: string | ((doc: ScaleDocument) => string);
  update: (doc: ScaleDocument) => void;
  /** More header lines of this section (e.g. the load average during the run). */
  meta?: Record<string, string>;
}): { json: string; md: string } {
  const out = paths();
  const doc = readScaleDocument();
  opts.update(doc);
  const markdown = typeof opts.markdown === 'string' ? opts.markdown : opts.markdown(doc);
  doc.sections[opts.name] = { meta: { ...machineMeta(), ...opts.meta }, markdown: markdown.trimEnd() };
  const rank = (n: string) => (SECTION_ORDER.includes(n) ? SECTION_ORDER.indexOf(n) : SECTION_ORDER.length);
  const names = Object.keys(doc.sections).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const md = [
    '# twinfed at scale',
    '',
    'Each section below was measured in its own run (its date and machine are under its title); every ratio in a',
    'section compares against a reference measured in that same run. `scale.json` holds the same numbers.',
    '',
  ];
  for (const n of names) {
    const s = doc.sections[n]!;
    md.push(`<!-- section: ${n} -->`, ...Object.entries(s.meta).map(([k, v]) => `- ${k}: ${v}`), '', s.markdown, '');
  }
  fs.writeFileSync(out.json, `${JSON.stringify(doc, null, 2)}\n`);
  fs.writeFileSync(out.md, md.join('\n'));
  return out;
}
