/** Operator routes of the audit trail: page the chain, read the signed heads, verify both. */
import type { Request, Response } from 'express';
import { TwinfedError, api, type AuditListResponse } from '@twinfed/shared';
import { verifyStoreAudit } from '../../audit/verify';
import type { HttpDeps } from '../deps';

const ListQuery = api.audit.get.request.query;

/** Handlers for `GET /v1/admin/audit`, `/v1/admin/audit/heads` and `/v1/admin/audit/verify` (operator only). */
export function auditHandlers(deps: HttpDeps) {
  return {
    list: async (req: Request, res: Response) => {
      const q = ListQuery.safeParse(req.query);
      if (!q.success) throw new TwinfedError('VALIDATION_FAILED', 'Use ?after=<seq ≥ 0>&limit=<1…1000>.');
      const entries = await deps.store.listAudit({ afterSeq: q.data.after, limit: q.data.limit });
      const body: AuditListResponse = {
        entries,
        next: entries.length === q.data.limit ? entries[entries.length - 1]!.seq : null,
      };
      res.json(body);
    },
    heads: async (_req: Request, res: Response) => {
      res.json({ heads: await deps.store.listAuditHeads() });
    },
    verify: async (_req: Request, res: Response) => {
      res.json(await verifyStoreAudit(deps.store, deps.identity.sign.publicKey));
    },
  };
}
