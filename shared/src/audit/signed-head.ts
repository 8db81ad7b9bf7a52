/**
 * Signed audit heads: at every model version publish the coordinator signs
 * sha256("TWINFED-AUDIT-HEAD-V1\n" ‖ canonicalJson({ seq, headHash, at })) with its Ed25519 key, so a chain
 * rewritten from some entry on (every later hash recomputed) no longer matches the heads it signed before.
 */
import { z } from 'zod';
import { fromB64, toB64 } from '../crypto/encoding';
import { sha256 } from '../crypto/hash';
import { signDigest, verifyDigest } from '../crypto/signature';
import { canonicalJson } from '../envelope/canonical-json';

/** What a head signature covers. */
export interface AuditHeadPayload {
  /** The seq of the last entry the head covers. */
  seq: number;
  /** That entry's hash. */
  headHash: string;
  at: string;
}

/** A stored signed head. */
export interface SignedAuditHead extends AuditHeadPayload {
  /** Base64 Ed25519 signature by the coordinator key. */
  signature: string;
}

export const SignedAuditHeadSchema = z.strictObject({
  seq: z.int().min(1),
  headHash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string().min(1).max(64),
  signature: z.string().min(1).max(200),
});

function headDigest(h: AuditHeadPayload): Uint8Array {
  return sha256('TWINFED-AUDIT-HEAD-V1\n' + canonicalJson({ seq: h.seq, headHash: h.headHash, at: h.at }));
}

/** Signs an audit head; returns the base64 signature. */
export function signAuditHead(head: AuditHeadPayload, signSecretKey: Uint8Array): string {
  return toB64(signDigest(headDigest(head), signSecretKey));
}

/** True when `head.signature` verifies under `signPublicKey`. Never throws. */
export function verifyAuditHead(head: SignedAuditHead, signPublicKey: Uint8Array): boolean {
  try {
    return verifyDigest({ digest: headDigest(head), signature: fromB64(head.signature), publicKey: signPublicKey });
  } catch {
    return false;
  }
}
