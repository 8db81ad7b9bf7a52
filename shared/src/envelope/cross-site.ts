/**
 * Cross-site evaluation, the cryptography (see schemas/cross-site for the protocol).
 *
 * A local-only model travels as a box (crypto/box: X25519 of the sender's and the recipient's enrolled box keys,
 * HKDF, AES-256-GCM) from the site that trained it to each site that evaluates it. Its AAD binds
 * `TWINFED-CROSS-SITE-MODEL-V1\n` ‖ federation ‖ sender ‖ recipient, so the coordinator, which relays the boxes, can
 * neither read one (it holds neither secret) nor pass one off for another federation, sender or recipient.
 *
 * The matrix is signed by the coordinator: sha256("TWINFED-CROSS-SITE-V1\n" ‖ canonicalJson(matrix)), Ed25519.
 */
import { openBox, sealBox } from '../crypto/box';
import { fromB64, toB64, utf8 } from '../crypto/encoding';
import { sha256 } from '../crypto/hash';
import { signDigestB64, verifyDigestB64 } from '../crypto/signature';
import type { CrossSiteMatrix, SignedCrossSiteMatrix } from '../schemas/cross-site';
import { canonicalJson } from './canonical-json';

const MODEL_AAD = 'TWINFED-CROSS-SITE-MODEL-V1\n';
const MATRIX_PURPOSE = 'TWINFED-CROSS-SITE-V1\n';

const aad = (o: { federationId: string; sender: string; recipient: string }): Uint8Array =>
  utf8(`${MODEL_AAD}${o.federationId}\n${o.sender}\n${o.recipient}`);

/** Seals a serialised local model from `sender` to `recipient` (base64 nonce and ciphertext, as the API carries them). */
export function sealCrossSiteModel(o: {
  federationId: string;
  sender: string;
  recipient: string;
  weights: Uint8Array;
  senderBoxSecretKey: Uint8Array;
  recipientBoxPublicKey: Uint8Array;
}): { recipient: string; nonce: string; ciphertext: string } {
  const box = sealBox({
    plaintext: o.weights,
    aad: aad(o),
    senderBoxSecretKey: o.senderBoxSecretKey,
    recipientBoxPublicKey: o.recipientBoxPublicKey,
  });
  return { recipient: o.recipient, nonce: toB64(box.nonce), ciphertext: toB64(box.ciphertext) };
}

/** Opens a box sealed by {@link sealCrossSiteModel}; throws DECRYPT_FAILED for anything else. */
export function openCrossSiteModel(o: {
  federationId: string;
  sender: string;
  recipient: string;
  nonce: string;
  ciphertext: string;
  senderBoxPublicKey: Uint8Array;
  recipientBoxSecretKey: Uint8Array;
}): Uint8Array {
  return openBox({
    nonce: fromB64(o.nonce, 'DECRYPT_FAILED'),
    ciphertext: fromB64(o.ciphertext, 'DECRYPT_FAILED'),
    aad: aad(o),
    senderBoxPublicKey: o.senderBoxPublicKey,
    recipientBoxSecretKey: o.recipientBoxSecretKey,
  });
}

const matrixDigest = (m: CrossSiteMatrix): Uint8Array => {
  const body: CrossSiteMatrix = {
    federationId: m.federationId,
    globalVersionId: m.globalVersionId,
    metric: m.metric,
    participants: m.participants,
    refused: m.refused,
    silent: m.silent,
    columns: m.columns,
    rows: m.rows,
    completedAt: m.completedAt,
  };
  return sha256(MATRIX_PURPOSE + canonicalJson(body));
};

/** The matrix with the coordinator's signature over it. */
export function signCrossSiteMatrix(m: CrossSiteMatrix, coordinatorSignSecretKey: Uint8Array): SignedCrossSiteMatrix {
  return { ...m, signature: signDigestB64(matrixDigest(m), coordinatorSignSecretKey) };
}

/** True when the matrix carries the coordinator's valid signature (under `coordinatorSignPublicKey`). */
export function verifyCrossSiteMatrix(m: SignedCrossSiteMatrix, coordinatorSignPublicKey: Uint8Array): boolean {
  return verifyDigestB64(matrixDigest(m), m.signature, coordinatorSignPublicKey);
}
