/** Contract: API tokens, invitations, enrollment, sites, nonces. */
import { describe, expect, test } from '@jest/globals';
import { type HarnessRef, site, t } from './fixtures';

export function identityContract(h: HarnessRef): void {
  test('the first coordinator key claim wins, and every later claim reads it', async () => {
    expect(await h.store.claimCoordinatorKey({ fingerprint: 'aaaa-1111', claimedAt: t(1) })).toEqual({
      fingerprint: 'aaaa-1111',
      claimedAt: t(1),
    });
    expect(await h.store.claimCoordinatorKey({ fingerprint: 'bbbb-2222', claimedAt: t(2) })).toEqual({
      fingerprint: 'aaaa-1111',
      claimedAt: t(1),
    });
    const s = await h.again();
    expect(await s.claimCoordinatorKey({ fingerprint: 'cccc-3333', claimedAt: t(3) })).toEqual({
      fingerprint: 'aaaa-1111',
      claimedAt: t(1),
    });
  });

  describe('api tokens', () => {
    test('creates, finds by hash, lists in creation order and revokes once', async () => {
      const created = await h.store.createApiToken({
        id: 'tok-2',
        name: 'ops',
        role: 'operator',
        tokenHash: 'h2',
        createdAt: t(2),
      });
      expect(created).toEqual({
        id: 'tok-2',
        name: 'ops',
        role: 'operator',
        studies: [],
        tokenHash: 'h2',
        createdAt: t(2),
        revokedAt: null,
      });
      await h.store.createApiToken({ id: 'tok-1', name: 'res', role: 'researcher', tokenHash: 'h1', createdAt: t(1) });
      expect(await h.store.revokeApiToken('tok-1', t(5))).toBe(true);
      expect(await h.store.revokeApiToken('tok-1', t(6))).toBe(false);
      expect(await h.store.revokeApiToken('nope', t(6))).toBe(false);
      const s = await h.again();
      expect(await s.findApiTokenByHash('h2')).toEqual(created);
      expect((await s.findApiTokenByHash('h1'))?.revokedAt).toBe(t(5));
      expect(await s.findApiTokenByHash('unknown')).toBeNull();
      expect((await s.listApiTokens()).map((x) => x.id)).toEqual(['tok-1', 'tok-2']);
    });

    test('rejects a duplicate id or token hash', async () => {
      await h.store.createApiToken({ id: 'a', name: 'a', role: 'operator', tokenHash: 'ha', createdAt: t(0) });
      await expect(
        h.store.createApiToken({ id: 'a', name: 'b', role: 'operator', tokenHash: 'hb', createdAt: t(0) }),
      ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(
        h.store.createApiToken({ id: 'b', name: 'b', role: 'researcher', tokenHash: 'ha', createdAt: t(0) }),
      ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      expect(await h.store.listApiTokens()).toHaveLength(1);
    });
  });

  describe('invitations and enrollment', () => {
    const invite = (id: string, tokenHash: string, expiresAt = t(600)) =>
      h.store.createInvitation({ id, siteName: `site ${id}`, tokenHash, createdAt: t(0), expiresAt });

    test('creates invitations unused and rejects duplicates', async () => {
      expect(await invite('inv-1', 'th-1')).toEqual({
        id: 'inv-1',
        siteName: 'site inv-1',
        tokenHash: 'th-1',
        createdAt: t(0),
        expiresAt: t(600),
        usedAt: null,
        siteId: null,
      });
      await expect(invite('inv-1', 'th-2')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(invite('inv-2', 'th-1')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      expect(await h.store.listInvitations()).toHaveLength(1);
      expect(await h.store.findInvitationByTokenHash('th-1')).toMatchObject({ id: 'inv-1', siteName: 'site inv-1' });
      expect(await h.store.findInvitationByTokenHash('th-2')).toBeNull();
    });

    test('a token enrolls exactly one site, once', async () => {
      await invite('inv-1', 'th-1');
      const enrolled = await h.store.enrollSite({ tokenHash: 'th-1', now: t(10), site: site('site-a', t(10)) });
      expect(enrolled).toEqual({ ...site('site-a', t(10)), revokedAt: null, lastSeenAt: null, missedRounds: 0 });
      expect(await h.store.enrollSite({ tokenHash: 'th-1', now: t(11), site: site('site-b', t(11)) })).toBeNull();
      const s = await h.again();
      expect(await s.getSite('site-a')).toEqual(enrolled);
      expect(await s.getSite('site-b')).toBeNull();
      expect(await s.listInvitations()).toEqual([expect.objectContaining({ usedAt: t(10), siteId: 'site-a' })]);
    });

    test('refuses unknown and expired tokens without writing', async () => {
      await invite('inv-1', 'th-1', t(100));
      expect(await h.store.enrollSite({ tokenHash: 'other', now: t(10), site: site('x') })).toBeNull();
      expect(await h.store.enrollSite({ tokenHash: 'th-1', now: t(100), site: site('y') })).toBeNull();
      expect(await h.store.enrollSite({ tokenHash: 'th-1', now: t(101), site: site('z') })).toBeNull();
      expect(await h.store.listSites()).toEqual([]);
      expect((await h.store.listInvitations())[0]?.usedAt).toBeNull();
      expect(await h.store.enrollSite({ tokenHash: 'th-1', now: t(99), site: site('w') })).not.toBeNull();
    });

    test('concurrent use of one token: exactly one enrollment succeeds', async () => {
      await invite('inv-1', 'th-1');
      const attempts = Array.from({ length: 8 }, (_, i) =>
        h.store.enrollSite({ tokenHash: 'th-1', now: t(10), site: site(`site-${i}`) }),
      );
      const results = await Promise.all(attempts);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect(await h.store.listSites()).toHaveLength(1);
    });

    test('a taken site id rejects ALREADY_EXISTS and leaves the token usable', async () => {
      await invite('inv-1', 'th-1');
      await invite('inv-2', 'th-2');
      await h.store.enrollSite({ tokenHash: 'th-1', now: t(10), site: site('site-a') });
      await expect(h.store.enrollSite({ tokenHash: 'th-2', now: t(11), site: site('site-a') })).rejects.toMatchObject({
        code: 'ALREADY_EXISTS',
      });
      expect((await h.store.listInvitations())[1]?.usedAt).toBeNull();
      expect(await h.store.enrollSite({ tokenHash: 'th-2', now: t(12), site: site('site-b') })).not.toBeNull();
    });

    test('public keys are unique across sites, revoked ones included: KEY_IN_USE leaves the token usable', async () => {
      for (const n of [1, 2, 3, 4]) await invite(`inv-${n}`, `th-${n}`);
      await h.store.enrollSite({ tokenHash: 'th-1', now: t(10), site: site('site-a') });
      const keyInUse = { code: 'KEY_IN_USE' };
      await expect(
        h.store.enrollSite({
          tokenHash: 'th-2',
          now: t(11),
          site: { ...site('site-b'), signPublicKey: 'sign-site-a' },
        }),
      ).rejects.toMatchObject(keyInUse);
      await expect(
        h.store.enrollSite({ tokenHash: 'th-2', now: t(11), site: { ...site('site-b'), boxPublicKey: 'box-site-a' } }),
      ).rejects.toMatchObject(keyInUse);
      await h.store.revokeSite('site-a', t(12));
      await expect(
        h.store.enrollSite({
          tokenHash: 'th-3',
          now: t(13),
          site: { ...site('site-c'), signPublicKey: 'sign-site-a', boxPublicKey: 'box-site-a' },
        }),
      ).rejects.toMatchObject(keyInUse);
      const s = await h.again();
      expect((await s.listSites()).map((x) => x.id)).toEqual(['site-a']);
      expect((await s.listInvitations()).filter((i) => i.usedAt !== null).map((i) => i.id)).toEqual(['inv-1']);
      expect(await s.enrollSite({ tokenHash: 'th-2', now: t(14), site: site('site-b') })).not.toBeNull();
    });
  });

  describe('sites', () => {
    async function enroll(id: string, at: string): Promise<void> {
      await h.store.createInvitation({
        id: `inv-${id}`,
        siteName: id,
        tokenHash: `th-${id}`,
        createdAt: t(0),
        expiresAt: t(9999),
      });
      await h.store.enrollSite({ tokenHash: `th-${id}`, now: at, site: site(id, at) });
    }

    test('a fresh nonce with seenAt records the site as seen in the same write; a replayed one does not', async () => {
      await enroll('site-a', t(1));
      await enroll('site-b', t(1));
      expect(
        await h.store.useNonce({ siteId: 'site-a', nonce: 'n1', expiresAt: t(300), now: t(5), seenAt: t(5) }),
      ).toBe(true);
      expect(await h.store.useNonce({ siteId: 'site-a', nonce: 'n2', expiresAt: t(300), now: t(6) })).toBe(true);
      expect(
        await h.store.useNonce({ siteId: 'site-a', nonce: 'n1', expiresAt: t(300), now: t(7), seenAt: t(7) }),
      ).toBe(false);
      expect(await h.store.useNonce({ siteId: 'nope', nonce: 'n1', expiresAt: t(300), now: t(8), seenAt: t(8) })).toBe(
        true,
      );
      const s = await h.again();
      expect((await s.getSite('site-a'))?.lastSeenAt).toBe(t(5));
      expect((await s.getSite('site-b'))?.lastSeenAt).toBeNull();
      expect(await s.getSite('nope')).toBeNull();
    });

    test('revokes (first time wins), touches and counts missed rounds', async () => {
      await enroll('site-b', t(1));
      await enroll('site-a', t(2));
      expect((await h.store.revokeSite('site-b', t(20)))?.revokedAt).toBe(t(20));
      expect((await h.store.revokeSite('site-b', t(30)))?.revokedAt).toBe(t(20));
      expect(await h.store.revokeSite('nope', t(30))).toBeNull();
      expect(await h.store.touchSite('site-a', t(40))).toBe(true);
      expect(await h.store.touchSite('nope', t(40))).toBe(false);
      expect(await h.store.setMissedRounds('site-a', 3)).toBe(true);
      expect(await h.store.setMissedRounds('nope', 3)).toBe(false);
      const s = await h.again();
      expect(await s.getSite('site-a')).toMatchObject({ lastSeenAt: t(40), missedRounds: 3, revokedAt: null });
      expect((await s.getSite('site-b'))?.revokedAt).toBe(t(20));
      expect((await s.listSites()).map((x) => x.id)).toEqual(['site-b', 'site-a']);
      expect(await s.getSite('nope')).toBeNull();
    });
  });

  describe('nonces', () => {
    test('rejects a replay until the nonce expires, per site', async () => {
      const use = (siteId: string, nonce: string, now: string, expiresAt = t(300)) =>
        h.store.useNonce({ siteId, nonce, expiresAt, now });
      expect(await use('site-a', 'n1', t(0))).toBe(true);
      expect(await use('site-a', 'n1', t(1))).toBe(false);
      expect(await use('site-b', 'n1', t(1))).toBe(true);
      const s = await h.again();
      expect(await s.useNonce({ siteId: 'site-a', nonce: 'n1', expiresAt: t(300), now: t(299) })).toBe(false);
      expect(await s.useNonce({ siteId: 'site-a', nonce: 'n1', expiresAt: t(900), now: t(300) })).toBe(true);
      expect(await s.useNonce({ siteId: 'site-a', nonce: 'n1', expiresAt: t(900), now: t(500) })).toBe(false);
    });

    test('concurrent use of one nonce: exactly one succeeds', async () => {
      const results = await Promise.all(
        Array.from({ length: 6 }, () => h.store.useNonce({ siteId: 's', nonce: 'n', expiresAt: t(60), now: t(0) })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    test('prunes expired nonces only', async () => {
      await h.store.useNonce({ siteId: 's', nonce: 'old', expiresAt: t(10), now: t(0) });
      await h.store.useNonce({ siteId: 's', nonce: 'edge', expiresAt: t(20), now: t(0) });
      await h.store.useNonce({ siteId: 's', nonce: 'live', expiresAt: t(30), now: t(0) });
      expect(await h.store.pruneNonces(t(20))).toBe(2);
      expect(await h.store.pruneNonces(t(20))).toBe(0);
      expect(await h.store.useNonce({ siteId: 's', nonce: 'live', expiresAt: t(90), now: t(21) })).toBe(false);
    });
  });
}
