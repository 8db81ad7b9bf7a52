import { generateIdentity } from '../crypto/identity';
import { sha256 } from '../crypto/hash';
import {
  CONTENT_SHA256_HEADER,
  NONCE_HEADER,
  SIGNATURE_HEADER,
  SITE_HEADER,
  TIMESTAMP_HEADER,
  readSiteAuth,
  siteAuthAs,
  type HeaderSource,
} from './headers';
import { canonicalRequest, signRequest, verifyRequest } from './request-signing';
import { codeOf } from '../__tests__/code-of';

const site = generateIdentity();
const other = generateIdentity();
const NOW = 1_750_000_000_000;
const WINDOW = 5 * 60 * 1000;
const req = {
  method: 'post',
  path: '/v1/federations/f1/rounds/3/updates?x=1',
  body: new Uint8Array([1, 2, 3]),
  siteId: 'site-a',
};
const headers = signRequest({ ...req, signSecretKey: site.sign.secretKey, now: NOW });

function verify(over: Partial<Parameters<typeof verifyRequest>[0]> = {}) {
  return verifyRequest({
    method: 'POST',
    path: req.path,
    body: req.body,
    headers,
    signPublicKey: site.sign.publicKey,
    now: NOW,
    windowMs: WINDOW,
    ...over,
  });
}

describe('request signing', () => {
  test('signs with the four headers and the body digest, and verifies', () => {
    expect(Object.keys(headers).sort()).toEqual(
      [CONTENT_SHA256_HEADER, NONCE_HEADER, SIGNATURE_HEADER, SITE_HEADER, TIMESTAMP_HEADER].sort(),
    );
    expect(headers[CONTENT_SHA256_HEADER]).toBe(Buffer.from(sha256(req.body)).toString('hex'));
    // The signature verifies from the digest alone (before the body is read), and not with another digest.
    expect(codeOf(() => verify({ body: undefined, bodySha256: headers[CONTENT_SHA256_HEADER]! }))).toBe('none');
    expect(codeOf(() => verify({ body: undefined, bodySha256: '00'.repeat(32) }))).toBe('BAD_SIGNATURE');
    expect(headers[TIMESTAMP_HEADER]).toBe(String(NOW));
    expect(Buffer.from(headers[NONCE_HEADER]!, 'base64')).toHaveLength(16);
    expect(verify()).toEqual({ siteId: 'site-a', nonce: headers[NONCE_HEADER], timestamp: NOW });
  });

  test('has the documented canonical form', () => {
    const c = canonicalRequest({ method: 'get', path: '/v1/x?a=b', siteId: 's', timestamp: 5, nonce: 'bm9uY2U=' });
    expect(c).toBe(
      'TWINFED-REQUEST-V1\nGET\n/v1/x?a=b\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n5\nbm9uY2U=\ns',
    );
  });

  test('treats an empty body, a missing body and "" alike', () => {
    const h = signRequest({
      method: 'GET',
      path: '/v1/models',
      siteId: 's1',
      signSecretKey: site.sign.secretKey,
      now: NOW,
    });
    for (const body of [undefined, null, '', new Uint8Array(0)]) {
      expect(
        codeOf(() =>
          verifyRequest({
            method: 'GET',
            path: '/v1/models',
            body,
            headers: h,
            signPublicKey: site.sign.publicKey,
            now: NOW,
            windowMs: WINDOW,
          }),
        ),
      ).toBe('none');
    }
  });

  test.each<[string, Partial<Parameters<typeof verifyRequest>[0]>]>([
    ['method', { method: 'PUT' }],
    ['path', { path: '/v1/federations/f1/rounds/4/updates?x=1' }],
    ['query', { path: '/v1/federations/f1/rounds/3/updates?x=2' }],
    ['body', { body: new Uint8Array([1, 2, 4]) }],
    ['empty body', { body: undefined }],
    ['key', { signPublicKey: other.sign.publicKey }],
  ])('rejects a tampered %s with BAD_SIGNATURE', (_label, over) => {
    expect(codeOf(() => verify(over))).toBe('BAD_SIGNATURE');
  });

  test.each([
    ['timestamp', TIMESTAMP_HEADER, String(NOW + 1)],
    ['nonce', NONCE_HEADER, Buffer.alloc(16, 7).toString('base64')],
    ['siteId', SITE_HEADER, 'site-b'],
  ])('rejects a tampered %s header with BAD_SIGNATURE', (_label, name, value) => {
    expect(codeOf(() => verify({ headers: { ...headers, [name]: value } }))).toBe('BAD_SIGNATURE');
  });

  test('rejects every single-character change of the signature', () => {
    const sig = headers[SIGNATURE_HEADER]!;
    for (let i = 0; i < sig.length; i++) {
      const ch = sig[i] === 'A' ? 'B' : 'A';
      const bad = sig.slice(0, i) + ch + sig.slice(i + 1);
      expect(['BAD_SIGNATURE', 'UNAUTHENTICATED']).toContain(
        codeOf(() => verify({ headers: { ...headers, [SIGNATURE_HEADER]: bad } })),
      );
    }
  });

  test('enforces the replay window on both sides', () => {
    expect(codeOf(() => verify({ now: NOW + WINDOW + 1 }))).toBe('STALE_REQUEST');
    expect(codeOf(() => verify({ now: NOW - WINDOW - 1 }))).toBe('STALE_REQUEST'); // future-dated
    expect(codeOf(() => verify({ now: NOW, windowMs: 1 }))).toBe('none');
  });

  test('draws a fresh nonce for every request', () => {
    const a = signRequest({ ...req, signSecretKey: site.sign.secretKey, now: NOW });
    const b = signRequest({ ...req, signSecretKey: site.sign.secretKey, now: NOW });
    expect(a[NONCE_HEADER]).not.toBe(b[NONCE_HEADER]);
  });

  test('refuses to sign material that could inject lines', () => {
    const sign = (over: object) => codeOf(() => signRequest({ ...req, signSecretKey: site.sign.secretKey, ...over }));
    expect(sign({ path: '/v1/x\nGET' })).toBe('BAD_REQUEST');
    expect(sign({ path: 'v1/x' })).toBe('BAD_REQUEST');
    expect(sign({ siteId: 'a b' })).toBe('BAD_REQUEST');
    expect(sign({ method: 'GE\nT' })).toBe('BAD_REQUEST');
  });
});

/** The fields of a signed request's headers, as the verifier reads them. */
const parseAuthHeaders = (h: HeaderSource) => siteAuthAs({ headers: h }, 'signature').fields;

describe('readSiteAuth', () => {
  test('reads the scheme, the fields and the body digest in one pass; the verifier takes them as read', () => {
    const auth = readSiteAuth(headers)!;
    expect(auth).toMatchObject({ scheme: 'signature', digest: headers[CONTENT_SHA256_HEADER] });
    const { headers: _h, ...rest } = { method: 'POST', ...req, headers, now: NOW, windowMs: WINDOW };
    expect(verifyRequest({ ...rest, auth, signPublicKey: site.sign.publicKey })).toEqual(verify());
    const { [CONTENT_SHA256_HEADER]: _d, ...noDigest } = headers;
    expect(readSiteAuth(noDigest)!.digest).toBeUndefined();
    expect(codeOf(() => readSiteAuth({ ...headers, [CONTENT_SHA256_HEADER]: 'AB'.repeat(32) }))).toBe(
      'UNAUTHENTICATED',
    );
  });

  test('extracts fields without a key, from records (any case) and fetch Headers', () => {
    expect(parseAuthHeaders(headers)).toMatchObject({ siteId: 'site-a', timestamp: NOW });
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(parseAuthHeaders(upper).nonce).toBe(headers[NONCE_HEADER]);
    expect(parseAuthHeaders(new Headers(headers)).signature).toBe(headers[SIGNATURE_HEADER]);
  });

  test.each([SITE_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER])(
    'rejects a missing %s with UNAUTHENTICATED',
    (name) => {
      const h: Record<string, string> = { ...headers };
      delete h[name];
      expect(codeOf(() => parseAuthHeaders(h))).toBe('UNAUTHENTICATED');
      expect(codeOf(() => verify({ headers: h }))).toBe('UNAUTHENTICATED');
    },
  );

  test.each([
    [TIMESTAMP_HEADER, '12.5'],
    [TIMESTAMP_HEADER, '-1'],
    [TIMESTAMP_HEADER, '99999999999999999'],
    [NONCE_HEADER, Buffer.alloc(15).toString('base64')],
    [NONCE_HEADER, 'not base64!'],
    [SIGNATURE_HEADER, Buffer.alloc(63).toString('base64')],
    [SITE_HEADER, 'x'.repeat(129)],
    [SITE_HEADER, 'tab\there'],
  ])('rejects malformed %s=%j with UNAUTHENTICATED', (name, value) => {
    expect(codeOf(() => parseAuthHeaders({ ...headers, [name]: value }))).toBe('UNAUTHENTICATED');
  });

  test('rejects duplicated headers', () => {
    expect(codeOf(() => parseAuthHeaders({ ...headers, [SITE_HEADER]: ['a', 'b'] }))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => parseAuthHeaders({ ...headers, 'X-Twinfed-Site': 'site-b' }))).toBe('UNAUTHENTICATED');
  });
});

describe('the freshness window has no edge (finding 7)', () => {
  test('accepts strictly inside the window and refuses exactly at its edge, in the past and the future', () => {
    expect(codeOf(() => verify({ now: NOW + WINDOW - 1 }))).toBe('none');
    expect(codeOf(() => verify({ now: NOW - WINDOW + 1 }))).toBe('none');
    expect(codeOf(() => verify({ now: NOW + WINDOW }))).toBe('STALE_REQUEST');
    expect(codeOf(() => verify({ now: NOW - WINDOW }))).toBe('STALE_REQUEST');
  });

  test('keeps a nonce strictly longer than any moment its timestamp is fresh', async () => {
    const { nonceExpiresAt } = await import('./headers');
    expect(nonceExpiresAt(NOW, WINDOW)).toBeGreaterThan(NOW + WINDOW);
  });
});
