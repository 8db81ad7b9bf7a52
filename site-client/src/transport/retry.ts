import { clientBehaviour, type ErrorCode } from '@twinfed/shared';

/** Backoff policy of the coordinator client and the event stream. */
export interface BackoffPolicy {
  /** Retries after the first attempt (0 = no retry). */
  retries: number;
  /** Delay scale of the first retry. */
  baseMs: number;
  /** Cap of any single delay (also caps a server's Retry-After). */
  maxMs: number;
}

/** Defaults: 5 retries, 250 ms doubling, capped at 30 s. */
export const DEFAULT_BACKOFF: BackoffPolicy = { retries: 5, baseMs: 250, maxMs: 30_000 };

/**
 * Delay before retry number `attempt` (0-based): "full jitter" exponential backoff,
 * uniform in [0, min(maxMs, baseMs·2^attempt)] with at least 1 ms, so clients that failed together do
 * not retry together.
 */
export function backoffDelay(opts: { attempt: number; policy: BackoffPolicy; random: () => number }): number {
  const ceiling = Math.min(opts.policy.maxMs, opts.policy.baseMs * 2 ** Math.min(opts.attempt, 30));
  return Math.max(1, Math.floor(opts.random() * ceiling));
}

/**
 * Milliseconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or `undefined` when the
 * header is absent or unreadable. Negative results (dates in the past) become 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/^[A-Za-z]{3}/.test(v)) return undefined; // HTTP dates start with a day name; reject "-3", "1.5", …
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * Whether the transport repeats a request that was answered `status` with error `code` (as {@link errorFromResponse}
 * reads it): when the error table says `retry-later` (429/503: the server asks to come back after its Retry-After),
 * when a proxy answered 502/504 (no twinfed server answers with those: the coordinator could not be reached), or
 * 408 (the server gave up reading the request before it was whole, so it never acted on it). The last two are
 * connection failures in effect, retried with backoff like one.
 */
export function isRetryableAnswer(status: number, code: ErrorCode): boolean {
  return clientBehaviour(code) === 'retry-later' || status === 502 || status === 504 || status === 408;
}

/** Sleeps `ms`, resolving early (without error) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
