/**
 * The in-memory twin store: the same semantics as the SQLite store (one contract suite runs against both),
 * for tests and simulations. Nothing is persisted.
 */
import { TwinfedError } from '@twinfed/shared';
import { aliasKey, applyWrites, hospitalKey, resolveRef, type ApplyBackend, type Demographics } from './apply';
import { ChangeListeners } from './change-listeners';
import { pseudonymousId } from './pseudonym';
import type { RecordType } from './records';
import { snapshotOf, type StoredRecord } from './memory-snapshot';
import type * as T from './store-types';
import type { TwinSnapshot } from './types';

interface MemoryTwinStoreOptions {
  /** The site secret (HMAC key of pseudonymous ids). */
  secret: Uint8Array;
  /** Clock for audit entries (default Date.now). */
  now?: () => number;
}

interface PatientRow extends Demographics {
  hospitalId: string;
  seq: number;
}

export class MemoryTwinStore implements T.TwinStore {
  private readonly secret: Uint8Array;
  private readonly now: () => number;
  private readonly keys = new Map<string, string>();
  private readonly patients = new Map<string, PatientRow>();
  private readonly records = new Map<string, StoredRecord>();
  private readonly byPid = new Map<string, Set<StoredRecord>>();
  private readonly audit: T.TwinAuditEntry[] = [];
  private readonly listeners = new ChangeListeners();
  private rowId = 0;
  private seq = 0;
  private closed = false;

  constructor(options: MemoryTwinStoreOptions) {
    this.secret = Uint8Array.from(options.secret);
    this.now = options.now ?? Date.now;
  }

  pidFor(hospitalId: string): string {
    return pseudonymousId(this.secret, hospitalId);
  }

  async apply(writes: readonly T.TwinWrite[]): Promise<T.WriteOutcome[]> {
    this.open();
    const { outcomes, changes } = applyWrites({ backend: this.backend, secret: this.secret, writes, now: this.now() });
    this.listeners.emit(changes);
    return outcomes;
  }

  async resolvePatient(ref: T.PatientRef): Promise<string | null> {
    this.open();
    return resolveRef(this.backend, this.secret, ref);
  }

  async getTwin(pid: string, options: T.GetTwinOptions = {}): Promise<TwinSnapshot | null> {
    this.open();
    const p = this.patients.get(pid);
    if (!p) return null;
    return snapshotOf({ pid, birthDate: p.birthDate, sex: p.sex, records: this.byPid.get(pid) ?? new Set(), options });
  }

  async listPids(options: T.ListPidsOptions = {}): Promise<string[]> {
    this.open();
    const at = options.at ?? this.now();
    const pids = [...this.patients.keys()].sort();
    const purpose = options.consentFor;
    if (!purpose) return pids;
    return pids.filter((pid) => {
      let latest: { t: number; id: number; decision: unknown } | undefined;
      for (const r of this.byPid.get(pid) ?? []) {
        const t = r.content[2] as number;
        if (r.type !== 'consent' || r.content[0] !== purpose || t > at) continue;
        if (!latest || t > latest.t || (t === latest.t && r.id > latest.id))
          latest = { t, id: r.id, decision: r.content[1] };
      }
      return latest?.decision === 'permit';
    });
  }

  async changedSince(seq: number): Promise<{ changes: T.PatientChange[]; seq: number }> {
    this.open();
    const changes = [...this.patients.entries()]
      .filter(([, p]) => p.seq > seq)
      .map(([pid, p]) => ({ pid, seq: p.seq }));
    changes.sort((a, b) => a.seq - b.seq);
    return { changes, seq: this.seq };
  }

  onChange(listener: (changes: readonly T.PatientChange[]) => void): () => void {
    return this.listeners.add(listener);
  }

  async counts(): Promise<T.TwinCounts> {
    this.open();
    const n = (type: RecordType) => [...this.records.values()].filter((r) => r.type === type).length;
    return {
      patients: this.patients.size,
      observations: n('observation'),
      conditions: n('condition'),
      immunizations: n('immunization'),
      exposures: n('exposure'),
      consents: n('consent'),
      labels: n('label'),
    };
  }

  async resolveHospitalId(pid: string, options: T.ResolveHospitalIdOptions): Promise<string | null> {
    this.open();
    const p = this.patients.get(pid);
    if (!p) return null;
    this.audit.push({
      seq: this.audit.length + 1,
      at: this.now(),
      action: 'hospital-id-resolved',
      pid,
      detail: { actor: options.actor, reason: options.reason },
    });
    return p.hospitalId;
  }

  async listAudit(options: { pid?: string } = {}): Promise<T.TwinAuditEntry[]> {
    this.open();
    return this.audit
      .filter((e) => options.pid === undefined || e.pid === options.pid)
      .map((e) => ({ ...e, detail: { ...e.detail } }));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  private open(): void {
    if (this.closed) throw new TwinfedError('INTERNAL', 'The twin store is closed.');
  }

  private readonly backend: ApplyBackend = {
    pidOfKey: (key) => this.keys.get(key) ?? null,
    demographics: (pid) => {
      const p = this.patients.get(pid);
      return p ? { birthDate: p.birthDate, sex: p.sex } : null;
    },
    insertPatient: ({ pid, hospitalId, demographics }) => {
      this.patients.set(pid, { ...demographics, hospitalId, seq: 0 });
      this.keys.set(hospitalKey(hospitalId), pid);
    },
    updateDemographics: (pid, d) => {
      const p = this.patients.get(pid);
      if (p) Object.assign(p, d);
    },
    insertAlias: (alias, pid) => void this.keys.set(aliasKey(alias), pid),
    findRecord: (type, key) => {
      const r = this.records.get(`${type}|${key}`);
      return r ? { pid: r.pid, content: r.content } : null;
    },
    insertRecord: ({ type, key, pid, content }) => {
      const r: StoredRecord = { id: ++this.rowId, type, pid, content: [...content] };
      this.records.set(`${type}|${key}`, r);
      this.index(r);
    },
    updateRecord: ({ type, key, pid, content }) => {
      const r = this.records.get(`${type}|${key}`);
      if (!r) return;
      this.byPid.get(r.pid)?.delete(r);
      r.pid = pid;
      r.content = [...content];
      this.index(r);
    },
    appendAudit: (entry) => void this.audit.push({ ...entry, seq: this.audit.length + 1 }),
    bumpSeq: (pids) =>
      pids.map((pid) => {
        const seq = ++this.seq;
        const p = this.patients.get(pid);
        if (p) p.seq = seq;
        return { pid, seq };
      }),
  };

  private index(r: StoredRecord): void {
    let set = this.byPid.get(r.pid);
    if (!set) this.byPid.set(r.pid, (set = new Set()));
    set.add(r);
  }
}
