/** In memory: the hash-chained audit log and its signed heads. */
import { chainAuditEntry } from '@twinfed/shared';
import { AUDIT_KEYS } from '../keys';
import type { AuditEntry, AuditHead, NewAuditEntry } from '../records';
import type { AuditHeadPayload, AuditStore } from '../types';
import { cloneRecord } from '../util';
import type { MemoryContext } from './context';
import type { MemoryState } from './state';

const copyAudit = (a: AuditEntry): AuditEntry => cloneRecord(a, AUDIT_KEYS);

/** Chains and appends one entry (also the tail of every audited write). */
export function appendAudit(s: MemoryState, e: NewAuditEntry): AuditEntry {
  const last = s.audit[s.audit.length - 1] ?? null;
  const chained = chainAuditEntry(last, {
    at: e.at,
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    detail: e.detail,
  });
  const stored = copyAudit({ ...chained, detail: e.detail });
  s.audit.push(stored);
  return copyAudit(stored);
}

/** Signs and stores the head at `entry` (right after appending it). */
export function signHead(s: MemoryState, entry: AuditEntry, sign: (h: AuditHeadPayload) => string): AuditHead {
  const payload = { seq: entry.seq, headHash: entry.hash, at: entry.at };
  const head = { ...payload, signature: sign(payload) };
  s.auditHeads.push(head);
  return { ...head };
}

export function audit(x: MemoryContext): AuditStore {
  return {
    async appendAudit(e) {
      return appendAudit(x.s, e);
    },

    async listAudit(options) {
      const limit = Math.max(0, Math.floor(options.limit));
      const after = options.afterSeq ?? 0;
      const matching = x.s.audit.filter((a) => a.seq > after);
      if (options.order === 'desc') matching.reverse();
      return matching.slice(0, limit).map(copyAudit);
    },

    async listAuditHeads() {
      return x.s.auditHeads.map((h) => ({ ...h }));
    },

    async auditSequenceEnd() {
      const all = x.s.audit;
      return all.length === 0 ? 0 : all[all.length - 1]!.seq;
    },
  };
}
