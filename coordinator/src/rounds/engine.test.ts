import { isTwinfedError } from '@twinfed/shared';
import { metricValue } from '../metrics/__tests__/values';
import type { Store } from '../store';
import { CRASH_POINTS, type CrashPoint } from './crash-points';
import { Crash, engineFixture, fixturePlan } from './__tests__/engine-fixture';

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function uninterrupted(plan = fixturePlan()): Promise<Buffer> {
  const fx = await engineFixture({ sites: 3 });
  const e = fx.engine();
  const fed = await e.createFederation(plan, 'test');
  await fx.drive(e, fed.id);
  e.close();
  return fx.finalBytes(fed.id);
}

/** The engine's crash points (the HTTP one is exercised by the process-level fault test). */
const ENGINE_POINTS = CRASH_POINTS.filter((p) => p !== 'upload.responded');

describe('a crash at any point of the round engine', () => {
  let reference: Buffer;
  beforeAll(async () => {
    reference = await uninterrupted();
  });

  const cases: Array<[CrashPoint, number]> = ENGINE_POINTS.flatMap(
    (p) =>
      (p === 'federation.created'
        ? [[p, 1]]
        : [
            [p, 1],
            [p, 3],
          ]) as Array<[CrashPoint, number]>,
  );
  test.each(cases)(
    '%s (hit %i): a new engine resumes and ends with the bits of an uninterrupted run',
    async (point, nth) => {
      const fx = await engineFixture({ sites: 3 });
      const first = fx.engine({ crashAt: { point, nth } });
      let fid: string | undefined;
      await expect(
        (async () => {
          fid = (await first.createFederation(fixturePlan(), 'test')).id;
          await fx.drive(first, fid);
        })(),
      ).rejects.toBeInstanceOf(Crash);
      first.close();
      fid ??= (await fx.store.listFederations())[0]!.id;

      const second = fx.engine();
      await second.resume();
      await fx.drive(second, fid);
      second.close();
      const fed = (await fx.store.getFederation(fid))!;
      expect(fed.state).toBe('completed');
      const rounds = await fx.store.listRounds(fid);
      expect(rounds.map((r) => r.state)).toEqual(['published', 'published', 'published']);
      for (const r of rounds)
        expect((await fx.store.listUpdateSummaries(fid, r.round)).map((u) => u.siteId)).toEqual([
          'site-a',
          'site-b',
          'site-c',
        ]);
      expect((await fx.store.listVersions({ federationId: fid })).map((v) => v.round)).toEqual([0, 1, 2, 3]);
      expect(await fx.finalBytes(fid)).toEqual(reference);
    },
  );
});

describe('closing rounds', () => {
  test("closeAt 'quorum' with over-selection closes at the first minSites and counts later uploads as late", async () => {
    const fx = await engineFixture({ sites: 4 });
    const e = fx.engine();
    const fed = await e.createFederation(
      fixturePlan({ rounds: 1, minSites: 2, sitesPerRound: 4, closeAt: 'quorum' }),
      'test',
    );
    const [a, b, c] = fx.sites;
    expect((await fx.upload(e, fed.id, a!)).status).toBe('accepted');
    expect((await fx.upload(e, fed.id, b!)).status).toBe('accepted');
    const round = (await fx.store.getRound(fed.id, 1))!;
    expect(round.state).toBe('published');
    const late = await fx.upload(e, fed.id, c!).catch((err: unknown) => err);
    expect(isTwinfedError(late, 'ROUND_CLOSED')).toBe(true);
    expect((late as Error).message).toMatch(/^Round 1 closed at .* \(published\) before this update arrived\.$/);
    expect(await metricValue(e.metrics, 'twinfed_uploads_total', { outcome: 'late' })).toBe(1);
    expect(await metricValue(e.metrics, 'twinfed_uploads_total', { outcome: 'accepted' })).toBe(2);
    e.close();
  });

  test('at the deadline a round with minSites answers publishes; a straggler is refused and counted as late', async () => {
    const fx = await engineFixture({ sites: 3 });
    const e = fx.engine();
    const fed = await e.createFederation(fixturePlan({ rounds: 2, minSites: 2, roundDeadlineSeconds: 1 }), 'test');
    const [a, b, c] = fx.sites;
    await fx.upload(e, fed.id, a!);
    await fx.upload(e, fed.id, b!);
    await waitFor(async () => (await fx.store.getRound(fed.id, 1))!.state === 'published');
    const v1 = (await fx.store.getVersion(`${fed.id}.v1`))!;
    expect((v1.meta.contributors as Array<{ siteId: string }>).map((x) => x.siteId)).toEqual(['site-a', 'site-b']);
    expect((await fx.store.getRound(fed.id, 2))!.state).toBe('open');
    const late = await fx.upload(e, fed.id, c!, 1).catch((err: unknown) => err);
    expect(isTwinfedError(late, 'ROUND_CLOSED')).toBe(true);
    expect(await metricValue(e.metrics, 'twinfed_uploads_total', { outcome: 'late' })).toBe(1);
    expect(await fx.store.getUpdate(fed.id, 1, c!.id)).toBeNull();
    e.close();
  });
});

describe('sites that miss rounds', () => {
  test('are skipped by selection until they are seen again', async () => {
    const fx = await engineFixture({ sites: 3 });
    const e = fx.engine();
    const fed = await e.createFederation(
      fixturePlan({ rounds: 4, minSites: 2, maxMissedRounds: 1, roundDeadlineSeconds: 1 }),
      'test',
    );
    const [a, b, c] = fx.sites as [(typeof fx.sites)[0], (typeof fx.sites)[0], (typeof fx.sites)[0]];
    const selected = async (r: number) => (await fx.store.getRound(fed.id, r))?.selectedSiteIds;
    expect(await selected(1)).toEqual(['site-a', 'site-b', 'site-c']);
    await fx.upload(e, fed.id, a);
    await fx.upload(e, fed.id, b);
    await waitFor(async () => (await selected(2)) !== undefined);
    expect(await selected(2)).toEqual(['site-a', 'site-b']);
    expect((await fx.store.getSite(c.id))!.missedRounds).toBe(1);
    await fx.upload(e, fed.id, a);
    await fx.upload(e, fed.id, b);
    expect(await selected(3)).toEqual(['site-a', 'site-b']);
    await fx.store.touchSite(c.id, new Date().toISOString()); // site-c is back (a signed request or socket)
    await fx.upload(e, fed.id, a);
    await fx.upload(e, fed.id, b);
    expect(await selected(4)).toEqual(['site-a', 'site-b', 'site-c']);
    await fx.upload(e, fed.id, c);
    await fx.upload(e, fed.id, a);
    await fx.upload(e, fed.id, b);
    expect((await fx.store.getFederation(fed.id))!.state).toBe('completed');
    e.close();
    // Once it answered again its streak is over.
    const e2 = fx.engine();
    const fed2 = await e2.createFederation(fixturePlan({ rounds: 1, minSites: 2, maxMissedRounds: 1 }), 'test');
    expect(await fx.store.getRound(fed2.id, 1).then((r) => r!.selectedSiteIds)).toEqual(['site-a', 'site-b', 'site-c']);
    expect((await fx.store.getSite(c.id))!.missedRounds).toBe(0);
    e2.close();
  });

  test('are not skipped when that would leave fewer than minSites', async () => {
    const fx = await engineFixture({ sites: 2 });
    const e = fx.engine();
    const fed = await e.createFederation(
      fixturePlan({ rounds: 2, minSites: 2, maxMissedRounds: 1, roundDeadlineSeconds: 1 }),
      'test',
    );
    await fx.upload(e, fed.id, fx.sites[0]!);
    await waitFor(async () => (await fx.store.getRound(fed.id, 1))!.state === 'failed');
    expect((await fx.store.getRound(fed.id, 1))!.failureReason).toMatch(
      /deadline reached: 1 of 2 selected sites answered, minSites is 2/,
    );
    await waitFor(async () => (await fx.store.getRound(fed.id, 2)) !== null);
    expect((await fx.store.getRound(fed.id, 2))!.selectedSiteIds).toEqual(['site-a', 'site-b']);
    e.close();
  });
});

/** A store whose methods can be made to fail or lie, to reach the engine's error paths. */
function faulty(store: Store, faults: { publishFailures?: number; corruptEnvelopes?: boolean }): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'publishVersion') {
        return async (input: Parameters<Store['publishVersion']>[0]) => {
          if (input.round && (faults.publishFailures ?? 0) > 0) {
            faults.publishFailures!--;
            throw new Error('disk I/O error');
          }
          return target.publishVersion(input);
        };
      }
      if (prop === 'getUpdate' && faults.corruptEnvelopes) {
        return async (...args: Parameters<Store['getUpdate']>) => {
          const u = await target.getUpdate(...args);
          if (u) u.envelope[u.envelope.length - 1]! ^= 1;
          return u;
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('errors never leave a round hanging', () => {
  test('a store error while publishing: the uploads are acknowledged and the engine retries until it publishes', async () => {
    const fx = await engineFixture({ sites: 2 });
    const e = fx.engine({ deps: { store: faulty(fx.store, { publishFailures: 2 }) } });
    const fed = await e.createFederation(fixturePlan({ rounds: 1, minSites: 2 }), 'test');
    expect((await fx.upload(e, fed.id, fx.sites[0]!)).status).toBe('accepted');
    expect((await fx.upload(e, fed.id, fx.sites[1]!)).status).toBe('accepted');
    expect((await fx.store.getRound(fed.id, 1))!.state).toBe('aggregating');
    await waitFor(async () => (await fx.store.getFederation(fed.id))!.state === 'completed');
    expect(await metricValue(e.metrics, 'twinfed_recoveries_total')).toBe(2);
    expect((await fx.store.getRound(fed.id, 1))!.state).toBe('published');
    e.close();
  });

  test('an aggregation that cannot be done fails the round with its reason and the next round opens', async () => {
    const fx = await engineFixture({ sites: 2 });
    const first = fx.engine({ crashAt: { point: 'round.aggregating', nth: 1 } });
    const fed = await first.createFederation(fixturePlan({ rounds: 2, minSites: 2 }), 'test');
    await expect(fx.drive(first, fed.id)).rejects.toBeInstanceOf(Crash);
    first.close();
    // After the restart the stored envelopes no longer verify (say, a disk error flipped a bit).
    const second = fx.engine({ deps: { store: faulty(fx.store, { corruptEnvelopes: true }) } });
    await second.resume();
    const r1 = (await fx.store.getRound(fed.id, 1))!;
    expect(r1.state).toBe('failed');
    expect(r1.failureReason).toMatch(/^aggregation failed \((BAD_SIGNATURE|DECRYPT_FAILED|INVALID_ENVELOPE)\)/);
    expect((await fx.store.getRound(fed.id, 2))!.state).toBe('open');
    expect((await fx.store.getFederation(fed.id))!.currentRound).toBe(2);
    second.close();
  });
});

describe('resume after downtime', () => {
  test('a round whose deadline passed while the coordinator was down gets a grace period, persisted', async () => {
    const fx = await engineFixture({ sites: 3 });
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const first = fx.engine({ deps: { now: () => clock } });
    const fed = await first.createFederation(fixturePlan({ rounds: 1, minSites: 2, roundDeadlineSeconds: 60 }), 'test');
    await fx.upload(first, fed.id, fx.sites[0]!);
    first.close();
    clock += 3_600_000; // an hour later
    const second = fx.engine({ deps: { now: () => clock, resumeGraceMs: 20_000 } });
    await second.resume();
    const r1 = (await fx.store.getRound(fed.id, 1))!;
    expect(r1.state).toBe('collecting');
    expect(r1.deadlineAt).toBe(new Date(clock + 20_000).toISOString());
    // The sites that were retrying deliver; the round closes with everyone.
    await fx.upload(second, fed.id, fx.sites[1]!);
    await fx.upload(second, fed.id, fx.sites[2]!);
    expect((await fx.store.getRound(fed.id, 1))!.state).toBe('published');
    second.close();
  });

  test('a round with time left keeps its deadline', async () => {
    const fx = await engineFixture({ sites: 2 });
    const first = fx.engine();
    const fed = await first.createFederation(
      fixturePlan({ rounds: 1, minSites: 2, roundDeadlineSeconds: 600 }),
      'test',
    );
    first.close();
    const before = (await fx.store.getRound(fed.id, 1))!.deadlineAt;
    const second = fx.engine();
    await second.resume();
    expect((await fx.store.getRound(fed.id, 1))!.deadlineAt).toBe(before);
    second.close();
  });
});
