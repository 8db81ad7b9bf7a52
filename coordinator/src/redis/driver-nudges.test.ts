import { routes } from '@twinfed/shared';
import {
  sealedUpdate,
  enrollTestSite,
  json,
  operator,
  signedRequests,
  startTestCoordinator,
  testPlan,
} from '../__tests__/harness';
import { cleanupRedis, requireRedis, uniqueRedisPrefix, waitForPushSubscribers } from '../__tests__/redis';
import { throttlePerKey } from './driver-nudges';

describe('throttlePerKey', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('calls at once, folds the calls of one interval into one call at its end, per key', () => {
    const calls: string[] = [];
    const t = throttlePerKey(100, (k) => calls.push(k));
    t.call('a');
    t.call('a');
    t.call('a');
    t.call('b');
    expect(calls).toEqual(['a', 'b']);
    jest.advanceTimersByTime(100);
    expect(calls).toEqual(['a', 'b', 'a']); // the folded calls of 'a'; 'b' had none
    jest.advanceTimersByTime(100);
    expect(calls).toEqual(['a', 'b', 'a']);
    t.call('b');
    expect(calls).toEqual(['a', 'b', 'a', 'b']);
    t.call('b');
    t.stop();
    jest.advanceTimersByTime(1000);
    expect(calls).toEqual(['a', 'b', 'a', 'b']);
  });
});

describe('an update stored by a replica that does not drive its federation', () => {
  test('reaches the driver through Redis at once: the round closes long before the catch-up poll would tick', async () => {
    const url = await requireRedis();
    const prefix = uniqueRedisPrefix('nudge');
    // A catch-up poll of an hour: only the nudge can make the driver notice the update within this test.
    const hour = 3_600_000;
    const a = await startTestCoordinator({ store: 'sqlite', redis: { url, prefix }, catchUpPollMs: hour });
    const b = await startTestCoordinator({ replicaOf: a, redis: { url, prefix }, catchUpPollMs: hour });
    try {
      await waitForPushSubscribers(prefix, 2);
      const site = await enrollTestSite(a, 'Alpha');
      // Created at A: A takes the driver lease.
      const fed = await json<{ id: string }>(
        operator(a, 'POST', routes.federations, { plan: testPlan({ minSites: 1, rounds: 1 }) }),
      );
      const { sealed } = await sealedUpdate(site, fed.id);
      const viaB = signedRequests(b.url, site.siteId, site.identity.sign.secretKey);
      expect((await viaB('POST', routes.updates(fed.id, 1), sealed)).status).toBe(201);
      let latest: string | null = null;
      while (latest !== `${fed.id}.v1`) {
        await new Promise((r) => setTimeout(r, 50));
        latest = (await json<{ latestVersionId: string | null }>(operator(a, 'GET', routes.federation(fed.id))))
          .latestVersionId;
      }
      expect(latest).toBe(`${fed.id}.v1`);
    } finally {
      await b.close();
      await a.close();
      await cleanupRedis(prefix);
    }
  });
});
