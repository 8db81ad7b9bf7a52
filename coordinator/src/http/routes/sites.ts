import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import {
  CreateInvitationSchema,
  EnrollRequestSchema,
  PROTOCOL_VERSION,
  TwinfedError,
  fingerprint,
  fromB64,
  generateToken,
  hashToken,
  publicPart,
  verifyEnrollProof,
} from '@twinfed/shared';
import { idParam, jsonBody } from '../body';
import { actorOf, siteOf } from '../auth';
import type { HttpDeps } from '../deps';
import { siteView } from '../views';
import { visibleSites } from '../study-scope';

/** Handlers for enrollment and site administration. */
export function siteHandlers(deps: HttpDeps) {
  const iso = () => new Date(deps.now()).toISOString();
  const keys = () => {
    const pub = publicPart(deps.identity);
    return { protocol: PROTOCOL_VERSION, ...pub, fingerprint: fingerprint(pub) };
  };
  return {
    coordinatorKeys: async (_req: Request, res: Response) => {
      res.json(keys());
    },
    enroll: async (req: Request, res: Response) => {
      const body = jsonBody(req, EnrollRequestSchema);
      if (body.protocol !== PROTOCOL_VERSION) throw new TwinfedError('PROTOCOL_MISMATCH');
      if (fromB64(body.signPublicKey).length !== 32 || fromB64(body.boxPublicKey).length !== 32) {
        throw new TwinfedError('VALIDATION_FAILED', 'Public keys must be 32 bytes.');
      }
      // Before the token is looked at or spent: the site must hold the secret halves of the keys it registers.
      const site = { signPublicKey: body.signPublicKey, boxPublicKey: body.boxPublicKey };
      if (!verifyEnrollProof({ token: body.token, coordinator: deps.identity, site, proof: body.proof })) {
        throw new TwinfedError(
          'ENROLL_PROOF_INVALID',
          body.proof ? undefined : 'The enrollment carries no proof of key possession; update twinfed-site.',
        );
      }
      const tokenHash = hashToken(body.token);
      const invitation = await deps.store.findInvitationByTokenHash(tokenHash);
      const slug =
        (invitation?.siteName ?? 'site')
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-|-$/g, '')
          .slice(0, 40) || 'site';
      const id = `site-${slug}-${randomBytes(3).toString('hex')}`;
      const at = iso();
      const enrolled = await deps.store.enrollSite({
        tokenHash,
        now: at,
        site: { id, name: invitation?.siteName ?? slug, ...site, enrolledAt: at },
        audit: {
          at,
          actor: `site:${id}`,
          action: 'site.enroll',
          subject: id,
          detail: {
            name: invitation?.siteName ?? slug,
            invitationId: invitation?.id ?? null,
            keyFingerprint: fingerprint(site),
          },
        },
      });
      if (!enrolled) throw new TwinfedError('INVALID_TOKEN');
      deps.logger.info({ siteId: enrolled.id, name: enrolled.name }, 'site enrolled');
      res.status(201).json({ siteId: enrolled.id, name: enrolled.name, coordinator: keys() });
    },
    self: async (req: Request, res: Response) => {
      const site = await deps.store.getSite(siteOf(req));
      if (!site) throw new TwinfedError('UNKNOWN_SITE');
      res.json(siteView(site));
    },
    invite: async (req: Request, res: Response) => {
      const body = jsonBody(req, CreateInvitationSchema);
      const token = generateToken('tfe_');
      const at = iso();
      const expiresAt = new Date(deps.now() + body.ttlSeconds * 1000).toISOString();
      const invitationId = `inv-${randomBytes(6).toString('hex')}`;
      const inv = await deps.store.createInvitation(
        { id: invitationId, siteName: body.siteName, tokenHash: hashToken(token), createdAt: at, expiresAt },
        {
          at,
          actor: actorOf(req),
          action: 'site.invite',
          subject: invitationId,
          detail: { siteName: body.siteName, expiresAt },
        },
      );
      res.status(201).json({ invitationId: inv.id, siteName: inv.siteName, token, expiresAt });
    },
    list: async (req: Request, res: Response) => {
      res.json({ sites: (await visibleSites(req, deps)).map(siteView) });
    },
    revoke: async (req: Request, res: Response) => {
      const id = idParam(req, 'siteId');
      const at = iso();
      const site = await deps.store.revokeSite(id, at, {
        at,
        actor: actorOf(req),
        action: 'site.revoke',
        subject: id,
        detail: {},
      });
      if (!site) throw new TwinfedError('NOT_FOUND', 'The site does not exist.');
      deps.onSiteRevoked?.(id);
      deps.logger.warn({ siteId: id }, 'site revoked');
      res.json({ site: siteView(site) });
    },
  };
}
