/**
 * Proof of possession at enrollment: the enrolling site shows it holds the secret halves of both keys it
 * registers, for this token and this coordinator only.
 *
 *   statement = SHA-256("TWINFED-ENROLL-V1\n" ‖ hex SHA-256(token) ‖ "\n" ‖ coordinator fingerprint ‖ "\n"
 *                       ‖ site signPublicKey (base64) ‖ "\n" ‖ site boxPublicKey (base64))
 *   signature = Ed25519(site sign secret key, statement)                       — possession of the Ed25519 key
 *   boxProof  = HMAC-SHA256(key = HKDF-SHA256(X25519(site box secret, coordinator box public),
 *                                 salt = statement, info = "twinfed/enroll-box-proof/v1" ‖ site box public ‖ coordinator box public),
 *                           "TWINFED-ENROLL-BOX-V1\n" ‖ statement)             — possession of the X25519 key
 *
 * Only the holder of the site's box secret (or the coordinator, with its own box secret) can compute the MAC, so a
 * site cannot register another site's box key either. The purpose strings keep these from ever verifying as a
 * request, handshake, update or model signature; the token hash ties a proof to one invitation (it cannot be
 * replayed with another token), the fingerprint to one coordinator.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { TwinfedError } from '../errors';
import { concatBytes, fromB64, toB64, utf8 } from '../crypto/encoding';
import { sha256Parts, timingSafeEqualBytes } from '../crypto/hash';
import { fingerprint, KEY_BYTES, type Identity, type PublicIdentity } from '../crypto/identity';
import { x25519 } from '../crypto/primitives';
import { hashToken } from '../crypto/token';
import { signDigest, verifyDigest } from '../crypto/signature';

/** The proof an enrollment request carries (base64 fields). */
interface EnrollProof {
  /** Ed25519 signature of the statement by the site's signing key. */
  readonly signature: string;
  /** HMAC-SHA256 of the statement under the site ↔ coordinator X25519 secret. */
  readonly boxProof: string;
}

const STATEMENT_PURPOSE = 'TWINFED-ENROLL-V1\n';
const BOX_PURPOSE = 'TWINFED-ENROLL-BOX-V1\n';
const BOX_INFO = utf8('twinfed/enroll-box-proof/v1');

function statement(o: { token: string; coordinator: PublicIdentity; site: PublicIdentity }): Uint8Array {
  return sha256Parts([
    STATEMENT_PURPOSE,
    hashToken(o.token),
    '\n',
    fingerprint(o.coordinator),
    '\n',
    o.site.signPublicKey,
    '\n',
    o.site.boxPublicKey,
  ]);
}

function boxMac(o: {
  secretKey: Uint8Array;
  peerPublicKey: Uint8Array;
  siteBox: Uint8Array;
  coordinatorBox: Uint8Array;
  statement: Uint8Array;
}): Uint8Array | null {
  const shared = x25519(o.secretKey, o.peerPublicKey);
  if (shared === null) return null;
  const key = Buffer.from(
    hkdfSync('sha256', shared, o.statement, concatBytes([BOX_INFO, o.siteBox, o.coordinatorBox]), 32),
  );
  return new Uint8Array(createHmac('sha256', key).update(BOX_PURPOSE).update(o.statement).digest());
}

/** The site's proof for enrolling `identity` with `token` at the coordinator whose public keys are `coordinator`. */
export function signEnrollProof(o: { token: string; coordinator: PublicIdentity; identity: Identity }): EnrollProof {
  const site: PublicIdentity = {
    signPublicKey: toB64(o.identity.sign.publicKey),
    boxPublicKey: toB64(o.identity.box.publicKey),
  };
  const digest = statement({ token: o.token, coordinator: o.coordinator, site });
  const mac = boxMac({
    secretKey: o.identity.box.secretKey,
    peerPublicKey: fromB64(o.coordinator.boxPublicKey),
    siteBox: o.identity.box.publicKey,
    coordinatorBox: fromB64(o.coordinator.boxPublicKey),
    statement: digest,
  });
  if (mac === null) throw new TwinfedError('BAD_SIGNATURE', "The coordinator's box key is not a usable X25519 key.");
  return { signature: toB64(signDigest(digest, o.identity.sign.secretKey)), boxProof: toB64(mac) };
}

/**
 * True when `proof` shows possession of both site keys for this token and this coordinator (`coordinator` is the
 * coordinator's own identity: its box secret checks the MAC). Never throws: malformed input is simply false.
 */
export function verifyEnrollProof(o: {
  token: string;
  coordinator: Identity;
  site: PublicIdentity;
  proof: EnrollProof | undefined;
}): boolean {
  try {
    if (!o.proof) return false;
    const signPublicKey = fromB64(o.site.signPublicKey);
    const boxPublicKey = fromB64(o.site.boxPublicKey);
    if (signPublicKey.byteLength !== KEY_BYTES.signPublicKey || boxPublicKey.byteLength !== KEY_BYTES.boxPublicKey)
      return false;
    const coordinator: PublicIdentity = {
      signPublicKey: toB64(o.coordinator.sign.publicKey),
      boxPublicKey: toB64(o.coordinator.box.publicKey),
    };
    const digest = statement({ token: o.token, coordinator, site: o.site });
    if (!verifyDigest({ digest, signature: fromB64(o.proof.signature), publicKey: signPublicKey })) return false;
    const expected = boxMac({
      secretKey: o.coordinator.box.secretKey,
      peerPublicKey: boxPublicKey,
      siteBox: boxPublicKey,
      coordinatorBox: o.coordinator.box.publicKey,
      statement: digest,
    });
    return expected !== null && timingSafeEqualBytes(expected, fromB64(o.proof.boxProof));
  } catch {
    return false;
  }
}
