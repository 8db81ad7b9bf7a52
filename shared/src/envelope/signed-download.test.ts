import { TwinfedError } from '../errors';
import { decodeSignedDownload, signedDownloadHead } from './signed-download';

const framedWith = (head: Uint8Array, weights: Uint8Array) => {
  const out = new Uint8Array(head.length + weights.length);
  out.set(head);
  out.set(weights, head.length);
  return out;
};

/** A download whose head is `head` as JSON, without weights. */
const framed = (head: unknown) => {
  const json = new TextEncoder().encode(JSON.stringify(head));
  return framedWith(Uint8Array.from([0, 0, 0, json.length]), json);
};

describe('signed download framing', () => {
  test('round-trips the signed part and the weights bytes', () => {
    const weights = Uint8Array.from([1, 2, 3, 250]);
    const b = decodeSignedDownload(
      framedWith(signedDownloadHead({ meta: { versionId: 'f.v1' }, signature: 'c2ln' }), weights),
    );
    expect(b).toEqual({ meta: { versionId: 'f.v1' }, signature: 'c2ln', weights });
  });

  test.each([
    ['too short', Uint8Array.from([0, 0])],
    ['a length past the end', Uint8Array.from([0, 0, 1, 0, 123])],
    ['a head that is not JSON', framedWith(Uint8Array.from([0, 0, 0, 2, 0x7b, 0x7b]), new Uint8Array(0))],
    ['a head without a signature', framed({ meta: {} })],
    ['a head that is not an object', framed('x')],
  ])('refuses %s as MODEL_SIGNATURE_INVALID', (_, bytes) => {
    expect(() => decodeSignedDownload(bytes)).toThrow(TwinfedError);
    expect(() => decodeSignedDownload(bytes)).toThrow(expect.objectContaining({ code: 'MODEL_SIGNATURE_INVALID' }));
  });
});
