import type { Command } from 'commander';
import { importCsvFile } from '../../ingest/csv';
import { importFhirFile } from '../../ingest/fhir/import';
import type { IngestRejection, IngestReport } from '../../ingest/report';
import { openTwinStore } from '../../twins/store';
import type { TwinStore } from '../../twins/store-types';
import { writeRejectsFile } from '../rejects-file';
import { commandContext, dataDirOption, writeJsonLine, type CliDeps, type CommonFlags } from '../context';

interface IngestFlags extends CommonFlags {
  identifierSystem?: string;
  mapping?: string;
  strict?: boolean;
  rejects?: string;
}

/** Exit status of `ingest --strict` when a record was rejected. */
const INGEST_REJECTED_EXIT = 2;
/** Most rejections listed in the human-readable output. */
const SHOWN_REJECTIONS = 20;
/** Most rejections in the --json output. */
const JSON_REJECTIONS = 1000;

/** A rejection without the resource id: line/entry, path and reason only, safe to share off-site. */
function anonymous(r: IngestRejection): Omit<IngestRejection, 'id'> {
  const { id: _id, ...rest } = r;
  return rest;
}

function where(r: IngestRejection): string {
  const at = r.line !== undefined ? `line ${r.line}` : r.entry !== undefined ? `entry ${r.entry}` : 'file';
  return `${at}: ${r.resourceType}${r.path ? ` ${r.path}` : ''}`;
}

async function report(args: {
  deps: CliDeps;
  flags: IngestFlags;
  file: string;
  format: 'fhir' | 'csv';
  result: IngestReport;
  store: TwinStore;
}): Promise<void> {
  const { deps, flags, file, format, result } = args;
  const a = result.accepted;
  if (flags.json) {
    return writeJsonLine(deps.stdout, {
      type: 'ingest',
      format,
      file,
      accepted: a,
      updated: result.updated,
      duplicates: result.duplicates,
      skipped: result.skipped.byType,
      rejectedCount: result.rejected.length,
      rejected: result.rejected.slice(0, JSON_REJECTIONS).map(anonymous),
      store: await args.store.counts(),
    });
  }
  const skipped = Object.entries(result.skipped.byType).map(([t, n]) => `${n} ${t}`);
  const lines = [
    `${file}: ${a.patients} patients, ${a.observations} observations, ${a.conditions} conditions, ${a.immunizations} immunizations, ${a.consents} consents, ${a.exposures} exposures, ${a.labels} labels written` +
      ` (${result.updated} updated); ${result.duplicates} already stored; ${skipped.length ? `skipped ${skipped.join(', ')}; ` : ''}${result.rejected.length} rejected.`,
    ...result.rejected.slice(0, SHOWN_REJECTIONS).map((r) => `  rejected ${where(r)}: ${r.reason}`),
    ...(result.rejected.length > SHOWN_REJECTIONS
      ? [`  … and ${result.rejected.length - SHOWN_REJECTIONS} more (see --json).`]
      : []),
  ];
  deps.stdout.write(`${lines.join('\n')}\n`);
}

/** `twinfed-site ingest fhir|csv`: load EHR exports into the twin store. */
export function addIngestCommand(program: Command, deps: CliDeps, setExitCode: (code: number) => void): void {
  const ingest = program
    .command('ingest')
    .summary('load FHIR or CSV exports into the twin store')
    .description(
      "Load EHR exports into this site's twin store (<data-dir>/twins.db). Patients get pseudonymous ids (a keyed hash " +
        'of the hospital id with the site secret); the hospital id stays in the store. Re-loading a file changes nothing ' +
        '(idempotent by resource id); invalid records are rejected with a reason each while the valid ones land. ' +
        'The --json report has counts, and rejections by line or entry with a reason (resource ids left out), so it ' +
        'may be shared off-site; the human-readable report is for local eyes.',
    );
  const common = (c: Command) =>
    c
      .addOption(dataDirOption())
      .option('--strict', `exit with status ${INGEST_REJECTED_EXIT} when any record was rejected`);
  common(
    ingest
      .command('fhir')
      .summary('load FHIR R4 Bundle JSON or NDJSON files')
      .description(
        'Load FHIR R4 files: a Bundle (JSON), a single resource, or NDJSON. Patient, Observation (LOINC), Condition (SNOMED CT, ICD-10), Immunization (CVX), Consent; other resource types are skipped and counted.',
      )
      .argument('<file...>', 'FHIR files')
      .option(
        '--identifier-system <uri>',
        "the system of the hospital's patient identifier (MRN); default: the official/MR identifier",
      ),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed-site ingest fhir export.ndjson --data-dir ./site-a\n  $ twinfed-site ingest fhir bundles/*.json --json',
    )
    .action(async (files: string[], _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<IngestFlags>();
      await run({ deps, flags, setExitCode, files, format: 'fhir' });
    });
  common(
    ingest
      .command('csv')
      .summary('load a CSV export with a declared column mapping')
      .description(
        'Load a tabular export. The mapping (JSON) names the patient id column and which columns become observations (LOINC + unit), conditions, immunizations, exposures, consent decisions and labels; every field is described in docs/data-mapping.md.',
      )
      .argument('<file>', 'CSV file with a header row')
      .requiredOption('--mapping <json>', 'the column mapping (JSON file)')
      .option(
        '--rejects <file>',
        'write every rejected row item (line, column, reason) to this file: CSV if it ends in .csv, else NDJSON',
      ),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ twinfed-site ingest csv vitals.csv --mapping vitals-mapping.json --data-dir ./site-a',
    )
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<IngestFlags>();
      await run({ deps, flags, setExitCode, files: [file], format: 'csv' });
    });
}

async function run(args: {
  deps: CliDeps;
  flags: IngestFlags;
  setExitCode: (code: number) => void;
  files: string[];
  format: 'fhir' | 'csv';
}): Promise<void> {
  const { deps, flags, files, format } = args;
  const { config } = commandContext(deps, flags);
  const store = await openTwinStore({ dataDir: config.dataDir });
  let rejected = 0;
  try {
    for (const file of files) {
      const result =
        format === 'fhir'
          ? await importFhirFile({
              store,
              file,
              ...(flags.identifierSystem ? { identifierSystem: flags.identifierSystem } : {}),
            })
          : await importCsvFile({ store, file, mappingFile: flags.mapping! });
      rejected += result.rejected.length;
      if (flags.rejects)
        writeRejectsFile(
          flags.rejects,
          result.rejected.map((r) => ({ line: r.line ?? null, column: r.path ?? null, reason: r.reason })),
        );
      await report({ deps, flags, file, format, result, store });
    }
  } finally {
    await store.close();
  }
  if (flags.strict && rejected > 0) args.setExitCode(INGEST_REJECTED_EXIT);
}
