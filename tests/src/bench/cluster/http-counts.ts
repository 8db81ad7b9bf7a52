/** Counts of the answers the simulated sites' signed HTTP got (socket.io traffic is not counted). */
export interface HttpCounts {
  /** Responses of any status. */
  answered: number;
  /** 503 answers (OVERLOADED and the like): the site client waits for Retry-After and sends the request again. */
  retried503: number;
  /** 5xx answers other than 503: each an error of the run. */
  other5xx: number;
  /** Requests that got no answer (connection refused or reset, timeout): each an error of the run. */
  failed: number;
  /** Why they got none: the error's cause code (ECONNRESET…) or name (TimeoutError…), with counts. */
  failedBy: Record<string, number>;
  /** Requests the site itself cancelled (its own abort signal, not a timeout): not errors. */
  cancelled: number;
}

export function emptyHttpCounts(): HttpCounts {
  return { answered: 0, retried503: 0, other5xx: 0, failed: 0, failedBy: {}, cancelled: 0 };
}

type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** The reason a request got no answer, in a word. */
function reasonOf(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; name?: unknown } }).cause;
  const code = cause?.code ?? cause?.name ?? (e as { name?: unknown }).name;
  return typeof code === 'string' ? code : 'unknown';
}

/** A fetch that counts into `counts` what `inner` (default: the global fetch) answers. */
export function countingFetch(counts: HttpCounts, inner: FetchLike = (i, init) => fetch(i, init)): FetchLike {
  return async (input, init) => {
    let res: Response;
    try {
      res = await inner(input, init);
    } catch (e) {
      const signal = init.signal;
      const reason = signal?.aborted ? (signal.reason as { name?: unknown } | undefined) : undefined;
      if (signal?.aborted && reason?.name !== 'TimeoutError') counts.cancelled++;
      else {
        counts.failed++;
        const why = signal?.aborted ? 'TimeoutError' : reasonOf(e);
        counts.failedBy[why] = (counts.failedBy[why] ?? 0) + 1;
      }
      throw e;
    }
    counts.answered++;
    if (res.status === 503) counts.retried503++;
    else if (res.status >= 500) counts.other5xx++;
    return res;
  };
}
