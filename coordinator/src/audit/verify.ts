/** Verifies the coordinator's audit trail, from its store or straight from a database file (forensics). */
import { verifyAuditTrail, type AuditVerifyReport } from '@twinfed/shared';
import type { Store } from '../store';
import { openAuditFile } from '../store/sqlite/audit-file';

const PAGE = 500;

/** The whole chain and every signed head of a running store, heads checked against `signPublicKey`. */
export async function verifyStoreAudit(store: Store, signPublicKey: Uint8Array): Promise<AuditVerifyReport> {
  return verifyAuditTrail({
    page: (afterSeq) => store.listAudit({ afterSeq, limit: PAGE }),
    heads: await store.listAuditHeads(),
    signPublicKey,
    sequenceEnd: await store.auditSequenceEnd(),
  });
}

/** The same checks on a database file opened read-only (e.g. a copy taken for an investigation). */
export async function verifyAuditDatabase(file: string, signPublicKey: Uint8Array): Promise<AuditVerifyReport> {
  const reader = openAuditFile(file);
  try {
    return await verifyAuditTrail({
      page: async (afterSeq) => reader.page(afterSeq, PAGE),
      heads: reader.heads(),
      signPublicKey,
      sequenceEnd: reader.sequenceEnd(),
    });
  } finally {
    reader.close();
  }
}
