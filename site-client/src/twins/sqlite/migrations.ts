import type { Migration } from '@twinfed/sqlite-kit';

/** A numbered schema migration of the twin store; applied in ascending order, each exactly once. */
export type TwinMigration = Migration;

const record = (table: string, columns: string) => `
CREATE TABLE ${table} (
  id INTEGER PRIMARY KEY,
  source_key TEXT NOT NULL UNIQUE,
  pid TEXT NOT NULL REFERENCES patients(pid),
  ${columns},
  recorded_at INTEGER NOT NULL
);`;

const migration001: TwinMigration = {
  version: 1,
  name: 'twins',
  sql: `
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta (key, value) VALUES ('change_seq', 0);
CREATE TABLE patients (pid TEXT PRIMARY KEY, seq INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
CREATE INDEX patients_seq ON patients(seq);
-- The only table holding hospital identifiers (kind 'hospital-id') and their aliases (FHIR references).
CREATE TABLE patient_keys (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('hospital-id', 'alias')),
  pid TEXT NOT NULL REFERENCES patients(pid)
);
CREATE UNIQUE INDEX patient_keys_hospital_id ON patient_keys(pid) WHERE kind = 'hospital-id';
CREATE TABLE demographics (
  pid TEXT PRIMARY KEY REFERENCES patients(pid),
  birth_date TEXT,
  sex TEXT NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown'))
);
${record('observations', "code TEXT NOT NULL, t INTEGER NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL, source TEXT NOT NULL CHECK (source IN ('fhir', 'csv', 'stream'))")}
CREATE INDEX observations_pid_t ON observations(pid, t);
${record('conditions', "system TEXT NOT NULL CHECK (system IN ('snomed', 'icd10', 'other')), code TEXT NOT NULL, onset INTEGER, abatement INTEGER")}
CREATE INDEX conditions_pid ON conditions(pid);
${record('immunizations', 'cvx TEXT NOT NULL, t INTEGER NOT NULL')}
CREATE INDEX immunizations_pid ON immunizations(pid);
${record('exposures', 'kind TEXT NOT NULL, t INTEGER NOT NULL')}
CREATE INDEX exposures_pid ON exposures(pid);
${record('consent_events', "purpose TEXT NOT NULL CHECK (purpose IN ('model-training', 'scoring')), decision TEXT NOT NULL CHECK (decision IN ('permit', 'deny')), t INTEGER NOT NULL")}
CREATE INDEX consent_events_pid ON consent_events(pid, purpose, t);
${record('labels', 'value REAL NOT NULL, t INTEGER NOT NULL')}
CREATE INDEX labels_pid ON labels(pid, t);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  action TEXT NOT NULL,
  pid TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_pid ON audit(pid);
`,
};

/** Every migration, in order. Append new ones; never edit an applied one. */
export const TWIN_MIGRATIONS: readonly TwinMigration[] = [migration001];
