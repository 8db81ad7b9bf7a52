import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Database } from '@twinfed/sqlite-kit';
import { evaluation, seedFederation, site, t, update } from '../__tests__/contract/fixtures';
import { SqliteStore } from '../sqlite-store';

/**
 * The SQLite store's read cache (read-cache.ts): sites, federations, rounds and rounds' update counts served from
 * memory between writes.
 */
describe('SQLite read cache', () => {
  let dir: string;
  let file: string;
  let store: SqliteStore;
  let other: InstanceType<typeof Database>;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-read-cache-'));
    file = path.join(dir, 'coordinator.db');
    store = await SqliteStore.open({ path: file });
    await store.createInvitation({ id: 'i', siteName: 'a', tokenHash: 'th', createdAt: t(0), expiresAt: t(60) });
    await store.enrollSite({ tokenHash: 'th', now: t(1), site: site('site-a') });
    await seedFederation(store, 'fed-1', 1);
    other = new Database(file);
    other.pragma('busy_timeout = 5000');
  });
  afterEach(async () => {
    other.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Reads each row twice, so that the second read is served from the cache. */
  async function readAll() {
    for (let i = 0; i < 2; i++) {
      expect(await store.getSite('site-a')).toMatchObject({ revokedAt: null, missedRounds: 0 });
      expect(await store.getFederation('fed-1')).toMatchObject({ state: 'running' });
      expect(await store.getRound('fed-1', 1)).toMatchObject({ state: 'open', selectedSiteIds: ['site-b', 'site-a'] });
    }
  }

  test("another connection's commit is seen at the next read (PRAGMA data_version)", async () => {
    await readAll();
    other.prepare("UPDATE sites SET revoked_at = ?, missed_rounds = 2 WHERE id = 'site-a'").run(t(5));
    expect(await store.getSite('site-a')).toMatchObject({ revokedAt: t(5), missedRounds: 2 });

    other.prepare("UPDATE federations SET state = 'stopped' WHERE id = 'fed-1'").run();
    expect(await store.getFederation('fed-1')).toMatchObject({ state: 'stopped' });

    other
      .prepare(`UPDATE rounds SET state = 'failed', selected_site_ids = '["site-a"]' WHERE federation_id = 'fed-1'`)
      .run();
    expect(await store.getRound('fed-1', 1)).toMatchObject({ state: 'failed', selectedSiteIds: ['site-a'] });
  });

  test("another store's writes to the same file are seen at once (a replica, an admin command)", async () => {
    await readAll();
    const admin = await SqliteStore.open({ path: file });
    try {
      await admin.revokeSite('site-a', t(7));
      expect((await store.getSite('site-a'))?.revokedAt).toBe(t(7));
      await admin.transitionRound({
        federationId: 'fed-1',
        round: 1,
        from: ['open'],
        to: 'collecting',
        patch: {},
      });
      expect((await store.getRound('fed-1', 1))?.state).toBe('collecting');
    } finally {
      await admin.close();
    }
  });

  test("the store's own writes are seen at the next read", async () => {
    await readAll();
    await store.revokeSite('site-a', t(3));
    expect((await store.getSite('site-a'))?.revokedAt).toBe(t(3));
    await store.setMissedRounds('site-a', 4);
    expect((await store.getSite('site-a'))?.missedRounds).toBe(4);
    await store.touchSite('site-a', t(9));
    expect((await store.getSite('site-a'))?.lastSeenAt).toBe(t(9));
    await store.useNonce({ siteId: 'site-a', nonce: 'n', expiresAt: t(99), now: t(10), seenAt: t(10) });
    expect((await store.getSite('site-a'))?.lastSeenAt).toBe(t(10));

    await store.updateFederation('fed-1', { state: 'completed' });
    expect((await store.getFederation('fed-1'))?.state).toBe('completed');

    await store.transitionRound({ federationId: 'fed-1', round: 1, from: ['open'], to: 'failed', patch: {} });
    expect((await store.getRound('fed-1', 1))?.state).toBe('failed');
  });

  test("the store's own last-seen writes keep the site's row cached, with the new time", async () => {
    await readAll();
    const statement = Object.getPrototypeOf(other.prepare('SELECT 1')) as { get: (...args: unknown[]) => unknown };
    const get = jest.spyOn(statement, 'get');
    try {
      await store.touchSite('site-a', t(9));
      expect((await store.getSite('site-a'))?.lastSeenAt).toBe(t(9));
      await store.useNonce({ siteId: 'site-a', nonce: 'n', expiresAt: t(99), now: t(10), seenAt: t(10) });
      expect(await store.getSite('site-a')).toMatchObject({ lastSeenAt: t(10), revokedAt: null, missedRounds: 0 });
      const siteReads = get.mock.contexts.filter((st) => /FROM sites/.test((st as { source: string }).source));
      expect(siteReads).toHaveLength(0);
      // Two presence writes of one site in one batch: the later time is what is kept.
      await Promise.all([store.touchSite('site-a', t(11)), store.touchSite('site-a', t(12))]);
      expect((await store.getSite('site-a'))?.lastSeenAt).toBe(t(12));
      // Another connection's commit since still clears the kept row.
      other.prepare("UPDATE sites SET revoked_at = ? WHERE id = 'site-a'").run(t(13));
      expect((await store.getSite('site-a'))?.revokedAt).toBe(t(13));
    } finally {
      get.mockRestore();
    }
  });

  test("a round's update count: another connection's insert and the store's own are counted at the next read", async () => {
    for (let i = 0; i < 2; i++) expect(await store.countUpdates('fed-1', 1)).toBe(0);
    other
      .prepare(
        `INSERT INTO updates (federation_id, round, site_id, digest, envelope, num_examples, metrics, received_at)
         VALUES ('fed-1', 1, 'site-x', 'd', x'00', 1, '{}', ?)`,
      )
      .run(t(2));
    expect(await store.countUpdates('fed-1', 1)).toBe(1);
    expect(await store.countUpdates('fed-1', 1)).toBe(1);
    await store.putUpdate(update('fed-1', 1, 'site-a'));
    expect(await store.countUpdates('fed-1', 1)).toBe(2);
    // Rolled back after its insert (an evaluation of an unknown version): not counted.
    await expect(
      store.putUpdate(update('fed-1', 1, 'site-b'), { evaluation: evaluation('nope', 'site-b') }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_MODEL_VERSION' });
    expect(await store.countUpdates('fed-1', 1)).toBe(2);
    const replica = await SqliteStore.open({ path: file });
    try {
      await replica.putUpdate(update('fed-1', 1, 'site-b'));
      expect(await store.countUpdates('fed-1', 1)).toBe(3);
    } finally {
      await replica.close();
    }
  });

  test("a round's update count: the store's own inserts are counted on the count kept, without counting the round again", async () => {
    expect(await store.countUpdates('fed-1', 1)).toBe(0);
    const statement = Object.getPrototypeOf(other.prepare('SELECT 1')) as { get: (...args: unknown[]) => unknown };
    const get = jest.spyOn(statement, 'get');
    try {
      // Two in one write batch, then one alone, and one refused (a duplicate: nothing inserted).
      await Promise.all([store.putUpdate(update('fed-1', 1, 'site-a')), store.putUpdate(update('fed-1', 1, 'site-b'))]);
      expect(await store.countUpdates('fed-1', 1)).toBe(2);
      await store.putUpdate(update('fed-1', 1, 'site-c'));
      await store.putUpdate(update('fed-1', 1, 'site-c'));
      expect(await store.countUpdates('fed-1', 1)).toBe(3);
      const counts = () => get.mock.contexts.filter((st) => /COUNT\(\*\)/.test((st as { source: string }).source));
      expect(counts()).toHaveLength(0);
      // Rolled back after its insert (an evaluation of an unknown version): not counted; the round is counted again.
      await expect(
        store.putUpdate(update('fed-1', 1, 'site-d'), { evaluation: evaluation('nope', 'site-d') }),
      ).rejects.toMatchObject({ code: 'UNKNOWN_MODEL_VERSION' });
      expect(await store.countUpdates('fed-1', 1)).toBe(3);
      expect(counts()).toHaveLength(1);
    } finally {
      get.mockRestore();
    }
    // Another connection's insert since: counted again at the next read.
    other
      .prepare(
        `INSERT INTO updates (federation_id, round, site_id, digest, envelope, num_examples, metrics, received_at)
         VALUES ('fed-1', 1, 'site-x', 'd', x'00', 1, '{}', ?)`,
      )
      .run(t(2));
    expect(await store.countUpdates('fed-1', 1)).toBe(4);
  });

  test('what a read hands out is a copy: changing it changes no later read', async () => {
    await readAll();
    const s = await store.getSite('site-a');
    s!.revokedAt = t(1);
    const f = await store.getFederation('fed-1');
    f!.state = 'failed';
    const r = await store.getRound('fed-1', 1);
    r!.state = 'failed';
    expect(() => (r!.selectedSiteIds as string[]).push('intruder')).toThrow(TypeError);
    (r!.clientConfig as { lr: number }).lr = 9;
    await readAll();
    expect((await store.getRound('fed-1', 1))?.clientConfig).toEqual({ epochs: 1, lr: 0.05 });
  });

  test("a round's selection is handed out frozen and shared, not copied at every read", async () => {
    const first = await store.getRound('fed-1', 1);
    const second = await store.getRound('fed-1', 1);
    expect(second).not.toBe(first);
    expect(Object.isFrozen(first!.selectedSiteIds)).toBe(true);
    expect(second!.selectedSiteIds).toBe(first!.selectedSiteIds);
  });
});
