/** The SQLite primitives behind the shared write algorithm ({@link applyWrites}). */
import { aliasKey, hospitalKey, type ApplyBackend } from '../apply';
import { RECORD_TABLES, type RecordType } from '../records';
import type { PatientChange, TwinSex } from '../store-types';
import type { SqlContext } from './context';

const cols = (type: RecordType): readonly string[] => RECORD_TABLES[type].columns;
const table = (type: RecordType): string => RECORD_TABLES[type].table;

/** An {@link ApplyBackend} over one connection (call inside a transaction). */
export function sqliteBackend(c: SqlContext): ApplyBackend {
  return {
    pidOfKey: (key) =>
      (c.stmt('SELECT pid FROM patient_keys WHERE key = ?').pluck().get(key) as string | undefined) ?? null,
    demographics: (pid) => {
      const row = c.stmt('SELECT birth_date, sex FROM demographics WHERE pid = ?').get(pid) as
        { birth_date: string | null; sex: TwinSex } | undefined;
      return row ? { birthDate: row.birth_date, sex: row.sex } : null;
    },
    insertPatient: ({ pid, hospitalId, demographics, at }) => {
      c.stmt('INSERT INTO patients (pid, seq, created_at) VALUES (?, 0, ?)').run(pid, at);
      c.stmt("INSERT INTO patient_keys (key, kind, pid) VALUES (?, 'hospital-id', ?)").run(
        hospitalKey(hospitalId),
        pid,
      );
      c.stmt('INSERT INTO demographics (pid, birth_date, sex) VALUES (?, ?, ?)').run(
        pid,
        demographics.birthDate,
        demographics.sex,
      );
    },
    updateDemographics: (pid, d) => {
      c.stmt('UPDATE demographics SET birth_date = ?, sex = ? WHERE pid = ?').run(d.birthDate, d.sex, pid);
    },
    insertAlias: (alias, pid) => {
      c.stmt("INSERT INTO patient_keys (key, kind, pid) VALUES (?, 'alias', ?)").run(aliasKey(alias), pid);
    },
    findRecord: (type, key) => {
      const row = c
        .stmt(`SELECT pid, ${cols(type).join(', ')} FROM ${table(type)} WHERE source_key = ?`)
        .raw()
        .get(key) as (string | number | null)[] | undefined;
      return row ? { pid: row[0] as string, content: row.slice(1) } : null;
    },
    insertRecord: ({ type, key, pid, content, at }) => {
      const names = cols(type);
      const sql = `INSERT INTO ${table(type)} (source_key, pid, ${names.join(', ')}, recorded_at) VALUES (?, ?, ${names.map(() => '?').join(', ')}, ?)`;
      c.stmt(sql).run(key, pid, ...(content as unknown[]), at);
    },
    updateRecord: ({ type, key, pid, content }) => {
      const sql = `UPDATE ${table(type)} SET pid = ?, ${cols(type)
        .map((n) => `${n} = ?`)
        .join(', ')} WHERE source_key = ?`;
      c.stmt(sql).run(pid, ...(content as unknown[]), key);
    },
    appendAudit: (e) => {
      c.stmt('INSERT INTO audit (at, action, pid, detail) VALUES (?, ?, ?, ?)').run(
        e.at,
        e.action,
        e.pid,
        JSON.stringify(e.detail),
      );
    },
    bumpSeq: (pids) => {
      if (pids.length === 0) return [];
      let seq = c.stmt("SELECT value FROM meta WHERE key = 'change_seq'").pluck().get() as number;
      const out: PatientChange[] = pids.map((pid) => {
        seq += 1;
        c.stmt('UPDATE patients SET seq = ? WHERE pid = ?').run(seq, pid);
        return { pid, seq };
      });
      c.stmt("UPDATE meta SET value = ? WHERE key = 'change_seq'").run(seq);
      return out;
    },
  };
}
