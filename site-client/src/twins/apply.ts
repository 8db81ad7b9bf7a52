/**
 * The write algorithm both store implementations share: validation, patient resolution, idempotency by
 * keyed source id, change detection, consent audit and change sequence. A backend supplies synchronous
 * primitives; the caller runs {@link applyWrites} inside one transaction.
 */
import { pseudonymousId, sourceKey } from './pseudonym';
import { contentOf, sameContent, type RecordContent, type RecordType } from './records';
import type { PatientChange, PatientRef, TwinAuditEntry, TwinSex, TwinWrite, WriteOutcome } from './store-types';
import { invalidWrite } from './validate-write';

/** Demographics as stored. */
export interface Demographics {
  birthDate: string | null;
  sex: TwinSex;
}

/** Keys in the mapping table: the hospital id and aliases live in separate namespaces. */
export const hospitalKey = (hospitalId: string): string => `h:${hospitalId}`;
export const aliasKey = (alias: string): string => `a:${alias}`;
/** The hospital id inside a {@link hospitalKey}. */
export const hospitalIdOfKey = (key: string): string => key.slice(2);

/** Synchronous storage primitives behind {@link applyWrites}. */
export interface ApplyBackend {
  /** The pid a mapping key (see {@link hospitalKey}, {@link aliasKey}) names. */
  pidOfKey(key: string): string | null;
  demographics(pid: string): Demographics | null;
  insertPatient(input: { pid: string; hospitalId: string; demographics: Demographics; at: number }): void;
  updateDemographics(pid: string, demographics: Demographics): void;
  insertAlias(alias: string, pid: string): void;
  findRecord(type: RecordType, key: string): { pid: string; content: RecordContent } | null;
  insertRecord(input: { type: RecordType; key: string; pid: string; content: RecordContent; at: number }): void;
  updateRecord(input: { type: RecordType; key: string; pid: string; content: RecordContent }): void;
  appendAudit(entry: Omit<TwinAuditEntry, 'seq'>): void;
  /** Gives each pid, in order, the next change sequence number. */
  bumpSeq(pids: readonly string[]): PatientChange[];
}

interface ApplyResult {
  outcomes: WriteOutcome[];
  changes: PatientChange[];
}

const UNKNOWN_PATIENT: WriteOutcome = {
  status: 'rejected',
  reason: 'the patient is not in the twin store (import the Patient first)',
};

/** Resolves a patient reference to a stored pid. */
export function resolveRef(backend: ApplyBackend, secret: Uint8Array, ref: PatientRef): string | null {
  if ('pid' in ref) return typeof ref.pid === 'string' && backend.demographics(ref.pid) ? ref.pid : null;
  if ('hospitalId' in ref) {
    if (typeof ref.hospitalId !== 'string') return null;
    const pid = pseudonymousId(secret, ref.hospitalId);
    return backend.demographics(pid) ? pid : null;
  }
  return typeof ref.alias === 'string' ? backend.pidOfKey(aliasKey(ref.alias)) : null;
}

/** Applies writes in order (call inside a transaction). */
export function applyWrites(input: {
  backend: ApplyBackend;
  secret: Uint8Array;
  writes: readonly TwinWrite[];
  now: number;
}): ApplyResult {
  const { backend, secret, now } = input;
  const touched = new Set<string>();
  // Found patients per reference within this call (patients are never deleted, so a hit stays valid).
  const found = new Map<string, string>();
  const resolve = (ref: PatientRef): string | null => {
    const key =
      'pid' in ref ? `p\u0000${ref.pid}` : 'hospitalId' in ref ? `h\u0000${ref.hospitalId}` : `a\u0000${ref.alias}`;
    const hit = found.get(key);
    if (hit !== undefined) return hit;
    const pid = resolveRef(backend, secret, ref);
    if (pid !== null) found.set(key, pid);
    return pid;
  };
  const outcomes = input.writes.map((w): WriteOutcome => {
    const invalid = invalidWrite(w);
    if (invalid) return { status: 'rejected', reason: invalid };
    if (w.type === 'patient') return applyPatient({ backend, secret, w, now, touched });
    const pid = resolve(w.patient);
    if (!pid) return UNKNOWN_PATIENT;
    const key = sourceKey(secret, w.type, w.sourceId);
    const content = contentOf(w);
    const row = backend.findRecord(w.type, key);
    if (!row) {
      backend.insertRecord({ type: w.type, key, pid, content, at: now });
      touched.add(pid);
      if (w.type === 'consent') {
        const channel = /^(fhir|csv|stream):/.exec(w.sourceId)?.[1] ?? 'other';
        backend.appendAudit({
          at: now,
          action: 'consent-recorded',
          pid,
          detail: { purpose: w.purpose, decision: w.decision, t: w.t, channel },
        });
      }
      return { status: 'inserted' };
    }
    if (row.pid === pid && sameContent(row.content, content)) return { status: 'duplicate' };
    if (w.type === 'consent')
      return {
        status: 'rejected',
        reason: 'consent events are immutable history; a changed decision needs a new source id',
      };
    backend.updateRecord({ type: w.type, key, pid, content });
    touched.add(pid);
    touched.add(row.pid);
    return { status: 'updated' };
  });
  return { outcomes, changes: backend.bumpSeq([...touched]) };
}

function applyPatient(input: {
  backend: ApplyBackend;
  secret: Uint8Array;
  w: Extract<TwinWrite, { type: 'patient' }>;
  now: number;
  touched: Set<string>;
}): WriteOutcome {
  const { backend, w } = input;
  const pid = pseudonymousId(input.secret, w.hospitalId);
  const aliases = [...new Set(w.aliases ?? [])];
  const newAliases: string[] = [];
  for (const alias of aliases) {
    const owner = backend.pidOfKey(aliasKey(alias));
    if (owner && owner !== pid)
      return { status: 'rejected', reason: 'an alias of this patient already names another patient' };
    if (!owner) newAliases.push(alias);
  }
  const existing = backend.demographics(pid);
  let status: 'inserted' | 'updated' | 'duplicate';
  if (!existing) {
    backend.insertPatient({
      pid,
      hospitalId: w.hospitalId,
      demographics: { birthDate: w.birthDate ?? null, sex: w.sex ?? 'unknown' },
      at: input.now,
    });
    input.touched.add(pid);
    status = 'inserted';
  } else {
    const next: Demographics = {
      birthDate: w.birthDate === undefined ? existing.birthDate : w.birthDate,
      sex: w.sex ?? existing.sex,
    };
    if (next.birthDate !== existing.birthDate || next.sex !== existing.sex) {
      backend.updateDemographics(pid, next);
      input.touched.add(pid);
      status = 'updated';
    } else {
      status = newAliases.length > 0 ? 'updated' : 'duplicate';
    }
  }
  for (const alias of newAliases) backend.insertAlias(alias, pid);
  return { status };
}
