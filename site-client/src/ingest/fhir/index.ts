/** FHIR R4 ingestion into the twin store. */
export { importFhir, importFhirFile, type ImportFhirOptions } from './import';
export { readFhirText, type FhirEntry, type ReadFhirResult } from './read';
export { patientAlias, ReferenceResolver } from './references';
export { hospitalIdOf } from './patient';
export * from './codes';
