/**
 * Tabular import: a CSV export plus a declared mapping (see `csv-mapping.ts`) → the twin store, with the
 * same report, per-item rejections and idempotency as the FHIR importer.
 */
import * as fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { TwinfedError } from '@twinfed/shared';
import type { PatientWrite, TwinStore } from '../twins/store-types';
import { FHIR_DATE } from '../twins/validate-write';
import { ingestWrites, type IngestItem } from './core';
import { mappedColumns, parseCsvIngestMapping, type CsvIngestMapping } from './csv-mapping';
import { convertRow, sexOf, type CsvRecord } from './csv-row';
import { emptyReport, type IngestRejection, type IngestReport } from './report';
import type { NormalizeOptions } from './units';

interface ImportCsvOptions {
  store: TwinStore;
  text: string;
  /** The mapping as parsed JSON (validated here; an already validated mapping passes unchanged). */
  mapping: unknown;
  units?: NormalizeOptions;
  chunkSize?: number;
}

interface ParsedRow {
  record: CsvRecord;
  line: number;
}

function parseRows(text: string, mapping: CsvIngestMapping, rejected: IngestRejection[]): ParsedRow[] {
  let header: string[] = [];
  let rows: { record: CsvRecord; info: { lines: number } }[];
  try {
    rows = parse<{ record: CsvRecord; info: { lines: number } }>(text, {
      delimiter: mapping.delimiter,
      bom: true,
      skip_empty_lines: true,
      info: true,
      columns: (h: string[]) => {
        header = h.map((c) => c.trim());
        const dup = header.find((c, i) => header.indexOf(c) !== i);
        if (dup !== undefined) throw new TwinfedError('VALIDATION_FAILED', `The CSV header repeats the column ${dup}.`);
        return header;
      },
      skip_records_with_error: true,
      on_skip: (err) => {
        const line = typeof err?.lines === 'number' ? { line: err.lines } : {};
        const reason =
          err?.code === 'CSV_RECORD_INCONSISTENT_COLUMNS'
            ? 'the row does not have as many fields as the header'
            : `the row cannot be parsed (${err?.code ?? 'error'})`;
        rejected.push({ resourceType: 'Row', ...line, reason });
        return undefined;
      },
    });
  } catch (e) {
    if (e instanceof TwinfedError) throw e;
    throw new TwinfedError('BAD_REQUEST', `The CSV cannot be parsed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const missing = mappedColumns(mapping).filter((c) => !header.includes(c));
  if (missing.length > 0)
    throw new TwinfedError('VALIDATION_FAILED', `The CSV has no column(s) ${missing.join(', ')} named in the mapping.`);
  return rows.map((r) => ({ record: r.record, line: r.info.lines }));
}

/** Imports a CSV export per its mapping; returns what happened. Throws for an invalid mapping, a header without mapped columns, or unparseable CSV. */
export async function importCsv(options: ImportCsvOptions): Promise<IngestReport> {
  const { store } = options;
  const mapping = parseCsvIngestMapping(options.mapping);
  const report = emptyReport();
  const rows = parseRows(options.text, mapping, report.rejected);
  const patients = new Map<string, IngestItem & { write: PatientWrite }>();
  const records: IngestItem[] = [];
  const p = mapping.patient;
  for (const { record, line } of rows) {
    const hospitalId = (record[p.idColumn] ?? '').trim();
    if (hospitalId === '') {
      report.rejected.push({
        resourceType: 'Row',
        line,
        path: p.idColumn,
        reason: `${p.idColumn}: the patient id is empty`,
      });
      continue;
    }
    let entry = patients.get(hospitalId);
    if (!entry) {
      entry = { write: { type: 'patient', hospitalId }, origin: { resourceType: 'Patient', line, path: p.idColumn } };
      patients.set(hospitalId, entry);
    }
    demographics({ mapping, record, line, write: entry.write, rejected: report.rejected });
    const pid = store.pidFor(hospitalId);
    const row = convertRow({ mapping, row: record, line, pid, patient: { pid }, units: options.units ?? {} });
    report.rejected.push(...row.rejected);
    records.push(...row.items);
  }
  const chunk = options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {};
  await ingestWrites(store, [...patients.values()], { report, ...chunk });
  await ingestWrites(store, records, { report, ...chunk });
  report.rejected.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return report;
}

/** Birth date and sex of a row into the patient write: the first non-empty value wins; a conflicting later one is rejected. */
function demographics(input: {
  mapping: CsvIngestMapping;
  record: CsvRecord;
  line: number;
  write: PatientWrite;
  rejected: IngestRejection[];
}): void {
  const { mapping, record, line, write, rejected } = input;
  const DIFFERS = 'differs from an earlier row of the same patient';
  const reject = (col: string, why: string): void => {
    rejected.push({ resourceType: 'Patient', line, path: col, reason: `${col}: ${why}` });
  };
  const dobCol = mapping.patient.birthDateColumn;
  const dobText = dobCol === undefined ? '' : (record[dobCol] ?? '').trim();
  if (dobCol !== undefined && dobText !== '') {
    const dob = /^\d{4}-\d{2}-\d{2}T/.test(dobText) ? dobText.slice(0, 10) : dobText;
    if (!FHIR_DATE.test(dob)) reject(dobCol, 'not a date (YYYY-MM-DD)');
    else if (write.birthDate === undefined) write.birthDate = dob;
    else if (write.birthDate !== dob) reject(dobCol, DIFFERS);
  }
  const sexCol = mapping.patient.sexColumn;
  const sexText = sexCol === undefined ? '' : (record[sexCol] ?? '').trim();
  if (sexCol !== undefined && sexText !== '') {
    const sex = sexOf(mapping, sexText);
    if (sex === null) reject(sexCol, 'not a known sex value (map it in patient.sexValues)');
    else if (write.sex === undefined) write.sex = sex;
    else if (write.sex !== sex) reject(sexCol, DIFFERS);
  }
}

/** Reads the CSV file and the mapping JSON file and imports them; see {@link importCsv}. */
export async function importCsvFile(
  options: Omit<ImportCsvOptions, 'text' | 'mapping'> & { file: string; mappingFile: string },
): Promise<IngestReport> {
  const read = (file: string): string => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new TwinfedError('BAD_REQUEST', `Cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`);
    }
  };
  let raw: unknown;
  try {
    raw = JSON.parse(read(options.mappingFile));
  } catch (e) {
    if (e instanceof TwinfedError) throw e;
    throw new TwinfedError('INVALID_JSON', `The mapping ${options.mappingFile} is not valid JSON.`);
  }
  const { file, mappingFile: _m, ...rest } = options;
  return importCsv({ ...rest, text: read(file), mapping: raw });
}
