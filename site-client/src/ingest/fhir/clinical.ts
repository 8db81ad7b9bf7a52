/** FHIR Condition (SNOMED CT or ICD-10) and Immunization (CVX, completed only) → twin writes. */
import type { TwinCondition } from '../../twins/types';
import { CVX_SYSTEM, ICD10_SYSTEMS, SNOMED_SYSTEM } from './codes';
import {
  codingIn,
  optionalTime,
  rejectAt,
  sourceBase,
  subjectOf,
  type ConvertContext,
  type Converted,
} from './convert-common';
import type { FhirEntry } from './read';
import { ConditionSchema, ImmunizationSchema, parseResource } from './schemas';

const ACTIVE = new Set(['active', 'recurrence', 'relapse']);
const ENDED = new Set(['inactive', 'remission', 'resolved']);
const SKIPPED_VERIFICATION = new Set(['entered-in-error', 'refuted']);

/**
 * A Condition: the SNOMED CT coding, else the ICD-10(-CM) one (upper-cased). Onset from onsetDateTime or
 * onsetPeriod.start; abatement from abatementDateTime or abatementPeriod (end, else start). An active
 * clinicalStatus means no abatement; an ended one without an abatement time ends at recordedDate, else onset.
 */
export function convertCondition(entry: FhirEntry, ctx: ConvertContext): Converted {
  const parsed = parseResource(ConditionSchema, entry.resource);
  if (!parsed.ok) return rejectAt(parsed.path, parsed.reason);
  const c = parsed.value;
  const verification = c.verificationStatus?.coding?.find((x) => x.code)?.code;
  if (verification !== undefined && SKIPPED_VERIFICATION.has(verification))
    return { skip: `Condition:${verification}` };
  const snomed = codingIn(c.code, [SNOMED_SYSTEM]);
  const icd = snomed ? undefined : codingIn(c.code, ICD10_SYSTEMS);
  if (!snomed && !icd)
    return rejectAt(
      'code.coding',
      'code.coding: no SNOMED CT (http://snomed.info/sct) or ICD-10 (http://hl7.org/fhir/sid/icd-10[-cm]) coding',
    );
  const system: TwinCondition['system'] = snomed ? 'snomed' : 'icd10';
  const code = snomed ? snomed.code.trim() : icd!.code.trim().toUpperCase();
  const onsetPath = c.onsetDateTime !== undefined ? 'onsetDateTime' : 'onsetPeriod.start';
  const onset = optionalTime(onsetPath, c.onsetDateTime ?? c.onsetPeriod?.start);
  if (!onset.ok) return onset.converted;
  const abatementPath = c.abatementDateTime !== undefined ? 'abatementDateTime' : 'abatementPeriod';
  const abatement = optionalTime(
    abatementPath,
    c.abatementDateTime ?? c.abatementPeriod?.end ?? c.abatementPeriod?.start,
  );
  if (!abatement.ok) return abatement.converted;
  const recorded = optionalTime('recordedDate', c.recordedDate);
  if (!recorded.ok) return recorded.converted;
  const status = c.clinicalStatus?.coding?.find((x) => x.code)?.code;
  let ended = abatement.t;
  if (status !== undefined && ACTIVE.has(status)) ended = null;
  else if (status !== undefined && ENDED.has(status)) {
    ended = abatement.t ?? recorded.t ?? onset.t;
    if (ended === null)
      return rejectAt(
        'abatement[x]',
        `abatement[x]: a ${status} condition needs an abatement, recordedDate or onset time`,
      );
  } else if (status !== undefined) {
    return rejectAt('clinicalStatus', `clinicalStatus: '${status}' is not a condition clinical status`);
  }
  const subject = subjectOf(ctx, 'subject', c.subject);
  if (!subject.ok) return subject.converted;
  const sourceId = sourceBase('Condition', c.id, entry);
  return {
    writes: [{ type: 'condition', patient: subject.patient, sourceId, system, code, onset: onset.t, abatement: ended }],
  };
}

/** An Immunization with status completed, a CVX coding and an occurrenceDateTime; not-done ones are skipped. */
export function convertImmunization(entry: FhirEntry, ctx: ConvertContext): Converted {
  const parsed = parseResource(ImmunizationSchema, entry.resource);
  if (!parsed.ok) return rejectAt(parsed.path, parsed.reason);
  const im = parsed.value;
  if (im.status === 'not-done' || im.status === 'entered-in-error') return { skip: `Immunization:${im.status}` };
  if (im.status !== 'completed')
    return rejectAt(
      'status',
      `status: '${im.status}' is not an Immunization status (completed, not-done, entered-in-error)`,
    );
  const cvx = codingIn(im.vaccineCode, [CVX_SYSTEM]);
  if (!cvx)
    return rejectAt('vaccineCode.coding', 'vaccineCode.coding: no CVX coding (system http://hl7.org/fhir/sid/cvx)');
  if (im.occurrenceDateTime === undefined) {
    return rejectAt(
      'occurrence[x]',
      'occurrence[x]: an occurrenceDateTime is required (occurrenceString cannot be dated)',
    );
  }
  const t = optionalTime('occurrenceDateTime', im.occurrenceDateTime);
  if (!t.ok) return t.converted;
  const subject = subjectOf(ctx, 'patient', im.patient);
  if (!subject.ok) return subject.converted;
  return {
    writes: [
      {
        type: 'immunization',
        patient: subject.patient,
        sourceId: sourceBase('Immunization', im.id, entry),
        cvx: cvx.code.trim(),
        t: t.t!,
      },
    ],
  };
}
