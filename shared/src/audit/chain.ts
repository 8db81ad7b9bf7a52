/**
 * Hash-chained audit logs (the coordinator's and each site's). Entry n carries the hash of entry n − 1
 * (`prevHash`; the first carries {@link AUDIT_GENESIS}), and its own `hash` = SHA-256 of
 * `"TWINFED-AUDIT-ENTRY-V1\n" ‖ canonicalJson({ seq, at, actor, action, subject, detail, prevHash })`.
 * Editing, deleting, inserting or reordering any entry changes every later link, so {@link AuditChainVerifier}
 * names the first entry that no longer fits. Entries never hold secrets (tokens, keys, weights).
 */
import { sha256Hex } from '../crypto/hash';
import { canonicalJson } from '../envelope/canonical-json';

/** `prevHash` of the first entry of a chain. */
export const AUDIT_GENESIS = '0'.repeat(64);

/** The hashed fields of an audit entry. */
export interface AuditEntryBody {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  detail: Record<string, unknown>;
  prevHash: string;
}

/** An audit entry as stored: its body and its own hash. */
export interface ChainedAuditEntry extends AuditEntryBody {
  hash: string;
}

/** The SHA-256 (hex) of an entry's body. */
export function auditEntryHash(e: AuditEntryBody): string {
  const body = {
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    detail: e.detail,
    prevHash: e.prevHash,
  };
  return sha256Hex('TWINFED-AUDIT-ENTRY-V1\n' + canonicalJson(body));
}

/** The next entry of a chain whose last entry is `last` (null: the chain is empty). */
export function chainAuditEntry(
  last: { seq: number; hash: string } | null,
  e: Omit<AuditEntryBody, 'seq' | 'prevHash'>,
): ChainedAuditEntry {
  const body: AuditEntryBody = {
    seq: last ? last.seq + 1 : 1,
    at: e.at,
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    detail: e.detail,
    prevHash: last ? last.hash : AUDIT_GENESIS,
  };
  return { ...body, hash: auditEntryHash(body) };
}

/** The first entry that breaks a chain, and why. */
export interface AuditBreak {
  /** The seq of the offending entry as stored (for a missing tail: the last seq the chain should reach). */
  seq: number;
  reason: string;
}

/**
 * Walks a chain incrementally (entries in stored order, e.g. page by page): seqs must run 1, 2, 3, … without
 * gaps, each `prevHash` must be the previous entry's hash and each `hash` must match its body. Stops at the
 * first break. {@link hashAt} gives the verified hash at each seq so signed heads can be checked against it.
 */
export class AuditChainVerifier {
  private last: { seq: number; hash: string } | null = null;
  private broken: AuditBreak | null = null;
  private readonly hashes = new Map<number, string>();
  checked = 0;

  /** Feeds the next stored entry; false once the chain is broken (later entries are ignored). */
  push(e: ChainedAuditEntry): boolean {
    if (this.broken) return false;
    const expectedSeq = this.last ? this.last.seq + 1 : 1;
    const expectedPrev = this.last ? this.last.hash : AUDIT_GENESIS;
    let reason: string | null = null;
    if (!Number.isSafeInteger(e.seq) || e.seq !== expectedSeq) {
      reason =
        e.seq > expectedSeq
          ? `entries ${expectedSeq}…${e.seq - 1} are missing or were moved (found seq ${e.seq} where seq ${expectedSeq} belongs)`
          : `out of order (found seq ${e.seq} where seq ${expectedSeq} belongs)`;
    } else if (typeof e.hash !== 'string' || typeof e.prevHash !== 'string') {
      reason = 'the entry has no hash';
    } else if (e.prevHash !== expectedPrev) {
      reason = 'prevHash does not match the previous entry (an entry before it was changed, removed or moved)';
    } else {
      let actual: string | null = null;
      try {
        actual = auditEntryHash(e);
      } catch {
        actual = null;
      }
      if (actual !== e.hash) reason = 'the entry was changed (its hash does not match its content)';
    }
    if (reason) {
      this.broken = { seq: e.seq, reason };
      return false;
    }
    this.last = { seq: e.seq, hash: e.hash };
    this.hashes.set(e.seq, e.hash);
    this.checked++;
    return true;
  }

  /** Records a break found outside the entries (e.g. a missing tail). Keeps the first. */
  fail(b: AuditBreak): void {
    this.broken ??= b;
  }

  get firstBad(): AuditBreak | null {
    return this.broken;
  }

  /** The last verified entry (null: none). */
  get head(): { seq: number; hash: string } | null {
    return this.last;
  }

  /** The verified hash of entry `seq`, or undefined when it was not (yet) verified. */
  hashAt(seq: number): string | undefined {
    return this.hashes.get(seq);
  }
}
