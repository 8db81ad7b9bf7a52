/**
 * FHIR Consent → consent events, one per recognised purpose (codings in `codes.ts`). Each event's source id
 * includes its purpose, decision and time: consent history is append-only, so a Consent re-exported with a
 * new status adds an event and keeps the earlier one.
 */
import type { ConsentPurpose, TwinWrite } from '../../twins/store-types';
import { CONSENT_PURPOSES } from './codes';
import { optionalTime, rejectAt, sourceBase, subjectOf, type ConvertContext, type Converted } from './convert-common';
import type { FhirEntry } from './read';
import { ConsentSchema, parseResource, type FhirConsent } from './schemas';

const SKIPPED = new Set(['draft', 'proposed', 'entered-in-error']);

function purposesOf(c: FhirConsent): ConsentPurpose[] {
  const codings = [...(c.provision?.purpose ?? []), ...(c.category ?? []).flatMap((cat) => cat.coding ?? [])];
  const out = new Set<ConsentPurpose>();
  for (const coding of codings) {
    const purpose = CONSENT_PURPOSES[`${coding.system ?? ''}|${coding.code ?? ''}`];
    if (purpose) out.add(purpose);
  }
  return [...out].sort();
}

export function convertConsent(entry: FhirEntry, ctx: ConvertContext): Converted {
  const parsed = parseResource(ConsentSchema, entry.resource);
  if (!parsed.ok) return rejectAt(parsed.path, parsed.reason);
  const c = parsed.value;
  if (SKIPPED.has(c.status)) return { skip: `Consent:${c.status}` };
  let decision: 'permit' | 'deny';
  let when: { path: string; value: string | undefined };
  if (c.status === 'active') {
    if (!c.provision?.type) return rejectAt('provision.type', 'provision.type: an active Consent needs permit or deny');
    decision = c.provision.type;
    when = { path: 'dateTime', value: c.dateTime };
  } else if (c.status === 'inactive' || c.status === 'rejected') {
    decision = 'deny';
    when =
      c.meta?.lastUpdated !== undefined
        ? { path: 'meta.lastUpdated', value: c.meta.lastUpdated }
        : { path: 'dateTime', value: c.dateTime };
  } else {
    return rejectAt('status', `status: '${c.status}' is not a Consent status`);
  }
  if (when.value === undefined) return rejectAt('dateTime', 'dateTime: the time of the decision is required');
  const t = optionalTime(when.path, when.value);
  if (!t.ok) return t.converted;
  const purposes = purposesOf(c);
  if (purposes.length === 0) {
    return rejectAt(
      'provision.purpose',
      'provision.purpose: no recognised purpose (twinfed model-training/scoring, or v3-ActReason HRESCH, CLINTRCH, TREAT)',
    );
  }
  const subject = subjectOf(ctx, 'patient', c.patient);
  if (!subject.ok) return subject.converted;
  const base = sourceBase('Consent', c.id, entry);
  const writes: TwinWrite[] = purposes.map((purpose) => ({
    type: 'consent',
    patient: subject.patient,
    sourceId: `${base}|${purpose}|${decision}|${t.t}`,
    purpose,
    decision,
    t: t.t!,
  }));
  return { writes };
}
