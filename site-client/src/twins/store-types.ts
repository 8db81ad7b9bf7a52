/**
 * The site's twin store interface: normalised writes in, {@link TwinSnapshot}s out. Promise-returning so a
 * server database can sit beside the embedded SQLite one; the in-memory twin has identical semantics and
 * both run one contract suite.
 */
import type { ConsentEvent, TwinCondition, TwinObservation, TwinSnapshot } from './types';

/** Administrative sex as FHIR codes it. */
export type TwinSex = TwinSnapshot['sex'];
/** A consent purpose. */
export type ConsentPurpose = ConsentEvent['purpose'];
/** The ingestion channel of an observation. */
export type ObservationSource = TwinObservation['source'];

/**
 * How a write names its patient: the hospital's own id, a stored alias (a FHIR logical reference such as
 * `Patient/123` or a bundle `urn:uuid:` full URL, recorded when the Patient was imported), or the
 * pseudonymous id itself. The patient must already exist.
 */
export type PatientRef = { hospitalId: string } | { alias: string } | { pid: string };

/** Creates a patient or updates its demographics; `undefined` fields keep the stored value. */
export interface PatientWrite {
  type: 'patient';
  hospitalId: string;
  /** Other keys that name this patient in later imports (kept in the mapping table only). */
  aliases?: readonly string[];
  birthDate?: string | null;
  sex?: TwinSex;
}

/** Fields every non-patient write shares. `sourceId` makes the write idempotent (unique per record type). */
interface RecordWriteBase {
  patient: PatientRef;
  /** Stable id of the source record, e.g. `fhir:Observation/abc#8480-6`, `csv:<pid>:hr:<t>`, `stream:<device>:<sample>`. */
  sourceId: string;
}

export interface ObservationWrite extends RecordWriteBase, TwinObservation {
  type: 'observation';
}
export interface ConditionWrite extends RecordWriteBase, TwinCondition {
  type: 'condition';
}
export interface ImmunizationWrite extends RecordWriteBase {
  type: 'immunization';
  cvx: string;
  t: number;
}
export interface ExposureWrite extends RecordWriteBase {
  type: 'exposure';
  /** What the patient was exposed to or how, e.g. 'contact'. */
  kind: string;
  t: number;
}
/** A consent decision. Consent events are immutable history: a changed decision needs a new `sourceId`. */
export interface ConsentWrite extends RecordWriteBase, ConsentEvent {
  type: 'consent';
}
/** An outcome label for supervised training (the latest by time is the twin's label). */
export interface LabelWrite extends RecordWriteBase {
  type: 'label';
  value: number;
  t: number;
}

/** One normalised record, the unit every importer (FHIR, CSV, wearable stream) hands the store. */
export type TwinWrite =
  PatientWrite | ObservationWrite | ConditionWrite | ImmunizationWrite | ExposureWrite | ConsentWrite | LabelWrite;

/**
 * What happened to one write: new row, changed row, identical to what is stored (idempotent re-import),
 * or refused with a reason that never contains the hospital id.
 */
export type WriteOutcome = { status: 'inserted' | 'updated' | 'duplicate' } | { status: 'rejected'; reason: string };

/** A patient whose twin changed, with the store-wide change sequence number of its latest change. */
export interface PatientChange {
  pid: string;
  seq: number;
}

/** Rows per table. */
export interface TwinCounts {
  patients: number;
  observations: number;
  conditions: number;
  immunizations: number;
  exposures: number;
  consents: number;
  labels: number;
}

/** An audit entry: consent decisions recorded and re-identifications. Never holds the hospital id. */
export interface TwinAuditEntry {
  seq: number;
  /** Milliseconds since epoch when the store recorded it. */
  at: number;
  action: 'consent-recorded' | 'hospital-id-resolved';
  pid: string;
  detail: Record<string, string | number>;
}

export interface GetTwinOptions {
  /** Only observations with `t >= from` (ms). */
  from?: number;
  /** Only observations with `t <= to` (ms). */
  to?: number;
}

export interface ListPidsOptions {
  /** Only patients whose latest decision for this purpose at `at` is a permit. */
  consentFor?: ConsentPurpose;
  /** Point in time (ms) for the consent check; default now. */
  at?: number;
}

export interface ResolveHospitalIdOptions {
  /** Who asks (e.g. the local operator's user name); audited. */
  actor: string;
  /** Why (audited). */
  reason: string;
}

/** The site's twin store. */
export interface TwinStore {
  /** The pseudonymous id this site gives a hospital id (pure: a keyed hash, no lookup). */
  pidFor(hospitalId: string): string;
  /** Applies writes in order in one transaction; returns one outcome per write. Change listeners run after commit. */
  apply(writes: readonly TwinWrite[]): Promise<WriteOutcome[]>;
  /** The pid a reference names, or null when no such patient is stored. */
  resolvePatient(ref: PatientRef): Promise<string | null>;
  /** The twin of a patient, or null when unknown. Observations sorted by time, consent history by time. */
  getTwin(pid: string, options?: GetTwinOptions): Promise<TwinSnapshot | null>;
  /** Pseudonymous ids, sorted; with `consentFor`, only patients with a permit for that purpose at `at`. */
  listPids(options?: ListPidsOptions): Promise<string[]>;
  /** Patients changed after change sequence `seq` (ascending), and the current sequence. */
  changedSince(seq: number): Promise<{ changes: PatientChange[]; seq: number }>;
  /** Registers a listener called after each commit that changed twins; returns the unsubscribe function. */
  onChange(listener: (changes: readonly PatientChange[]) => void): () => void;
  counts(): Promise<TwinCounts>;
  /** The hospital's own id of a patient, for the local CLI only; every call is audited. */
  resolveHospitalId(pid: string, options: ResolveHospitalIdOptions): Promise<string | null>;
  /** Audit entries, oldest first, optionally for one patient. */
  listAudit(options?: { pid?: string }): Promise<TwinAuditEntry[]>;
  close(): Promise<void>;
}
