/**
 * Bearer and enrollment tokens. Tokens are 32 random bytes (256 bits), so a plain SHA-256 is enough to store
 * them: a slow password KDF (scrypt, argon2) only helps against guessing low-entropy secrets, and nobody can
 * enumerate 2^256 tokens. Compare stored hashes with {@link timingSafeEqualHex}.
 */
import { TwinfedError } from '../errors';
import { toB64Url } from './encoding';
import { randomBytes, sha256Hex } from './hash';

/** Random bytes in every token. */
export const TOKEN_RANDOM_BYTES = 32;

const PREFIX_RE = /^[a-z][a-z0-9]{0,15}_$/;

/**
 * A new token: `prefix` (lowercase, ending in `_`, e.g. `tfe_` for enrollment, `tfo_` operator, `tfr_`
 * researcher) followed by 32 random bytes in base64url (43 characters). The prefix makes leaked tokens
 * recognisable to secret scanners.
 */
export function generateToken(prefix: string): string {
  if (!PREFIX_RE.test(prefix)) throw new TwinfedError('INTERNAL', 'Token prefix must match /^[a-z][a-z0-9]{0,15}_$/.');
  return prefix + toB64Url(randomBytes(TOKEN_RANDOM_BYTES));
}

/** The hash to store for `token`: SHA-256 of its UTF-8 bytes, lowercase hex. */
export function hashToken(token: string): string {
  return sha256Hex(token);
}
