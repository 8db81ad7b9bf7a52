/**
 * Ingestion into the twin store: FHIR R4 (Bundle/NDJSON), CSV with a declared mapping, and the shared core
 * (normalised writes → idempotent upserts → {@link IngestReport}) that the wearable stream endpoint reuses.
 */
export { ingestWrites, observationWrite, type IngestItem, type IngestOrigin, type IngestWritesOptions, type RawObservation } from './core';
export { emptyReport, mergeReports, type AcceptedCounts, type IngestRejection, type IngestReport } from './report';
export { CODE_UNITS, normalizeQuantity, UNIT_RULES, type CodeUnitRule, type NormalizedQuantity, type NormalizeOptions, type QuantityInput } from './units';
export { parseInstant, type ParseInstantOptions } from './time';
export { importCsv, importCsvFile, type ImportCsvOptions } from './csv';
export { CsvIngestMappingSchema, parseCsvIngestMapping, type CsvIngestMapping } from './csv-mapping';
export * from './fhir';
