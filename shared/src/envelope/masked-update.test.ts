import { PROTOCOL_VERSION } from '../protocol';
import { generateIdentity } from '../crypto/identity';
import { toB64 } from '../crypto/encoding';
import {
  openMaskedUpdate,
  openUpdate,
  parseUpdate,
  sealMaskedUpdate,
  sealUpdate,
  verifyUpdateSignature,
} from './update-envelope';
import type { UpdateHeaderInput } from './update-header';
import { codeOf } from '../__tests__/code-of';

const site = generateIdentity();
const coord = generateIdentity();
const commitment = toB64(new Uint8Array(32).fill(7));
const header: UpdateHeaderInput = {
  protocol: PROTOCOL_VERSION,
  federationId: 'fed-1',
  round: 2,
  siteId: 'site-a',
  baseVersionId: 'v1',
  numExamples: 10,
  metrics: {},
  sentAt: '2025-01-02T03:04:05.678Z',
  secagg: { commitment },
};
const masked = Uint8Array.from({ length: 24 }, (_, i) => i * 11);

describe('masked (secure-aggregation) update envelopes', () => {
  const bytes = sealMaskedUpdate({ header, masked, identity: site, coordinatorBoxPublicKey: coord.box.publicKey });
  const parsed = parseUpdate(bytes);
  const open = (expectedElements: number) =>
    openMaskedUpdate({
      ...parsed,
      siteBoxPublicKey: site.box.publicKey,
      coordinatorBoxSecretKey: coord.box.secretKey,
      expectedElements,
    });

  test('round-trip: signed header with the commitment, the ring bytes back', () => {
    expect(parsed.header.secagg).toEqual({ commitment });
    verifyUpdateSignature({ ...parsed, siteSignPublicKey: site.sign.publicKey });
    expect(Buffer.from(open(3))).toEqual(Buffer.from(masked));
  });

  test('is never read as weights, a weights update never as masked, and the size must match the model', () => {
    expect(
      codeOf(() =>
        openUpdate({ ...parsed, siteBoxPublicKey: site.box.publicKey, coordinatorBoxSecretKey: coord.box.secretKey }),
      ),
    ).toBe('INVALID_ENVELOPE');
    expect(codeOf(() => open(4))).toBe('INVALID_ENVELOPE');
    const { secagg: _c, ...plainHeader } = header;
    const plain = parseUpdate(
      sealUpdate({
        header: plainHeader,
        weights: { layout: [{ name: 'w', shape: [1], dtype: 'float32' }], data: Float32Array.from([1]) },
        identity: site,
        coordinatorBoxPublicKey: coord.box.publicKey,
      }),
    );
    expect(
      codeOf(() =>
        openMaskedUpdate({
          ...plain,
          siteBoxPublicKey: site.box.publicKey,
          coordinatorBoxSecretKey: coord.box.secretKey,
          expectedElements: 1,
        }),
      ),
    ).toBe('INVALID_ENVELOPE');
  });

  test('refuses to seal without a commitment, weights with one, or a ragged vector', () => {
    const { secagg: _c, ...plainHeader } = header;
    expect(
      codeOf(() =>
        sealMaskedUpdate({ header: plainHeader, masked, identity: site, coordinatorBoxPublicKey: coord.box.publicKey }),
      ),
    ).toBe('INVALID_ENVELOPE');
    expect(
      codeOf(() =>
        sealMaskedUpdate({
          header,
          masked: masked.subarray(0, 5),
          identity: site,
          coordinatorBoxPublicKey: coord.box.publicKey,
        }),
      ),
    ).toBe('INVALID_ENVELOPE');
    expect(
      codeOf(() =>
        sealUpdate({
          header,
          weights: { layout: [{ name: 'w', shape: [1], dtype: 'float32' }], data: Float32Array.from([1]) },
          identity: site,
          coordinatorBoxPublicKey: coord.box.publicKey,
        }),
      ),
    ).toBe('INVALID_ENVELOPE');
  });

  test('a swapped commitment breaks the signature', () => {
    const text = Buffer.from(bytes)
      .toString('latin1')
      .replace(commitment, toB64(new Uint8Array(32).fill(8)));
    const tampered = parseUpdate(Uint8Array.from(Buffer.from(text, 'latin1')));
    expect(codeOf(() => verifyUpdateSignature({ ...tampered, siteSignPublicKey: site.sign.publicKey }))).toBe(
      'BAD_SIGNATURE',
    );
  });
});
