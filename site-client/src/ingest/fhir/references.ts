/**
 * Resolves FHIR references to twin-store patient references: Patients of the file being imported (by
 * `Patient/<id>` and by their bundle `fullUrl`, e.g. `urn:uuid:...`), then aliases stored by earlier
 * imports, then a logical reference by identifier (the hospital id).
 */
import type { PatientRef } from '../../twins/store-types';
import type { Reference } from './schemas';

/**
 * The alias form of a reference: `Patient/<id>` (from a relative or absolute URL, history dropped) or a
 * `urn:uuid:`/`urn:oid:` URN; null when it cannot name a Patient (other types, contained `#` references).
 */
export function patientAlias(reference: string): string | null {
  const ref = reference.trim();
  if (/^urn:(uuid|oid):\S+$/i.test(ref))
    return ref.toLowerCase().startsWith('urn:uuid:') ? `urn:uuid:${ref.slice(9).toLowerCase()}` : ref;
  const m = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
  return m ? `Patient/${m[1]}` : null;
}

/** Reference resolution for one import. */
export class ReferenceResolver {
  private readonly local = new Map<string, string>();

  constructor(private readonly identifierSystem?: string) {}

  /** Registers a Patient of this file under its aliases. */
  addPatient(hospitalId: string, aliases: readonly string[]): void {
    for (const alias of aliases) this.local.set(alias, hospitalId);
  }

  /** The patient a reference names, or why it cannot name one. */
  resolve(ref: Reference): { ok: true; patient: PatientRef } | { ok: false; reason: string } {
    if (ref.reference) {
      const alias = patientAlias(ref.reference);
      if (!alias)
        return {
          ok: false,
          reason: 'the reference does not name a Patient (expected Patient/<id> or a urn:uuid full URL)',
        };
      const hospitalId = this.local.get(alias);
      return { ok: true, patient: hospitalId !== undefined ? { hospitalId } : { alias } };
    }
    const id = ref.identifier;
    if (
      id?.value &&
      (this.identifierSystem === undefined || id.system === undefined || id.system === this.identifierSystem)
    ) {
      return { ok: true, patient: { hospitalId: id.value } };
    }
    return { ok: false, reason: 'the identifier is not of the patient identifier system' };
  }
}
