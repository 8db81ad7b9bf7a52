/** Counts of the answers the simulated sites' signed HTTP got (socket.io traffic is not counted). */
export interface HttpCounts {
  /** Responses of any status. */
  answered: number;
  /** 503 answers (OVERLOADED and the like): the site client waits for Retry-After and sends the request again. */
  retried503: number;
  /** 5xx answers other than 503: each an error of the run. */
  other5xx: number;
  /** Requests that got no answer (connection refused or reset, timeout). */
  failed: number;
}

type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** A fetch that counts into `counts` what `inner` (default: the global fetch) answers. */
export function countingFetch(counts: HttpCounts, inner: FetchLike = (i, init) => fetch(i, init)): FetchLike {
  return async (input, init) => {
    let res: Response;
    try {
      res = await inner(input, init);
    } catch (e) {
      counts.failed++;
      throw e;
    }
    counts.answered++;
    if (res.status === 503) counts.retried503++;
    else if (res.status >= 500) counts.other5xx++;
    return res;
  };
}
