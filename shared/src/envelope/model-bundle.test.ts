import { TwinfedError } from '../errors';
import { decodeModelBundle, modelBundleHead } from './model-bundle';

const bundle = (head: Uint8Array, weights: Uint8Array) => {
  const out = new Uint8Array(head.length + weights.length);
  out.set(head);
  out.set(weights, head.length);
  return out;
};

/** A bundle whose head is `head` as JSON, without weights. */
const framed = (head: unknown) => {
  const json = new TextEncoder().encode(JSON.stringify(head));
  return bundle(Uint8Array.from([0, 0, 0, json.length]), json);
};

describe('model bundle framing', () => {
  test('round-trips the signed part and the weights bytes', () => {
    const weights = Uint8Array.from([1, 2, 3, 250]);
    const b = decodeModelBundle(bundle(modelBundleHead({ meta: { versionId: 'f.v1' }, signature: 'c2ln' }), weights));
    expect(b).toEqual({ meta: { versionId: 'f.v1' }, signature: 'c2ln', weights });
  });

  test.each([
    ['too short', Uint8Array.from([0, 0])],
    ['a length past the end', Uint8Array.from([0, 0, 1, 0, 123])],
    ['a head that is not JSON', bundle(Uint8Array.from([0, 0, 0, 2, 0x7b, 0x7b]), new Uint8Array(0))],
    ['a head without a signature', framed({ meta: {} })],
    ['a head that is not an object', framed('x')],
  ])('refuses %s as MODEL_SIGNATURE_INVALID', (_, bytes) => {
    expect(() => decodeModelBundle(bytes)).toThrow(TwinfedError);
    expect(() => decodeModelBundle(bytes)).toThrow(expect.objectContaining({ code: 'MODEL_SIGNATURE_INVALID' }));
  });
});
