/** FHIR Patient → a patient write (hospital id, aliases for later references, birth date, sex). */
import type { PatientWrite } from '../../twins/store-types';
import type { FhirEntry } from './read';
import { patientAlias } from './references';
import { parseResource, PatientSchema, type Identifier } from './schemas';

/**
 * The hospital id of a Patient: the identifier of `identifierSystem` when given; otherwise the first
 * identifier typed `MR` (medical record number), else `use: official`, else `usual`, else the first with a
 * value; a Patient without identifiers is known by its resource id.
 */
function hospitalIdOf(
  identifiers: readonly Identifier[] | undefined,
  id: string | undefined,
  identifierSystem?: string,
): string | undefined {
  const withValue = (identifiers ?? []).filter((i) => (i.value ?? '').trim() !== '');
  if (identifierSystem !== undefined) return withValue.find((i) => i.system === identifierSystem)?.value?.trim();
  const pick =
    withValue.find((i) => i.type?.coding?.some((c) => c.code === 'MR')) ??
    withValue.find((i) => i.use === 'official') ??
    withValue.find((i) => i.use === 'usual') ??
    withValue[0];
  return pick?.value?.trim() ?? id;
}

type PatientConverted =
  { ok: true; write: PatientWrite; aliases: string[] } | { ok: false; path?: string; reason: string };

export function convertPatient(entry: FhirEntry, identifierSystem?: string): PatientConverted {
  const parsed = parseResource(PatientSchema, entry.resource);
  if (!parsed.ok) return { ok: false, path: parsed.path, reason: parsed.reason };
  const p = parsed.value;
  const hospitalId = hospitalIdOf(p.identifier, p.id, identifierSystem);
  if (!hospitalId) {
    const which =
      identifierSystem !== undefined
        ? 'an identifier of the configured patient identifier system'
        : 'an identifier or an id';
    return { ok: false, path: 'identifier', reason: `identifier: the Patient has no ${which}` };
  }
  const aliases = [
    p.id !== undefined ? `Patient/${p.id}` : null,
    entry.fullUrl !== undefined ? patientAlias(entry.fullUrl) : null,
  ].filter((a): a is string => a !== null);
  const write: PatientWrite = { type: 'patient', hospitalId, aliases: [...new Set(aliases)] };
  if (p.birthDate !== undefined) write.birthDate = p.birthDate;
  if (p.gender !== undefined) write.sex = p.gender;
  return { ok: true, write, aliases: write.aliases as string[] };
}
