import fc from 'fast-check';
import { backoffDelay, isRetryableAnswer, parseRetryAfter, sleep } from './retry';

describe('backoffDelay', () => {
  test('stays within [1, min(maxMs, baseMs·2^attempt)] for any attempt and randomness', () => {
    fc.assert(
      fc.property(
        fc.nat(100),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        (attempt, r, baseMs, maxMs) => {
          const d = backoffDelay({ attempt, policy: { retries: 5, baseMs, maxMs }, random: () => r });
          expect(d).toBeGreaterThanOrEqual(1);
          expect(d).toBeLessThanOrEqual(Math.max(1, Math.min(maxMs, baseMs * 2 ** attempt)));
        },
      ),
    );
  });

  test('the ceiling doubles per attempt until the cap', () => {
    const policy = { retries: 10, baseMs: 100, maxMs: 1000 };
    const top = (attempt: number) => backoffDelay({ attempt, policy, random: () => 0.999999 });
    expect([0, 1, 2, 3, 4, 5].map(top)).toEqual([99, 199, 399, 799, 999, 999]);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  test.each([
    ['5', 5000],
    ['0', 0],
    ['Sun, 01 Jun 2025 12:00:30 GMT', 30_000],
    ['Sun, 01 Jun 2025 11:00:00 GMT', 0],
  ])('%s → %d ms', (header, ms) => expect(parseRetryAfter(header, now)).toBe(ms));
  test.each([[null], [undefined], ['soon'], ['-3'], ['1.5']])('%s → undefined', (header) =>
    expect(parseRetryAfter(header, now)).toBeUndefined(),
  );
});

test("repeated answers: what the error table makes retry-later, a proxy's 502/504, a 408; not the coordinator's own 500", () => {
  expect(isRetryableAnswer(429, 'RATE_LIMITED')).toBe(true);
  expect(isRetryableAnswer(503, 'NOT_READY')).toBe(true);
  expect(isRetryableAnswer(502, 'INTERNAL')).toBe(true);
  expect(isRetryableAnswer(504, 'INTERNAL')).toBe(true);
  expect(isRetryableAnswer(408, 'REQUEST_TIMEOUT')).toBe(true);
  expect(isRetryableAnswer(500, 'INTERNAL')).toBe(false);
  expect(isRetryableAnswer(409, 'ROUND_CLOSED')).toBe(false);
});

test('sleep ends early when its signal aborts', async () => {
  // No wall clock: the abort must settle the sleep before the next turn of the event loop.
  const settled = (p: Promise<void>) =>
    Promise.race([p.then(() => 'settled'), new Promise((r) => setImmediate(() => r('pending')))]);
  const c = new AbortController();
  const asleep = sleep(600_000, c.signal);
  expect(await settled(asleep)).toBe('pending');
  c.abort();
  expect(await settled(asleep)).toBe('settled');
  const aborted = new AbortController();
  aborted.abort();
  expect(await settled(sleep(600_000, aborted.signal))).toBe('settled');
});
