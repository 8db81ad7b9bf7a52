/** Contract: the hash-chained audit log — chaining, writes that append in the same step, signed heads, verification. */
import { describe, expect, test } from '@jest/globals';
import { AUDIT_GENESIS, auditEntryHash, generateIdentity, signAuditHead } from '@twinfed/shared';
import { verifyStoreAudit } from '../../../audit/verify';
import type { NewAuditEntry, Store } from '../../types';
import { bytes, federation, type HarnessRef, round, seedFederation, site, t, version } from './fixtures';

const entry = (action: string, subject: string, i = 0): NewAuditEntry => ({
  at: t(i),
  actor: 'operator:ops',
  action,
  subject,
  detail: { i },
});

async function actions(store: Store): Promise<string[]> {
  return (await store.listAudit({ limit: 1000 })).map((e) => `${e.action} ${e.subject}`);
}

export function auditContract(h: HarnessRef): void {
  const key = generateIdentity();
  const signer = (head: { seq: number; headHash: string; at: string }) => signAuditHead(head, key.sign.secretKey);

  describe('audit chain', () => {
    test('chains entries: seq from 1, prevHash is the previous hash, hash covers the entry', async () => {
      for (let i = 1; i <= 4; i++) await h.store.appendAudit(entry('a', `s${i}`, i));
      const s = await h.again();
      const all = await s.listAudit({ limit: 100 });
      expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(all[0]!.prevHash).toBe(AUDIT_GENESIS);
      all.forEach((e, i) => {
        expect(e.hash).toBe(auditEntryHash(e));
        if (i > 0) expect(e.prevHash).toBe(all[i - 1]!.hash);
      });
      expect(await verifyStoreAudit(s, key.sign.publicKey)).toMatchObject({
        ok: true,
        entries: 4,
        heads: 0,
        head: { seq: 4, hash: all[3]!.hash },
        firstBad: null,
      });
      expect(await s.auditSequenceEnd()).toBe(4);
    });

    test('identity writes append their entry only when they take effect', async () => {
      await h.store.createApiToken(
        { id: 'tok-1', name: 'ops', role: 'operator', tokenHash: 'h-1', createdAt: t(0) },
        entry('token.create', 'tok-1'),
      );
      await expect(
        h.store.createApiToken(
          { id: 'tok-1', name: 'x', role: 'operator', tokenHash: 'h-2', createdAt: t(0) },
          entry('token.create', 'dup'),
        ),
      ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      expect(await h.store.revokeApiToken('tok-1', t(1), entry('token.revoke', 'tok-1'))).toBe(true);
      expect(await h.store.revokeApiToken('tok-1', t(2), entry('token.revoke', 'again'))).toBe(false);
      await h.store.createInvitation(
        { id: 'inv-1', siteName: 'A', tokenHash: 'th-1', createdAt: t(0), expiresAt: t(1000) },
        entry('site.invite', 'inv-1'),
      );
      expect(
        await h.store.enrollSite({
          tokenHash: 'nope',
          now: t(5),
          site: site('site-x'),
          audit: entry('site.enroll', 'site-x'),
        }),
      ).toBeNull();
      expect(
        await h.store.enrollSite({
          tokenHash: 'th-1',
          now: t(5),
          site: site('site-a'),
          audit: entry('site.enroll', 'site-a'),
        }),
      ).not.toBeNull();
      expect(await h.store.revokeSite('site-a', t(6), entry('site.revoke', 'site-a'))).not.toBeNull();
      await h.store.revokeSite('site-a', t(7), entry('site.revoke', 'again'));
      expect(await h.store.revokeSite('site-none', t(7), entry('site.revoke', 'site-none'))).toBeNull();
      const s = await h.again();
      expect(await actions(s)).toEqual([
        'token.create tok-1',
        'token.revoke tok-1',
        'site.invite inv-1',
        'site.enroll site-a',
        'site.revoke site-a',
      ]);
      expect((await verifyStoreAudit(s, key.sign.publicKey)).ok).toBe(true);
    });

    test('federation, round and publish writes append in the same step; a failed CAS appends nothing', async () => {
      await h.store.createFederation(federation('fed-1'), entry('federation.create', 'fed-1'));
      await expect(
        h.store.createFederation(federation('fed-1'), entry('federation.create', 'dup')),
      ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await h.store.publishVersion({
        version: version('v0', 'fed-1', 0),
        weights: bytes(8),
        audit: entry('version.publish', 'v0'),
        signAuditHead: signer,
      });
      await h.store.createRound(round('fed-1', 1), entry('round.open', 'fed-1/1'));
      expect(
        await h.store.transitionRound({
          federationId: 'fed-1',
          round: 1,
          from: ['collecting'],
          to: 'aggregating',
          audit: entry('round.close', 'wrong'),
        }),
      ).toBeNull();
      expect(
        await h.store.transitionRound({
          federationId: 'fed-1',
          round: 1,
          from: ['open'],
          to: 'aggregating',
          audit: entry('round.close', 'fed-1/1'),
        }),
      ).not.toBeNull();
      const refused = {
        version: version('v1', 'fed-1', 1, 'v0'),
        weights: bytes(8),
        round: { federationId: 'fed-1', round: 1, from: ['collecting' as const] },
        audit: entry('version.publish', 'refused'),
        signAuditHead: signer,
      };
      expect(await h.store.publishVersion(refused)).toBeNull();
      expect(
        await h.store.publishVersion({
          ...refused,
          round: { federationId: 'fed-1', round: 1, from: ['aggregating'] },
          audit: entry('version.publish', 'v1'),
        }),
      ).not.toBeNull();
      const s = await h.again();
      expect(await actions(s)).toEqual([
        'federation.create fed-1',
        'version.publish v0',
        'round.open fed-1/1',
        'round.close fed-1/1',
        'version.publish v1',
      ]);
      const heads = await s.listAuditHeads();
      const all = await s.listAudit({ limit: 100 });
      expect(heads.map((x) => ({ seq: x.seq, headHash: x.headHash }))).toEqual([
        { seq: 2, headHash: all[1]!.hash },
        { seq: 5, headHash: all[4]!.hash },
      ]);
      expect(await verifyStoreAudit(s, key.sign.publicKey)).toMatchObject({
        ok: true,
        entries: 5,
        heads: 2,
        lastSignedHead: { seq: 5 },
      });
    });

    test('a head that does not verify under the coordinator key is reported', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      await h.store.publishVersion({
        version: version('v0', 'fed-1', 0),
        weights: bytes(8),
        audit: entry('version.publish', 'v0'),
        signAuditHead: signer,
      });
      const report = await verifyStoreAudit(await h.again(), generateIdentity().sign.publicKey);
      expect(report.ok).toBe(false);
      expect(report.badHead).toMatchObject({ seq: 1 });
      expect(report.firstBad).toBeNull();
    });
  });
}
