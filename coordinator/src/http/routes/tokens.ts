import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { CreateApiTokenSchema, TwinfedError, generateToken, hashToken, type ApiTokenView } from '@twinfed/shared';
import type { ApiToken } from '../../store';
import { actorOf } from '../auth';
import { idParam, jsonBody } from '../body';
import type { HttpDeps } from '../deps';

const PREFIX = { operator: 'tfo_', researcher: 'tfr_' } as const;

function tokenView(t: ApiToken): ApiTokenView {
  return { id: t.id, name: t.name, role: t.role, studies: t.studies, createdAt: t.createdAt, revokedAt: t.revokedAt };
}

/** Handlers for operator and researcher bearer tokens (operator only). A token's value is returned once, at creation. */
export function tokenHandlers(deps: HttpDeps) {
  const iso = () => new Date(deps.now()).toISOString();
  return {
    create: async (req: Request, res: Response) => {
      const body = jsonBody(req, CreateApiTokenSchema);
      const token = generateToken(PREFIX[body.role]);
      const at = iso();
      const id = `tok-${randomBytes(6).toString('hex')}`;
      const studies = body.studies ?? [];
      const created = await deps.store.createApiToken(
        { id, name: body.name, role: body.role, studies, tokenHash: hashToken(token), createdAt: at },
        {
          at,
          actor: actorOf(req),
          action: 'token.create',
          subject: id,
          detail: { name: body.name, role: body.role, ...(studies.length > 0 ? { studies } : {}) },
        },
      );
      res.status(201).json({ ...tokenView(created), token });
    },
    list: async (_req: Request, res: Response) => {
      res.json({ tokens: (await deps.store.listApiTokens()).map(tokenView) });
    },
    revoke: async (req: Request, res: Response) => {
      const id = idParam(req, 'tokenId');
      const at = iso();
      const existing = (await deps.store.listApiTokens()).find((t) => t.id === id);
      if (!existing) throw new TwinfedError('NOT_FOUND', 'The token does not exist.');
      await deps.store.revokeApiToken(id, at, {
        at,
        actor: actorOf(req),
        action: 'token.revoke',
        subject: id,
        detail: { name: existing.name, role: existing.role },
      });
      res.json(tokenView({ ...existing, revokedAt: existing.revokedAt ?? at }));
    },
  };
}
