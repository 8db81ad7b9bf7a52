import { METHODS, pathPatterns } from '@twinfed/shared';

/** A fetch-shaped function (what {@link runSwarm} and the site's HTTP transport take). */
type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** The contract's path patterns as matchers, most specific (fewest parameters) first, so `rounds/current` wins over `rounds/:round`. */
function matchers(): Array<{ pattern: string; re: RegExp }> {
  return Object.values(pathPatterns())
    .map((pattern) => ({
      pattern,
      params: (pattern.match(/:/g) ?? []).length,
      re: new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+')}$`),
    }))
    .sort((a, b) => a.params - b.params)
    .map(({ pattern, re }) => ({ pattern, re }));
}

/** `GET /v1/models/:vid/weights` for a request to `…/v1/models/fed-1.v2/weights`: the method and the contract's route. */
export function routeLabel(method: string, url: string, table = matchers()): string {
  const m = method.toUpperCase();
  const pathname = new URL(url).pathname;
  const known = METHODS.some((x) => x.toUpperCase() === m);
  return `${known ? m : `${m}?`} ${table.find((t) => t.re.test(pathname))?.pattern ?? '(not in the contract)'}`;
}

/**
 * Counts the requests that go through it by method and route of the API contract (every attempt: a retried request
 * counts each time it is sent), and apart from them the answers that were not 2xx (by label and status) and the
 * attempts that got no answer at all (status `none`: timeout or connection failure). `bytes`: the bodies of the 2xx
 * answers by label, as their Content-Length gives them (an answer without one is not counted).
 */
export function countingFetch(base: Fetch = (input, init) => fetch(input, init)): {
  fetch: Fetch;
  counts: Map<string, number>;
  failures: Map<string, number>;
  bytes: Map<string, number>;
} {
  const table = matchers();
  const counts = new Map<string, number>();
  const failures = new Map<string, number>();
  const bytes = new Map<string, number>();
  const add = (m: Map<string, number>, key: string, n = 1) => m.set(key, (m.get(key) ?? 0) + n);
  return {
    counts,
    failures,
    bytes,
    fetch: async (input, init) => {
      const label = routeLabel(init.method ?? 'GET', input, table);
      add(counts, label);
      try {
        const res = await base(input, init);
        if (res.status < 200 || res.status > 299) add(failures, `${label} ${res.status}`);
        else {
          const length = Number(res.headers.get('content-length') ?? NaN);
          if (Number.isFinite(length)) add(bytes, label, length);
        }
        return res;
      } catch (e) {
        add(failures, `${label} none`);
        throw e;
      }
    },
  };
}
