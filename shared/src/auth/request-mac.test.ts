import { createHmac } from 'node:crypto';
import { generateIdentity } from '../crypto/identity';
import { hkdfSha256 } from '../crypto/hkdf';
import { x25519 } from '../crypto/primitives';
import { codeOf } from '../__tests__/code-of';
import {
  CONTENT_SHA256_HEADER,
  MAC_HEADER,
  NONCE_HEADER,
  SIGNATURE_HEADER,
  SITE_HEADER,
  TIMESTAMP_HEADER,
  readSiteAuth,
} from './headers';
import {
  canonicalMacRequest,
  coordinatorRequestMacKey,
  macOf,
  macRequest,
  siteRequestMacKey,
  verifyRequestMac,
} from './request-mac';
import { canonicalRequest, signRequest, verifyRequest } from './request-signing';

const coordinator = generateIdentity();
const site = generateIdentity();
const other = generateIdentity();
const NOW = 1_750_000_000_000;
const WINDOW = 5 * 60 * 1000;
const siteKey = (siteId: string, id = site) =>
  siteRequestMacKey({
    siteId,
    siteBoxSecretKey: id.box.secretKey,
    coordinatorBoxPublicKey: coordinator.box.publicKey,
  })!;
const coordinatorKey = (siteId: string, id = site) =>
  coordinatorRequestMacKey({
    siteId,
    siteBoxPublicKey: id.box.publicKey,
    coordinatorBoxSecretKey: coordinator.box.secretKey,
  });
const req = { method: 'post', path: '/v1/federations/f1/rounds/3/updates?x=1', body: new Uint8Array([1, 2, 3]) };
const headers = macRequest({ ...req, key: siteKey('site-a'), now: NOW });

function verify(over: Partial<Parameters<typeof verifyRequestMac>[0]> = {}) {
  return verifyRequestMac({
    method: 'POST',
    path: req.path,
    body: req.body,
    headers,
    key: coordinatorKey('site-a'),
    now: NOW,
    windowMs: WINDOW,
    ...over,
  });
}

describe('request MACs', () => {
  test('the site and the coordinator derive the same key, as the documented HKDF of the box agreement', () => {
    const a = siteKey('site-a');
    const b = coordinatorKey('site-a')!;
    expect(Buffer.compare(a.pads.inner, b.pads.inner)).toBe(0);
    const info = Buffer.concat([
      Buffer.from('TWINFED-REQUEST-MAC-V1\nsite-a\n'),
      site.box.publicKey,
      coordinator.box.publicKey,
    ]);
    const k = hkdfSha256(x25519(site.box.secretKey, coordinator.box.publicKey)!, 'TWINFED-REQUEST-MAC-V1', info, 32);
    const text = 'any text';
    expect(Buffer.from(macOf(a, text))).toEqual(createHmac('sha256', k).update(text).digest());
  });

  test('round-trips with the four headers and the body digest, from the digest alone too', () => {
    expect(Object.keys(headers).sort()).toEqual(
      [CONTENT_SHA256_HEADER, MAC_HEADER, NONCE_HEADER, SITE_HEADER, TIMESTAMP_HEADER].sort(),
    );
    expect(Buffer.from(headers[MAC_HEADER]!, 'base64')).toHaveLength(32);
    expect(verify()).toEqual({ siteId: 'site-a', nonce: headers[NONCE_HEADER], timestamp: NOW });
    expect(codeOf(() => verify({ body: undefined, bodySha256: headers[CONTENT_SHA256_HEADER]! }))).toBe('none');
    expect(codeOf(() => verify({ body: undefined, bodySha256: '00'.repeat(32) }))).toBe('BAD_SIGNATURE');
  });

  test.each<[string, Partial<Parameters<typeof verifyRequestMac>[0]>]>([
    ['method', { method: 'PUT' }],
    ['path', { path: '/v1/federations/f1/rounds/3/updates?x=2' }],
    ['body', { body: new Uint8Array([1, 2, 4]) }],
    ['site id', { headers: { ...headers, [SITE_HEADER]: 'site-b' }, key: coordinatorKey('site-b') }],
    ['timestamp', { headers: { ...headers, [TIMESTAMP_HEADER]: String(NOW + 1) } }],
    ['nonce', { headers: { ...headers, [NONCE_HEADER]: Buffer.alloc(16, 7).toString('base64') } }],
    ['MAC', { headers: { ...headers, [MAC_HEADER]: Buffer.alloc(32, 7).toString('base64') } }],
  ])('refuses a tampered %s', (_field, over) => {
    expect(codeOf(() => verify(over))).toBe('BAD_SIGNATURE');
  });

  test("refuses another site's key, and no key", () => {
    // site-a's claimed id under the key of another site's box key, and another site's own key.
    expect(codeOf(() => verify({ key: coordinatorKey('site-a', other) }))).toBe('BAD_SIGNATURE');
    expect(codeOf(() => verify({ key: coordinatorKey('site-b') }))).toBe('BAD_SIGNATURE');
    const forged = macRequest({ ...req, key: siteKey('site-a', other), now: NOW });
    expect(codeOf(() => verify({ headers: forged }))).toBe('BAD_SIGNATURE');
    expect(codeOf(() => verify({ key: null }))).toBe('BAD_SIGNATURE');
  });

  test('checks freshness as signatures do', () => {
    expect(codeOf(() => verify({ now: NOW + WINDOW - 1 }))).toBe('none');
    expect(codeOf(() => verify({ now: NOW + WINDOW }))).toBe('STALE_REQUEST');
    expect(codeOf(() => verify({ now: NOW - WINDOW }))).toBe('STALE_REQUEST');
  });

  test('a request proves its origin one way: both headers, or neither, is UNAUTHENTICATED', () => {
    const signed = signRequest({ ...req, siteId: 'site-a', signSecretKey: site.sign.secretKey, now: NOW });
    const both = { ...headers, [SIGNATURE_HEADER]: signed[SIGNATURE_HEADER]! };
    expect(codeOf(() => readSiteAuth(both))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => verify({ headers: both }))).toBe('UNAUTHENTICATED');
    const bothSigned = { ...signed, [MAC_HEADER]: headers[MAC_HEADER]! };
    expect(codeOf(() => readSiteAuth(bothSigned))).toBe('UNAUTHENTICATED');
    expect(
      codeOf(() =>
        verifyRequest({
          ...req,
          headers: bothSigned,
          signPublicKey: site.sign.publicKey,
          now: NOW,
          windowMs: WINDOW,
        }),
      ),
    ).toBe('UNAUTHENTICATED');
    const { [MAC_HEADER]: _mac, ...neither } = headers;
    expect(readSiteAuth(neither)).toBeUndefined();
    expect(codeOf(() => verify({ headers: neither }))).toBe('UNAUTHENTICATED');
    // A signed request is not a MAC'd one.
    expect(codeOf(() => verify({ headers: signed }))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => verify({ headers: { ...headers, [MAC_HEADER]: 'AAAA' } }))).toBe('UNAUTHENTICATED');
  });

  test("the MAC's canonical string is never a signature's", () => {
    const parts = { method: 'GET', path: '/v1/x?a=b', siteId: 's', timestamp: 5, nonce: 'bm9uY2U=' };
    const mac = canonicalMacRequest(parts);
    expect(mac).toBe(
      'TWINFED-REQUEST-MAC-V1\nGET\n/v1/x?a=b\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n5\nbm9uY2U=\ns',
    );
    expect(mac).not.toBe(canonicalRequest(parts));
    expect(mac.split('\n').slice(1)).toEqual(canonicalRequest(parts).split('\n').slice(1));
  });

  test('refuses to MAC a malformed site id, and no key comes from a low-order key', () => {
    expect(
      siteRequestMacKey({
        siteId: 'a\nb',
        siteBoxSecretKey: site.box.secretKey,
        coordinatorBoxPublicKey: coordinator.box.publicKey,
      }),
    ).toBeNull();
    expect(
      coordinatorRequestMacKey({
        siteId: 'site-a',
        siteBoxPublicKey: new Uint8Array(32),
        coordinatorBoxSecretKey: coordinator.box.secretKey,
      }),
    ).toBeNull();
  });
});
