import type { Migration } from './types';

/**
 * The audit log becomes a hash chain: each entry stores the previous entry's hash and its own (see shared/src/audit);
 * rows written before this migration are chained when the store next opens. `audit_heads` holds the chain heads the
 * coordinator signed at each version publish. Triggers make the log append-only for the coordinator itself (an
 * entry's hash columns may be filled once); someone with the file can drop them, which is what the chain detects.
 */
export const migration006: Migration = {
  version: 6,
  name: 'audit-chain',
  sql: `
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

CREATE TABLE audit_heads (
  seq INTEGER PRIMARY KEY,
  head_hash TEXT NOT NULL,
  at TEXT NOT NULL,
  signature TEXT NOT NULL
);

CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log WHEN OLD.hash IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_heads_append_only_update BEFORE UPDATE ON audit_heads
BEGIN SELECT RAISE(ABORT, 'audit_heads is append-only'); END;
CREATE TRIGGER audit_heads_append_only_delete BEFORE DELETE ON audit_heads
BEGIN SELECT RAISE(ABORT, 'audit_heads is append-only'); END;
`,
};
