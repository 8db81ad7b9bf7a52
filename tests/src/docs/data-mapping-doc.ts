/**
 * docs/data-mapping.md: the two CSV mapping formats of a site, generated from their zod schemas, each with a
 * worked example run through the real parser (see `npm run docs`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { CsvMappingSchema, checkCsvDataset, parseCsvDataset } from '@twinfed/models';
import { inputJsonSchema } from '@twinfed/shared';
import { CsvIngestMappingSchema, MemoryTwinStore, importCsv } from '@twinfed/site-client';
import { repoRoot } from '../support/paths';
import { schemaSections } from './schema-markdown';

const CLINIC_MAPPING = 'examples/plans/csv-clinic-fedavg.mapping.json';
const CLINIC_DATA = 'examples/data/clinic-a.csv';
const TWIN_MAPPING = 'examples/plans/twin-infection-risk.import-mapping.json';
const TWIN_DATA = 'examples/data/twin-vitals.csv';

const read = (file: string): string => fs.readFileSync(path.join(repoRoot(), file), 'utf8');
const fence = (lang: string, text: string): string[] => ['```' + lang, text.trimEnd(), '```'];
const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
const head = (text: string, lines: number): string => text.split('\n').slice(0, lines).join('\n');

function siteSection(): string[] {
  const mapping = CsvMappingSchema.parse(JSON.parse(read(CLINIC_MAPPING)));
  const text = read(CLINIC_DATA);
  const ds = parseCsvDataset({ text, features: mapping.features, label: mapping.label });
  checkCsvDataset(ds, mapping);
  let positive = 0;
  for (const y of ds.y) positive += y;
  return [
    '## Training data of a site: `twinfed-site run --data <csv> --mapping <json>`',
    '',
    'A site that trains on a table (one row per patient, a header row) declares which columns are the model inputs and which column is the outcome. ' +
      "The feature `name`s must be the plan's `data.features`, in the same order; the CSV's own column names and order do not matter. " +
      'Cells that are empty, `?`, `NA`, `N/A`, `NaN` or `null` are missing.',
    '',
    ...schemaSections(inputJsonSchema(CsvMappingSchema, 'site CSV mapping'), { path: '', level: 3, title: 'Fields' }),
    'Rule between fields: feature `name`s must be distinct.',
    '',
    '### What happens to each row',
    '',
    '- A row is **rejected** when its label is missing, or (with `label.negative`) not one of the declared values, or when a feature cell is missing or not a number. ' +
      'With a time-to-event label, a row is rejected when its time is missing or not a number > 0 (days), or its event is missing or not 0 or 1. ' +
      'The other rows still count. `run` warns with the first 20 rejected line numbers; `--rejects <file>` writes all of them with the column and the reason ' +
      '(CSV when the file name ends in `.csv`, else NDJSON: `{"line":19,"column":"BMI","reason":"missing value in BMI"}`), never a cell value.',
    '- The usable rows are split into training and test rows (`--test-fraction`, default 0.34, stratified by label (by event for time-to-event data), seeded by `--split-seed`).',
    '',
    '### Guardrails: when the site refuses to take part',
    '',
    'Before it sends anything (no normalisation statistics, no update, no evaluation) the site stops with exit status 1 and one line naming the problem when:',
    '',
    '| Code | When |',
    '|---|---|',
    '| `DATA_FEATURE_MISSING` | a feature column has no usable (numeric) value in any row; the message names the column with its missing and non-numeric counts. |',
    '| `DATA_SINGLE_CLASS` | the label mapping gives only positive or only negative rows; the message names the label column, its most frequent values with counts and the positive values looked for. A mapping `"positive": ["malignant"]` on a column holding 2/4 is refused here. With a time-to-event label: no row has an observed event (all censored); rows without censoring are fine. |',
    '| `DATA_TOO_FEW_ROWS` | no row is usable, or, once the plan is known, the site has fewer training rows than `data.minExamplesPerSite` (default 20). |',
    '| `DATA_FEATURE_CONSTANT` | a feature column has the same value in every usable row (often missing data coded as 0, or the wrong column); set `allowConstant` on that feature when it really is constant at this site. |',
    '',
    'The single-class and minimum-rows checks also apply to the training set a twin site derives from its twin store, every round.',
    '',
    '### Worked example',
    '',
    `The plan \`examples/plans/csv-clinic-fedavg.json\` has \`data.features\` = ${mapping.features.map((f) => `\`${f.name}\``).join(', ')}. A clinic's export (\`${CLINIC_DATA}\`, synthetic) starts:`,
    '',
    ...fence('csv', head(text, 5)),
    '',
    `Its mapping (\`${CLINIC_MAPPING}\`):`,
    '',
    ...fence('json', read(CLINIC_MAPPING)),
    '',
    `The \`Patient ID\` column is not mapped, so it is never read. Of the ${ds.profile.rows} rows, ${ds.n} are usable (${positive} positive: \`diabetes\` or \`T2D\`; ${ds.n - positive} negative: \`none\`) and ${ds.rejected.length} are rejected:`,
    '',
    ...ds.rejected.map((r) => `- line ${r.line}, column \`${r.column}\`: ${r.reason}`),
    '',
    ...fence(
      'sh',
      `twinfed-site run --federation <id> --data ${CLINIC_DATA} --mapping ${CLINIC_MAPPING} --rejects rejects.csv`,
    ),
    '',
  ];
}

async function twinSection(): Promise<string[]> {
  const text = read(TWIN_DATA);
  const store = new MemoryTwinStore({ secret: new Uint8Array(32).fill(1), now: () => Date.UTC(2025, 0, 20) });
  const report = await importCsv({ store, text, mapping: JSON.parse(read(TWIN_MAPPING)) });
  const a = report.accepted;
  return [
    '## Twin import: `twinfed-site ingest csv <csv> --mapping <json>`',
    '',
    "A twin site loads its exports into the twin store; the plan's `data.derive` then turns each twin into model inputs. A CSV export is mapped " +
      'column by column into observations (LOINC + unit), conditions, immunizations, exposures, consent decisions and labels. It works for long ' +
      'tables (one measurement per row, demographics repeated) and wide ones (one patient per row, with a fixed time).',
    '',
    'The time of an item is its own `timeColumn` or `fixedTime`, else the mapping-level `timeColumn` or `fixedTime`. Times are FHIR dateTimes or dates; ' +
      'a time of day without a zone is read in `timeZone`. Invalid items are rejected one by one (with line, column and reason; `--rejects <file>` writes them all) while the rest land; ' +
      're-importing the same file changes nothing.',
    '',
    ...schemaSections(inputJsonSchema(CsvIngestMappingSchema, 'twin CSV import mapping'), {
      path: '',
      level: 3,
      title: 'Fields',
    }),
    '### Worked example',
    '',
    `An export of vitals, diagnoses, vaccinations and consent (\`${TWIN_DATA}\`, synthetic):`,
    '',
    ...fence('csv', text),
    '',
    `Its mapping (\`${TWIN_MAPPING}\`), for the plan \`examples/plans/twin-infection-risk.json\`:`,
    '',
    ...fence('json', read(TWIN_MAPPING)),
    '',
    `Imported: ${count(a.patients, 'patient')}, ${count(a.observations, 'observation')}, ${count(a.conditions, 'condition')} (one per code of \`diagnoses\`), ` +
      `${count(a.immunizations, 'immunization')}, ${count(a.exposures, 'exposure')} and ${count(a.consents, 'consent decision')}; ${report.rejected.length} rejected. Empty cells are simply absent. The hospital ids (\`mrn\`) stay in the twin store; everything that leaves the site uses pseudonymous ids.`,
    '',
    ...fence('sh', `twinfed-site ingest csv ${TWIN_DATA} --mapping ${TWIN_MAPPING} --rejects rejects.ndjson`),
    '',
  ];
}

/** The text of docs/data-mapping.md. */
export async function dataMappingDoc(): Promise<string> {
  return [
    '# CSV mappings of a site',
    '',
    '<!-- Generated by `npm run docs` from the zod schemas (models/src/csv-dataset.ts, site-client/src/ingest/csv-mapping.ts) and the examples. Do not edit by hand: a test fails when this file differs from what the schemas generate. -->',
    '',
    'A site reads CSV files in two places, each with a JSON mapping that says what the columns mean:',
    '',
    '- `twinfed-site run --data <csv> --mapping <json>`: a table the site trains on directly (a tabular plan, without `data.derive`);',
    '- `twinfed-site ingest csv <csv> --mapping <json>`: an export loaded into the twin store (a twin plan, with `data.derive`).',
    '',
    'Patient rows never leave the site in either case.',
    '',
    ...siteSection(),
    ...(await twinSection()),
  ].join('\n');
}
