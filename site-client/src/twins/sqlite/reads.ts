/** Read queries of the SQLite twin store. */
import { hospitalIdOfKey } from '../apply';
import type * as T from '../store-types';
import type { ConsentEvent, TwinCondition, TwinObservation, TwinSnapshot } from '../types';
import type { SqlContext } from './context';

/** The twin of one patient, ordered like the in-memory store. */
export function getTwin(c: SqlContext, pid: string, options: T.GetTwinOptions): TwinSnapshot | null {
  const demo = c.stmt('SELECT birth_date AS birthDate, sex FROM demographics WHERE pid = ?').get(pid) as
    { birthDate: string | null; sex: T.TwinSex } | undefined;
  if (!demo) return null;
  const from = options.from ?? Number.MIN_SAFE_INTEGER;
  const to = options.to ?? Number.MAX_SAFE_INTEGER;
  const observations = c
    .stmt(
      'SELECT code, t, value, unit, source FROM observations WHERE pid = ? AND t >= ? AND t <= ? ORDER BY t, code, id',
    )
    .all(pid, from, to) as TwinObservation[];
  const conditions = c
    .stmt('SELECT system, code, onset, abatement FROM conditions WHERE pid = ? ORDER BY onset, id')
    .all(pid) as TwinCondition[];
  const immunizations = c.stmt('SELECT cvx, t FROM immunizations WHERE pid = ? ORDER BY t, id').all(pid) as {
    cvx: string;
    t: number;
  }[];
  const exposures = c.stmt('SELECT kind, t FROM exposures WHERE pid = ? ORDER BY t, id').all(pid) as {
    kind: string;
    t: number;
  }[];
  const consent = c
    .stmt('SELECT purpose, decision, t FROM consent_events WHERE pid = ? ORDER BY t, id')
    .all(pid) as ConsentEvent[];
  const label = c.stmt('SELECT value FROM labels WHERE pid = ? ORDER BY t DESC, id DESC LIMIT 1').pluck().get(pid) as
    number | undefined;
  return {
    pid,
    birthDate: demo.birthDate,
    sex: demo.sex,
    observations,
    conditions,
    immunizations,
    exposures,
    consent,
    label: label ?? null,
  };
}

/** Sorted pids; with a purpose, those whose latest decision at `at` (ties: latest recorded) is permit. */
export function listPids(c: SqlContext, purpose: T.ConsentPurpose | undefined, at: number): string[] {
  if (!purpose) return c.stmt('SELECT pid FROM patients ORDER BY pid').pluck().all() as string[];
  return c
    .stmt(
      `SELECT p.pid FROM patients p WHERE (
         SELECT e.decision FROM consent_events e WHERE e.pid = p.pid AND e.purpose = ? AND e.t <= ? ORDER BY e.t DESC, e.id DESC LIMIT 1
       ) = 'permit' ORDER BY p.pid`,
    )
    .pluck()
    .all(purpose, at) as string[];
}

export function changedSince(c: SqlContext, seq: number): { changes: T.PatientChange[]; seq: number } {
  const changes = c.stmt('SELECT pid, seq FROM patients WHERE seq > ? ORDER BY seq').all(seq) as T.PatientChange[];
  const current = c.stmt("SELECT value FROM meta WHERE key = 'change_seq'").pluck().get() as number;
  return { changes, seq: current };
}

export function counts(c: SqlContext): T.TwinCounts {
  const n = (table: string) => c.stmt(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  return {
    patients: n('patients'),
    observations: n('observations'),
    conditions: n('conditions'),
    immunizations: n('immunizations'),
    exposures: n('exposures'),
    consents: n('consent_events'),
    labels: n('labels'),
  };
}

/** The hospital id of a pid (the mapping table is read nowhere else). */
export function hospitalIdOf(c: SqlContext, pid: string): string | null {
  const key = c.stmt("SELECT key FROM patient_keys WHERE pid = ? AND kind = 'hospital-id'").pluck().get(pid) as
    string | undefined;
  return key === undefined ? null : hospitalIdOfKey(key);
}

export function listAudit(c: SqlContext, pid: string | undefined): T.TwinAuditEntry[] {
  const rows = (
    pid === undefined
      ? c.stmt('SELECT seq, at, action, pid, detail FROM audit ORDER BY seq').all()
      : c.stmt('SELECT seq, at, action, pid, detail FROM audit WHERE pid = ? ORDER BY seq').all(pid)
  ) as { seq: number; at: number; action: T.TwinAuditEntry['action']; pid: string; detail: string }[];
  return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as T.TwinAuditEntry['detail'] }));
}
