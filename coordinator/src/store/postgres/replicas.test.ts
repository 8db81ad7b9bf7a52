/**
 * Two coordinator processes on one PostgreSQL schema (two stores, separate pools): what SQLite got from being the
 * only writer must hold across them — one audit chain, insert-once nonces and updates, a revocation seen everywhere,
 * one publication per round, one fixed cohort — and migrations must apply once when replicas start together.
 */
import { generateIdentity } from '@twinfed/shared';
import { verifyStoreAudit } from '../../audit/verify';
import { claimStoreKey } from '../../bootstrap';
import { dropPgSchema, freshSchema, openPgStore, pgTestUrl } from '../__tests__/pg';
import { bytes, seedFederation, site, t, update, version } from '../__tests__/contract/fixtures';
import type { Store } from '../types';
import { PgDb } from './db';
import { PG_MIGRATIONS } from './migrations';

const schema = freshSchema('tf_replicas');
let a: Store;
let b: Store;

beforeAll(async () => {
  a = await openPgStore(schema, 4);
  b = await openPgStore(schema, 4);
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await dropPgSchema(schema);
});

test('replicas claiming the store at once: one key wins, the other replica is refused (claimStoreKey)', async () => {
  const claim = (s: Store, fingerprint: string) =>
    claimStoreKey({ store: s, fingerprint, dataDir: `/data/${fingerprint}`, now: () => Date.UTC(2025, 0, 1) });
  const results = await Promise.allSettled([claim(a, 'key-a'), claim(b, 'key-b')]);
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'CONFIG_INVALID' } });
  const winner = (await a.claimCoordinatorKey({ fingerprint: 'x', claimedAt: t(9) })).fingerprint;
  await expect(claim(winner === 'key-a' ? b : a, winner)).resolves.toBeUndefined();
});

test('a nonce used via A is refused via B, and of simultaneous uses exactly one wins', async () => {
  const use = (s: Store, nonce: string) => s.useNonce({ siteId: 's', nonce, expiresAt: t(100), now: t(1) });
  expect(await use(a, 'n-1')).toBe(true);
  expect(await use(b, 'n-1')).toBe(false);
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => use(i % 2 ? a : b, 'n-race')));
  expect(results.filter(Boolean)).toHaveLength(1);
});

test('concurrent audit appends from both stores keep one valid chain', async () => {
  const before = (await a.listAudit({ limit: 10_000 })).length;
  const entry = (who: string, i: number) => ({
    at: t(i),
    actor: who,
    action: 'test.append',
    subject: `${i}`,
    detail: { i },
  });
  await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).appendAudit(entry(i % 2 ? 'a' : 'b', i))));
  const all = await b.listAudit({ limit: 10_000 });
  expect(all.map((e) => e.seq)).toEqual(Array.from({ length: before + 60 }, (_, i) => i + 1));
  const report = await verifyStoreAudit(a, generateIdentity().sign.publicKey);
  expect(report).toMatchObject({ ok: true, entries: before + 60, firstBad: null });
  expect(await b.auditSequenceEnd()).toBe(before + 60);
});

test('a token revoked via A is refused via B', async () => {
  await a.createApiToken({ id: 'tok-r', name: 'ops', role: 'operator', tokenHash: 'h-r', createdAt: t(0) });
  expect((await b.findApiTokenByHash('h-r'))?.revokedAt).toBeNull();
  expect(await a.revokeApiToken('tok-r', t(5))).toBe(true);
  expect((await b.findApiTokenByHash('h-r'))?.revokedAt).toBe(t(5));
  expect(await b.revokeApiToken('tok-r', t(6))).toBe(false);
});

test('concurrent putUpdate of one site and round: one insert, the rest duplicates; another digest conflicts', async () => {
  await seedFederation(a, 'fed-u', 1);
  const u = update('fed-u', 1, 'site-a');
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).putUpdate(u)));
  expect(results.filter((r) => r.status === 'inserted')).toHaveLength(1);
  expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(9);
  expect(await b.putUpdate(update('fed-u', 1, 'site-a', 'other'))).toMatchObject({ status: 'conflict' });
  expect(await a.countUpdates('fed-u', 1)).toBe(1);
});

test('an update racing the close of its round is either in before the close or refused', async () => {
  await seedFederation(a, 'fed-c', 1);
  const puts = Array.from({ length: 8 }, (_, i) =>
    (i % 2 ? a : b).putUpdate(update('fed-c', 1, `site-${i}`), { acceptStates: ['open'] }),
  );
  const closed = b.transitionRound({ federationId: 'fed-c', round: 1, from: ['open'], to: 'aggregating' });
  const results = await Promise.all(puts);
  expect(await closed).not.toBeNull();
  const inserted = results.filter((r) => r.status === 'inserted').length;
  expect(results.every((r) => r.status === 'inserted' || r.status === 'round-closed')).toBe(true);
  // Whatever the aggregator reads once the round is closed is everything that was accepted.
  expect(await a.countUpdates('fed-c', 1)).toBe(inserted);
});

test('one invitation enrolls one site, whichever replica the two requests reach', async () => {
  await a.createInvitation({ id: 'inv-x', siteName: 'X', tokenHash: 'th-x', createdAt: t(0), expiresAt: t(1000) });
  const results = await Promise.allSettled([
    a.enrollSite({ tokenHash: 'th-x', now: t(1), site: site('site-x1') }),
    b.enrollSite({ tokenHash: 'th-x', now: t(1), site: site('site-x2') }),
  ]);
  const enrolled = results.filter((r) => r.status === 'fulfilled' && r.value !== null);
  expect(enrolled).toHaveLength(1);
  expect((await a.listSites()).filter((s) => s.id.startsWith('site-x'))).toHaveLength(1);
});

test('one publication per round and one fixed cohort per round across replicas', async () => {
  await seedFederation(a, 'fed-p', 2);
  const published = await Promise.all(
    ['va', 'vb'].map((id, i) =>
      (i ? b : a).publishVersion({
        version: version(id, 'fed-p', 1),
        weights: bytes(32, i),
        round: { federationId: 'fed-p', round: 1, from: ['open'] },
      }),
    ),
  );
  expect(published.filter((v) => v !== null)).toHaveLength(1);
  expect(await b.listVersions({ federationId: 'fed-p' })).toHaveLength(1);

  const cohorts = await Promise.all(
    ['x', 'y', 'z', 'w'].map((s, i) =>
      (i % 2 ? a : b).fixSecaggCohort({ federationId: 'fed-p', round: 2, siteIds: [s], fixedAt: t(i) }),
    ),
  );
  expect(new Set(cohorts.map((c) => JSON.stringify(c))).size).toBe(1);
  expect(await a.getSecaggCohort('fed-p', 2)).toEqual(cohorts[0]);
});

test('replicas starting at once on a new schema apply each migration once', async () => {
  const fresh = freshSchema('tf_migrate');
  try {
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPgStore(fresh, 2)));
    expect(await Promise.all(stores.map((s) => s.health()))).toEqual([true, true, true, true]);
    await Promise.all(stores.map((s) => s.close()));
    const db = new PgDb({ url: pgTestUrl(), schema: fresh, poolSize: 1 });
    try {
      const rows = await db.sql.rows<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
      expect(await db.sql.rows('SELECT id FROM studies')).toHaveLength(1);
    } finally {
      await db.close();
    }
  } finally {
    await dropPgSchema(fresh);
  }
});

test('refuses a schema newer than this coordinator', async () => {
  const db = new PgDb({ url: pgTestUrl(), schema, poolSize: 1 });
  try {
    await db.sql.count("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')");
    await expect(openPgStore(schema)).rejects.toThrow(/newer than this coordinator/);
    await db.sql.count('DELETE FROM schema_migrations WHERE version = 999');
  } finally {
    await db.close();
  }
});

test('a cohort pool contribution racing the close of its pool is either in before the close or refused', async () => {
  await a.createCohortQuery({ id: 'q-pool', studyId: 'default', query: {}, createdBy: 'r', createdAt: t(0) });
  const fixes = await Promise.all(
    [3, 4].map((length, i) =>
      (i ? a : b).fixCohortPool({
        queryId: 'q-pool',
        siteIds: [],
        length,
        state: 'open',
        result: null,
        createdAt: t(0),
      }),
    ),
  );
  expect(fixes[0]).toEqual(fixes[1]);
  const puts = Array.from({ length: 8 }, (_, i) =>
    (i % 2 ? a : b).putCohortPoolContribution({
      queryId: 'q-pool',
      siteId: `s${i}`,
      masked: bytes(4, i),
      createdAt: t(1),
    }),
  );
  const closed = b.closeCohortPool('q-pool', 'complete', { n: 0 });
  const results = await Promise.all(puts);
  expect((await closed).state).toBe('complete');
  expect(results.every((r) => r.status === 'accepted' || r.status === 'closed')).toBe(true);
  const accepted = results.filter((r) => r.status === 'accepted').length;
  expect(await a.listCohortPoolContributions('q-pool')).toHaveLength(accepted);
});

test('a lease is taken by one replica at a time; a write fenced by a lost lease writes nothing', async () => {
  await seedFederation(a, 'fed-l', 1);
  const name = 'driver:fed-l';
  const now = Date.UTC(2025, 0, 1);
  const takes = await Promise.all(
    Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).acquireLease({ name, holder: `r${i}`, ttlMs: 10_000, now })),
  );
  expect(takes.filter((x) => x !== null)).toHaveLength(1);
  const first = takes.find((x) => x !== null)!;
  // It expires; replica B takes over, and A's fenced transition is refused with nothing written.
  const later = now + 20_000;
  const second = await b.acquireLease({ name, holder: 'b', ttlMs: 10_000, now: later });
  expect(second?.token).toBe(first.token + 1);
  const transition = (s: Store, token: number) =>
    s.transitionRound({
      federationId: 'fed-l',
      round: 1,
      from: ['open'],
      to: 'aggregating',
      fence: { lease: name, token, now: later },
    });
  await expect(transition(a, first.token)).rejects.toMatchObject({ code: 'LEASE_LOST' });
  expect((await b.getRound('fed-l', 1))?.state).toBe('open');
  expect(await transition(b, second!.token)).toMatchObject({ state: 'aggregating' });
});

test('a fenced write and a takeover racing: the write lands only while its lease still holds', async () => {
  await seedFederation(a, 'fed-race', 1);
  const name = 'driver:fed-race';
  const now = Date.UTC(2025, 0, 1);
  const held = (await a.acquireLease({ name, holder: 'a', ttlMs: 10_000, now }))!;
  const later = now + 20_000; // expired for both: the takeover may happen, and so A's fenced write must fail
  const [write, takeover] = await Promise.allSettled([
    a.updateFederation('fed-race', { currentRound: 7 }, { lease: name, token: held.token, now: now + 1 }),
    b.acquireLease({ name, holder: 'b', ttlMs: 10_000, now: later }),
  ]);
  expect(takeover).toMatchObject({ status: 'fulfilled', value: { token: held.token + 1 } });
  const round = (await b.getFederation('fed-race'))?.currentRound;
  // Either the write committed before the takeover (then it is there), or it saw the new token and wrote nothing.
  if (write.status === 'fulfilled') {
    expect(round).toBe(7);
  } else {
    expect(write).toMatchObject({ reason: { code: 'LEASE_LOST' } });
    expect(round).toBe(0);
  }
});
