import fc from 'fast-check';
import { routeTable, type RouteDef } from '../../route-table';
import type { World } from './world';

/** The coordinator's routes (the one table), each with its key `GET /v1/...`. */
export const ROUTES: ReadonlyArray<RouteDef & { key: string }> = routeTable({} as never).map((r) => ({
  ...r,
  key: `${r.method.toUpperCase()} ${r.path}`,
}));

/** Path segments nobody should be able to route anywhere useful: traversal, encodings, unicode, control bytes, length. */
const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2E%2E%2F',
    '..%2f..%2fetc%2fpasswd',
    '%2F',
    '..;',
    '%00',
    '%0d%0a',
    '%E0%A4%A',
    '%ZZ',
    '%FF',
    'a%',
    '%',
    '~',
    '*',
    '%20',
    '+',
    '%u002e',
  ),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom(129, 1000, 5000, 12000).map((n) => 'a'.repeat(n)),
  fc.webSegment().filter((s) => s.length > 0),
);

/** One path parameter: a real identifier of the world (the interesting cases), a plausible unknown one, or a hostile one. */
function param(name: string, w: World): fc.Arbitrary<string> {
  const real: Record<string, string[]> = {
    fid: [w.plain.id, w.secure.id, w.cox.id],
    vid: [...w.plain.versions, ...w.secure.versions],
    siteId: w.signers.filter((s) => s.label !== 'stranger').map((s) => s.siteId),
    tokenId: w.tokenIds,
    studyId: ['default'],
    qid: [w.cohortQueryId],
    asset: ['app.js', 'app.css', 'uplot.js', 'uplot.css'],
    round: [String(w.plain.openRound), String(w.secure.openRound), '1'],
  };
  const unknown: Record<string, string[]> = {
    fid: ['fed-00000000', 'fed-' + 'f'.repeat(124)],
    vid: ['fed-00000000.v0', `${w.plain.id}.v9`],
    siteId: ['site-none-000000', 'site-stranger-000000'],
    tokenId: ['tok-000000000000'],
    studyId: ['study-none-000000'],
    qid: ['cq-000000000000'],
    asset: ['index.html', 'app.js.map', '..%2fapp.js', 'APP.JS', 'app.js%00'],
    round: ['0', '-1', '01', '3', '999999999', '9999999999', 'current', '1e3', '0x1', '1.0'],
  };
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...(real[name] ?? ['x'])) },
    { weight: 2, arbitrary: fc.constantFrom(...(unknown[name] ?? ['y'])) },
    { weight: 2, arbitrary: hostileSegment },
  );
}

/** A query string (with its `?`) or nothing: the routes' own parameters, duplicates, prototype keys, bad encodings, junk. */
export function query(w: World): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.webQueryParameters().map((q) => `?${q}`) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '?after=0&limit=1',
        '?after=2&limit=1000',
        '?limit=0',
        '?limit=100000',
        '?after=-1',
        '?after=abc',
        '?limit=1&limit=2',
        '?limit=1e2',
        '?extra=1',
        `?version=${w.plain.versions[0]}`,
        `?federation=${w.plain.id}`,
        `?federation=${w.secure.id}`,
        '?federation=',
        '?federation[]=x',
        '?version=&federation=',
        '?__proto__[polluted]=1',
        '?constructor[prototype][x]=1',
        '?a=%E0%A4%A',
        '?%ZZ',
        `?${'q'.repeat(9000)}`,
        '?&&&',
        '?=',
        '?a==b',
      ),
    },
  );
}

/** How a concrete path deviates from the route's own spelling (express matches case-insensitively, trailing slash allowed). */
export type PathShape = 'same' | 'trailing-slash' | 'double-slash' | 'upper' | 'dot-segment';

/** Parameter values for `route` and the shape of the path. */
export function paramsFor(
  route: RouteDef,
  w: World,
): fc.Arbitrary<{ params: Record<string, string>; shape: PathShape }> {
  const names = paramNames(route);
  const shape = fc.oneof(
    { weight: 24, arbitrary: fc.constant<PathShape>('same') },
    fc.constantFrom<PathShape>('trailing-slash', 'double-slash', 'upper', 'dot-segment'),
  );
  const independent = fc
    .tuple(...names.map((n) => param(n, w)))
    .map((values) => Object.fromEntries(names.map((n, i) => [n, values[i]!])));
  // Half the time the federation, its open round and its latest version agree, so requests reach the handlers' depths.
  const coherent = fc
    .tuple(
      independent,
      fc.constantFrom(
        { fid: w.plain.id, round: String(w.plain.openRound), vid: w.plain.versions.at(-1)! },
        { fid: w.secure.id, round: String(w.secure.openRound), vid: w.secure.versions.at(-1)! },
      ),
    )
    .map(([p, c]) => Object.fromEntries(names.map((n) => [n, n in c ? c[n as keyof typeof c] : p[n]!])));
  return fc.record({ params: fc.oneof(independent, coherent), shape });
}

/** The names of a route's parameters, in order. */
export function paramNames(route: RouteDef): string[] {
  return [...route.path.matchAll(/:([a-zA-Z]+)/g)].map((m) => m[1]!);
}

/** The path of `route` with `params` filled in and `shape` applied. */
export function buildPath(route: RouteDef, params: Record<string, string>, shape: PathShape): string {
  let p = route.path.replace(/:([a-zA-Z]+)/g, (_m, n: string) => params[n] ?? '');
  if (shape === 'trailing-slash') p += '/';
  if (shape === 'double-slash') p = p.replace('/', '//');
  if (shape === 'upper') p = p.toUpperCase();
  if (shape === 'dot-segment') p = p.replace(/\/([^/]*)$/, '/./$1');
  return p;
}

/** A path that no route was written for: random web paths, prefixes of real ones, the socket.io endpoint, traversal. */
export function strayPath(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
    fc.constantFrom(
      '/',
      '/v1',
      '/v1/',
      '/v2/federations',
      '/v1/admin',
      '/v1/admin/audit/x',
      '/dashboard/',
      '/dashboard/static/app.js',
      '/v1/federations/x/rounds/1/updates/x',
      '/socket.io/',
      '/socket.io/?EIO=4&transport=polling',
      '/socket.io/?EIO=3&transport=polling',
      '/socket.io/?EIO=4&transport=polling&sid=nope',
      '/socket.io/?EIO=4&transport=websocket',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/..%2f..%2f',
      '/healthz/..',
      '/HEALTHZ',
      '/favicon.ico',
      '/.env',
      '/v1/../v1/admin/tokens',
    ),
    hostileSegment.map((s) => `/v1/${s}`),
  );
}

const matchers = ROUTES.map((r) => ({
  route: r,
  re: new RegExp(`^${r.path.replace(/:[a-zA-Z]+/g, '[^/]+')}/?$`, 'i'),
}));

/** The route express would run for `method` and a request-target (case-insensitive, optional trailing slash, HEAD as GET). */
export function routeOf(method: string, target: string): (RouteDef & { key: string }) | null {
  const m = method === 'HEAD' ? 'get' : method.toLowerCase();
  const pathname = target.split('?')[0]!;
  return matchers.find((x) => x.route.method === m && x.re.test(pathname))?.route ?? null;
}
