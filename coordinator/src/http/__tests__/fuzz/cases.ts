import fc from 'fast-check';
import type { RouteDef } from '../../route-table';
import { bodyFor, bodyBytes, WRITE_SCHEMAS, type BodySpec } from './bodies';
import { credentialFor, mayAuthenticate, type Credential } from './credentials';
import { ROUTES, buildPath, paramsFor, query, strayPath, type PathShape } from './paths';
import type { World } from './world';

/** How the body is framed on the wire. `declared`: a Content-Length that is not the body's (huge, or more than is sent). */
export type Framing = { kind: 'auto' } | { kind: 'chunked' } | { kind: 'declared'; length: string };

/** Header mutations beside the credential. */
export interface HeaderSpec {
  /** `auto`: the route's own media type when there is a body. */
  contentType: string | null;
  contentEncoding: string | null;
  framing: Framing;
  extra: Array<[string, string]>;
}

/** A request over node's HTTP client. `route` is absent for paths no route was written for. */
export interface HttpCase {
  transport: 'http';
  /** What the tally counts it under: the route key (`GET /v1/...`), or `stray`. */
  target: string;
  route: (RouteDef & { key: string }) | null;
  method: string;
  params: Record<string, string>;
  shape: PathShape;
  /** The path for stray requests (routed ones are built from route, params and shape). */
  strayPath: string;
  query: string;
  credential: Credential;
  body: BodySpec;
  headers: HeaderSpec;
}

/** Bytes written on a raw TCP connection: malformed framing node's client would never send. `abortAfterMs`: hang up then, without waiting. */
export interface RawCase {
  transport: 'raw';
  target: string;
  text: string;
  abortAfterMs: number | null;
}

export type FuzzCase = HttpCase | RawCase;

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];

const contentType: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 14, arbitrary: fc.constant('auto') },
  { weight: 2, arbitrary: fc.constant(null) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'application/json; charset=x-bogus',
      'APPLICATION/JSON',
      'application/octet-stream',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json+fuzz',
      'application/vnd.api+json',
      ';;;',
      '',
      'application/',
      '*/*',
      'json',
      'application/json, text/plain',
    ),
  },
);

const contentEncoding: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 16, arbitrary: fc.constant(null) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'gzip',
      'br',
      'deflate',
      'identity',
      'IDENTITY',
      'x-unknown',
      'gzip, identity',
      'identity, gzip',
      'compress',
      ' ',
    ),
  },
);

const framing: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 16, arbitrary: fc.constant<Framing>({ kind: 'auto' }) },
  { weight: 1, arbitrary: fc.constant<Framing>({ kind: 'chunked' }) },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(
        '1000000000000',
        String(1024 * 1024 + 1),
        String(64 * 1024 * 1024 + 1),
        '4096',
        '99999999999999999999',
      )
      .map<Framing>((length) => ({ kind: 'declared', length })),
  },
);

const extraHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.constantFrom<[string, string]>(
    ['x-forwarded-for', '1.2.3.4'],
    ['x-forwarded-for', '::1, 10.0.0.1, garbage'],
    ['x-real-ip', '10.0.0.1'],
    ['host', 'evil.example'],
    ['host', ''],
    ['expect', '100-continue'],
    ['expect', 'tea'],
    ['accept-encoding', 'gzip, br'],
    ['accept', 'text/html'],
    ['range', 'bytes=0-10'],
    ['if-none-match', '"x"'],
    ['cookie', 'a=b'],
    ['origin', 'http://evil.example'],
    ['x-http-method-override', 'POST'],
    ['x-twinfed-content-sha256', 'ab'.repeat(32)],
    ['x-twinfed-site', 'site-stranger-000000'],
    ['content-language', 'xx'],
    ['te', 'trailers'],
    ['referer', 'javascript:alert(1)'],
  ),
  fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), fc.string({ unit: 'grapheme-ascii', maxLength: 60 })),
);

/** Half the requests carry their headers as a client would (so they reach the credential and the handler), half mutated ones. */
const headerSpec: fc.Arbitrary<HeaderSpec> = fc.oneof(
  fc.constant<HeaderSpec>({ contentType: 'auto', contentEncoding: null, framing: { kind: 'auto' }, extra: [] }),
  fc.record({ contentType, contentEncoding, framing, extra: fc.array(extraHeader, { maxLength: 3 }) }),
);

/** A request to one of the routes: its method mostly, its parameters real or hostile, any credential, any body. */
function routedCase(w: World): fc.Arbitrary<HttpCase> {
  // One arbitrary per route, built once (templates sign enrollment proofs: not per generated case).
  const perRoute = new Map(
    ROUTES.map((route) => [
      route.key,
      fc
        .record({
          method: fc.oneof(
            { weight: 9, arbitrary: fc.constant(route.method.toUpperCase()) },
            { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
          ),
          at: paramsFor(route, w),
          query: query(w),
          credential: credentialFor(route.roles),
          body: bodyFor(route.key, route.body === 'binary', route.method === 'get', w),
          headers: headerSpec,
        })
        .map(({ method, at, query: q, credential: cred, body, headers }): HttpCase =>
          neutralise(
            {
              transport: 'http',
              target: route.key,
              route,
              method,
              params: at.params,
              shape: at.shape,
              strayPath: '',
              query: q,
              credential: cred,
              body,
              headers,
            },
            w,
          ),
        ),
    ]),
  );
  return fc.constantFrom(...ROUTES).chain((route) => perRoute.get(route.key)!);
}

function strayCase(w: World): fc.Arbitrary<HttpCase> {
  return fc
    .record({
      method: fc.constantFrom(...METHODS),
      path: strayPath(),
      query: query(w),
      credential: credentialFor(['public']),
      body: bodyFor('stray', false, false, w),
      headers: headerSpec,
    })
    .map(({ method, path, query: q, credential: cred, body, headers }): HttpCase => ({
      transport: 'http',
      target: 'stray',
      route: null,
      method,
      params: {},
      shape: 'same',
      strayPath: path,
      query: q,
      credential: cred,
      body,
      headers,
    }));
}

/**
 * The one guard that keeps the fuzz from writing: a request that could authenticate for a route that writes never
 * carries what the route would accept. Its JSON body, if the route's own schema takes it, is wrapped in an array
 * (which no schema takes); a revocation names an id that does not exist. Enrollment needs no guard: the world holds
 * no unspent invitation. Upload envelopes are all refused by construction (bodies.ts). The store snapshot proves it.
 */
export function neutralise(c: HttpCase, w: World): HttpCase {
  if (!c.route || (c.method !== 'POST' && c.method !== 'PUT') || !mayAuthenticate(c.credential, c.route.roles))
    return c;
  if (
    c.route.key === 'POST /v1/admin/sites/:siteId/revoke' ||
    c.route.key === 'POST /v1/admin/tokens/:tokenId/revoke'
  ) {
    const existing = [...w.signers.map((s) => s.siteId), ...w.tokenIds].map((id) => id.toLowerCase());
    const name = c.route.key.includes(':siteId') ? 'siteId' : 'tokenId';
    const value = c.params[name] ?? '';
    if (existing.some((id) => decodeLoose(value).toLowerCase().includes(id)))
      return { ...c, params: { ...c.params, [name]: 'gone-000000' } };
    return c;
  }
  const accepts = WRITE_SCHEMAS[c.route.key];
  if (!accepts) return c;
  const bytes = c.body.kind === 'envelope' ? undefined : bodyBytes(c.body, w, w.signers[0]!);
  if (!bytes) return c;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return c;
  }
  return accepts(value) ? { ...c, body: { kind: 'json', value: [value] } } : c;
}

function decodeLoose(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The request-target a case is sent to. */
export function targetOf(c: HttpCase): string {
  return (c.route ? buildPath(c.route, c.params, c.shape) : c.strayPath) + c.query;
}

/** Malformed HTTP on a raw connection: request lines, duplicated or contradictory framing, header syntax, raw bytes. */
function rawCase(w: World): fc.Arbitrary<RawCase> {
  const requestLine = fc.constantFrom(
    'GET /healthz HTTP/1.0',
    'GET /healthz HTTP/2.0',
    'GET /healthz HTTP/9.9',
    'GET /healthz',
    'G@T /healthz HTTP/1.1',
    'get /healthz HTTP/1.1',
    'GET  /healthz HTTP/1.1',
    'GET http://evil.example/healthz HTTP/1.1',
    'GET * HTTP/1.1',
    'OPTIONS * HTTP/1.1',
    'TRACE / HTTP/1.1',
    'PRI * HTTP/2.0',
    'GET /v1/federations/\u00e9\u4e2d HTTP/1.1',
    `GET /v1/federations/${w.plain.id}\u0000 HTTP/1.1`,
    `GET /${'a'.repeat(20_000)} HTTP/1.1`,
    'POST /v1/enroll HTTP/1.1',
    `POST /v1/federations/${w.plain.id}/rounds/2/updates HTTP/1.1`,
    'POST /v1/admin/tokens HTTP/1.1',
    'GET /v1/admin/audit HTTP/1.1',
    'GET /socket.io/?EIO=4&transport=polling HTTP/1.1',
    'POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1',
  );
  const headerBlock = fc.constantFrom(
    '',
    'Content-Length: 5\r\nContent-Length: 6',
    'Content-Length: -1',
    'Content-Length: abc',
    'Content-Length: 1e3',
    'Content-Length: 0x10',
    'Content-Length: 3',
    'Transfer-Encoding: chunked\r\nContent-Length: 5',
    'Transfer-Encoding: gzip',
    'Transfer-Encoding: chunked, identity',
    'Transfer-Encoding: chunked',
    'X Bad: 1',
    'NoColon',
    ' folded: x',
    'X-Test:\x7f\x01',
    `Authorization: Bearer ${w.operatorToken}`,
    `Authorization: Bearer ${w.operatorToken}\r\nContent-Type: application/json`,
    'Content-Type: application/json\r\nContent-Encoding: gzip',
    'X-Utf8: \u00e9\u4e2d\ud83d\ude00',
    `X-Long: ${'v'.repeat(20_000)}`,
    Array.from({ length: 150 }, (_, i) => `X-N${i}: ${i}`).join('\r\n'),
  );
  const body = fc.constantFrom(
    '',
    '{}',
    'zz\r\n',
    '5\r\nhello\r\n0\r\n\r\n',
    'ffffffffffffffff\r\n',
    '-1\r\n',
    '5\r\nhello\r\n',
    '{"plan":',
  );
  return fc
    .record({
      line: requestLine,
      headers: headerBlock,
      body,
      abort: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat(30) }),
    })
    .map(({ line, headers, body: b, abort }) => ({
      transport: 'raw' as const,
      target: abort === null ? 'raw' : 'raw-abort',
      text: `${line}\r\nHost: 127.0.0.1\r\n${headers ? headers + '\r\n' : ''}Connection: close\r\n\r\n${b}`,
      abortAfterMs: abort,
    }));
}

/** Every case the fuzz sends: mostly routed requests, some stray paths, some raw malformed HTTP and hang-ups. */
export function fuzzCase(w: World): fc.Arbitrary<FuzzCase> {
  return fc.oneof(
    { weight: 88, arbitrary: routedCase(w) },
    { weight: 6, arbitrary: strayCase(w) },
    { weight: 6, arbitrary: rawCase(w) },
  );
}
