/**
 * FHIR R4 import: a Bundle (JSON), a single resource, or NDJSON → the twin store. Patients land first (so
 * references within the file resolve in any order), then every other resource. Unknown resource types are
 * skipped and counted; invalid resources are rejected each with a reason while valid ones land; importing
 * the same file again changes nothing (idempotent by resource id).
 */
import * as fs from 'node:fs';
import { TwinfedError } from '@twinfed/shared';
import type { TwinStore } from '../../twins/store-types';
import { ingestWrites, type IngestItem, type IngestOrigin } from '../core';
import { emptyReport, skip, type IngestReport } from '../report';
import type { NormalizeOptions } from '../units';
import { convertCondition, convertImmunization } from './clinical';
import { convertConsent } from './consent';
import type { ConvertContext, Converted } from './convert-common';
import { convertObservation } from './observation';
import { convertPatient } from './patient';
import { readFhirText, type FhirEntry } from './read';
import { ReferenceResolver } from './references';

/** Options of {@link importFhir}. */
interface ImportFhirOptions {
  store: TwinStore;
  /** The file's content. */
  text: string;
  /** The identifier system of the hospital's patient id (e.g. its MRN system); see `hospitalIdOf` for the default choice. */
  identifierSystem?: string;
  /** Unit tables (default: `CODE_UNITS` / `UNIT_RULES`). */
  units?: NormalizeOptions;
  /** Writes per store transaction (default 5000). */
  chunkSize?: number;
}

const CONVERTERS: Readonly<Record<string, (entry: FhirEntry, ctx: ConvertContext) => Converted>> = {
  Observation: convertObservation,
  Condition: convertCondition,
  Immunization: convertImmunization,
  Consent: convertConsent,
};

/**
 * Where a resource was. A Patient's resource id is left out: it is an identifier of the patient in the
 * hospital's FHIR server, and the report may be shown or logged; its line or entry index locates it.
 */
function originOf(entry: FhirEntry, resourceType: string): IngestOrigin {
  const id = (entry.resource as { id?: unknown }).id;
  const origin: IngestOrigin = { resourceType };
  if (resourceType !== 'Patient' && typeof id === 'string' && id.length <= 64) origin.id = id;
  if (entry.line !== undefined) origin.line = entry.line;
  if (entry.entry !== undefined) origin.entry = entry.entry;
  return origin;
}

/** Imports FHIR JSON/NDJSON text into the twin store; returns what happened. */
export async function importFhir(options: ImportFhirOptions): Promise<IngestReport> {
  const { store } = options;
  const read = readFhirText(options.text);
  const report = emptyReport();
  report.rejected.push(...read.rejected);
  const resolver = new ReferenceResolver(options.identifierSystem);
  const ctx: ConvertContext = { resolver, units: options.units ?? {} };
  const chunk = options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {};
  const patients: IngestItem[] = [];
  const rest: FhirEntry[] = [];
  for (const entry of read.entries) {
    const type = (entry.resource as { resourceType: string }).resourceType;
    if (type !== 'Patient') {
      rest.push(entry);
      continue;
    }
    const origin = originOf(entry, type);
    const p = convertPatient(entry, options.identifierSystem);
    if (!p.ok) {
      report.rejected.push({ ...origin, ...(p.path ? { path: p.path } : {}), reason: p.reason });
      continue;
    }
    resolver.addPatient(p.write.hospitalId, p.aliases);
    patients.push({ write: p.write, origin });
  }
  await ingestWrites(store, patients, { report, ...chunk });
  const items: IngestItem[] = [];
  for (const entry of rest) {
    const type = (entry.resource as { resourceType: string }).resourceType;
    const convert = Object.prototype.hasOwnProperty.call(CONVERTERS, type) ? CONVERTERS[type] : undefined;
    if (!convert) {
      skip(report, type);
      continue;
    }
    const origin = originOf(entry, type);
    const converted = convert(entry, ctx);
    if ('skip' in converted) skip(report, converted.skip);
    else if ('reject' in converted) report.rejected.push({ ...origin, ...converted.reject });
    else for (const write of converted.writes) items.push({ write, origin });
  }
  await ingestWrites(store, items, { report, ...chunk });
  return report;
}

/** Reads a FHIR file (UTF-8) and imports it; see {@link importFhir}. */
export async function importFhirFile(
  options: Omit<ImportFhirOptions, 'text'> & { file: string },
): Promise<IngestReport> {
  let text: string;
  try {
    text = fs.readFileSync(options.file, 'utf8');
  } catch (e) {
    throw new TwinfedError(
      'BAD_REQUEST',
      `Cannot read ${options.file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`,
    );
  }
  const { file: _file, ...rest } = options;
  return importFhir({ ...rest, text });
}
