import {
  PROTOCOL_VERSION,
  canonicalJson,
  concatBytes,
  newBoxNonce,
  sealBox,
  sha256,
  sha256Parts,
  signDigest,
  toB64,
  utf8,
  type Identity,
} from '@twinfed/shared';

/**
 * Builds an update envelope around ARBITRARY plaintext bytes, the way a hostile or buggy client that does not
 * use our library could (our `sealUpdate` refuses NaN weights, so tests of the server's own checks need this).
 * It follows the wire format of `shared/src/envelope/update-envelope.ts` field by field.
 */
export function sealRawUpdate(opts: {
  header: {
    federationId: string;
    round: number;
    siteId: string;
    baseVersionId: string;
    numExamples: number;
    metrics?: Record<string, number>;
    /** Unchecked: a hostile client may put anything here. */
    baseEvaluation?: unknown;
  };
  plaintext: Uint8Array;
  identity: Identity;
  coordinatorBoxPublicKey: Uint8Array;
}): Uint8Array {
  const nonce = newBoxNonce();
  const unsigned = {
    protocol: PROTOCOL_VERSION,
    metrics: {},
    ...opts.header,
    sentAt: new Date().toISOString(),
    nonce: toB64(nonce),
  };
  const aad = utf8(canonicalJson(unsigned));
  const { ciphertext } = sealBox({
    plaintext: opts.plaintext,
    aad,
    recipientBoxPublicKey: opts.coordinatorBoxPublicKey,
    senderBoxSecretKey: opts.identity.box.secretKey,
    nonce,
  });
  const signature = toB64(
    signDigest(sha256Parts(['TWINFED-UPDATE-V1\n', aad, sha256(ciphertext)]), opts.identity.sign.secretKey),
  );
  const header = utf8(canonicalJson({ ...unsigned, signature }));
  const prefix = new Uint8Array(9);
  prefix.set(utf8('TWFU'), 0);
  prefix[4] = 1;
  new DataView(prefix.buffer).setUint32(5, header.byteLength, true);
  return concatBytes([prefix, header, ciphertext]);
}
