import { TwinfedError } from '../errors';
import { decodeRoundDownload, decodeSignedDownload, roundDownloadHead, signedDownloadHead } from './signed-download';

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

describe('current round with the latest version framing', () => {
  const current = { federation: { id: 'f', latestVersionId: 'f.v1' }, round: null, selected: false };

  test('the round alone when nothing follows it', () => {
    expect(decodeRoundDownload(roundDownloadHead(current))).toEqual({ current, version: undefined });
  });

  test('the round, then the version as a signed download that decodes on its own', () => {
    const weights = Uint8Array.from([9, 8, 7]);
    const version = framedWith(signedDownloadHead({ meta: { versionId: 'f.v1' }, signature: 'c2ln' }), weights);
    const answer = decodeRoundDownload(framedWith(roundDownloadHead(current), version));
    expect(answer.current).toEqual(current);
    expect(answer.version).toEqual(version);
    expect(decodeSignedDownload(answer.version!)).toEqual({ meta: { versionId: 'f.v1' }, signature: 'c2ln', weights });
  });

  test.each([
    ['too short', Uint8Array.from([0, 0, 0])],
    ['a length past the end', Uint8Array.from([0, 0, 0, 9, 0x7b, 0x7d])],
    ['a head that is not JSON', framedWith(Uint8Array.from([0, 0, 0, 1, 0x7b]), new Uint8Array(0))],
  ])('refuses %s as INTERNAL (a malformed answer, like invalid JSON)', (_, bytes) => {
    expect(() => decodeRoundDownload(bytes)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
