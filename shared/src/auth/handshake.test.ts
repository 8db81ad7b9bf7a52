import { generateIdentity } from '../crypto/identity';
import { macHandshake, parseHandshake, signHandshake, verifyHandshake } from './handshake';
import { coordinatorRequestMacKey, macRequest, siteRequestMacKey } from './request-mac';
import { signRequest } from './request-signing';
import { codeOf } from '../__tests__/code-of';

const site = generateIdentity();
const NOW = 1_750_000_000_000;
const WINDOW = 60_000;
const auth = signHandshake({ siteId: 'site-a', signSecretKey: site.sign.secretKey, now: NOW });

const verify = (a: unknown, over: Partial<Parameters<typeof verifyHandshake>[0]> = {}) =>
  verifyHandshake({ auth: a, signPublicKey: site.sign.publicKey, now: NOW, windowMs: WINDOW, ...over });

describe('socket handshake auth', () => {
  test('round-trips', () => {
    expect(verify(auth)).toEqual({ siteId: 'site-a', nonce: auth.nonce, timestamp: NOW });
    expect(parseHandshake(auth).siteId).toBe('site-a');
  });

  test.each<[string, object]>([
    ['siteId', { siteId: 'site-b' }],
    ['timestamp', { timestamp: NOW + 1 }],
    ['nonce', { nonce: Buffer.alloc(16, 1).toString('base64') }],
    ['signature', { signature: Buffer.alloc(64, 1).toString('base64') }],
  ])('rejects a tampered %s', (_l, over) => {
    expect(codeOf(() => verify({ ...auth, ...over }))).toBe('BAD_SIGNATURE');
  });

  test('rejects another key and stale or future timestamps', () => {
    expect(codeOf(() => verify(auth, { signPublicKey: generateIdentity().sign.publicKey }))).toBe('BAD_SIGNATURE');
    expect(codeOf(() => verify(auth, { now: NOW + WINDOW + 1 }))).toBe('STALE_REQUEST');
    expect(codeOf(() => verify(auth, { now: NOW - WINDOW - 1 }))).toBe('STALE_REQUEST');
    expect(codeOf(() => verify(auth, { now: NOW + WINDOW - 1 }))).toBe('none');
    expect(codeOf(() => verify(auth, { now: NOW + WINDOW }))).toBe('STALE_REQUEST'); // the window has no inclusive edge
  });

  test('rejects missing or malformed auth with UNAUTHENTICATED', () => {
    for (const bad of [
      undefined,
      null,
      'x',
      {},
      { ...auth, timestamp: String(NOW) },
      { ...auth, nonce: 'AAAA' },
      { ...auth, siteId: '' },
    ]) {
      expect(codeOf(() => verify(bad))).toBe('UNAUTHENTICATED');
    }
  });

  test('is domain-separated from request signatures', () => {
    // A request signature with the same site, timestamp and nonce must not pass as a handshake.
    const h = signRequest({ method: 'GET', path: '/', siteId: 'site-a', signSecretKey: site.sign.secretKey, now: NOW });
    const forged = {
      siteId: 'site-a',
      timestamp: NOW,
      nonce: h['x-twinfed-nonce'],
      signature: h['x-twinfed-signature'],
    };
    expect(codeOf(() => verify(forged))).toBe('BAD_SIGNATURE');
  });

  test('refuses to sign a malformed site id', () => {
    expect(codeOf(() => signHandshake({ siteId: 'a\nb', signSecretKey: site.sign.secretKey }))).toBe('BAD_REQUEST');
  });
});

describe('socket handshake auth by MAC', () => {
  const coordinator = generateIdentity();
  const key = siteRequestMacKey({
    siteId: 'site-a',
    siteBoxSecretKey: site.box.secretKey,
    coordinatorBoxPublicKey: coordinator.box.publicKey,
  })!;
  const coordinatorKey = (siteId: string, boxPublicKey = site.box.publicKey) =>
    coordinatorRequestMacKey({
      siteId,
      siteBoxPublicKey: boxPublicKey,
      coordinatorBoxSecretKey: coordinator.box.secretKey,
    });
  const macAuth = macHandshake({ key, now: NOW });
  const verifyMac = (a: unknown, over: Partial<Parameters<typeof verifyHandshake>[0]> = {}) =>
    verify(a, { macKey: coordinatorKey('site-a'), ...over });

  test('round-trips, and the signed form still verifies beside it', () => {
    expect(verifyMac(macAuth)).toEqual({ siteId: 'site-a', nonce: macAuth.nonce, timestamp: NOW });
    expect(verifyMac(auth)).toEqual({ siteId: 'site-a', nonce: auth.nonce, timestamp: NOW });
  });

  test.each<[string, object]>([
    ['siteId', { siteId: 'site-b' }],
    ['timestamp', { timestamp: NOW + 1 }],
    ['nonce', { nonce: Buffer.alloc(16, 1).toString('base64') }],
    ['mac', { mac: Buffer.alloc(32, 1).toString('base64') }],
  ])('rejects a tampered %s', (_l, over) => {
    expect(codeOf(() => verifyMac({ ...macAuth, ...over }))).toBe('BAD_SIGNATURE');
  });

  test("rejects another site's key, no key, both forms at once, and a request MAC", () => {
    expect(
      codeOf(() => verifyMac(macAuth, { macKey: coordinatorKey('site-a', generateIdentity().box.publicKey) })),
    ).toBe('BAD_SIGNATURE');
    expect(codeOf(() => verifyMac(macAuth, { macKey: coordinatorKey('site-b') }))).toBe('BAD_SIGNATURE');
    expect(codeOf(() => verify(macAuth))).toBe('BAD_SIGNATURE');
    expect(codeOf(() => verifyMac({ ...macAuth, signature: auth.signature }))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => verifyMac({ ...macAuth, mac: 'AAAA' }))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => verifyMac(macAuth, { now: NOW + WINDOW }))).toBe('STALE_REQUEST');
    const h = macRequest({ method: 'GET', path: '/', key, now: NOW });
    const forged = { siteId: 'site-a', timestamp: NOW, nonce: h['x-twinfed-nonce'], mac: h['x-twinfed-mac'] };
    expect(codeOf(() => verifyMac(forged))).toBe('BAD_SIGNATURE');
  });
});
