/**
 * Shamir recombination over GF(2^8) for shares made by `shamir-secret-sharing`'s `split` (each share: one byte per
 * secret byte, then its x coordinate), giving the very bytes of that library's `combine`. The library evaluates the
 * Lagrange basis at 0 again for every byte of the secret, with range checks on every field operation: O(t² · bytes),
 * ~7 ms for a 32-byte secret from t = 73 shares on this project's machines, and the coordinator recombines a secret
 * per site and round (SecAgg+ at 500 sites: ~500 per round, seconds on its one thread). Here the basis coefficients
 * ℓ_i(0) = Π_{j≠i} x_j / (x_i + x_j) are computed once per call in the log domain (O(t²) table lookups), then each byte
 * is Σ_i y_i · ℓ_i(0) (O(t · bytes)). Interpolation at 0 is a function of the shares alone, so any correct field
 * arithmetic in the same field (the AES field, x^8 + x^4 + x^3 + x + 1, the library's) gives the same bytes; the
 * tests check that against the library on random secrets, thresholds and share subsets.
 */
import { GF_EXP as EXP, GF_LOG as LOG } from './gf256';

/**
 * The secret the shares interpolate to at 0 (as `shamir-secret-sharing`'s `combine`). Throws a `RangeError` or an
 * `Error` on what that library refuses: not 2 to 255 shares, shares of different lengths or shorter than 2 bytes, a
 * repeated x coordinate.
 */
export function combineShamirShares(shares: readonly Uint8Array[]): Uint8Array {
  const n = shares.length;
  if (n < 2 || n > 255) throw new RangeError('shares must have at least 2 and at most 255 elements');
  const length = shares[0]!.byteLength;
  if (length < 2) throw new Error('each share must be at least 2 bytes');
  const xs = new Uint8Array(n);
  const seen = new Uint8Array(256);
  for (let i = 0; i < n; i++) {
    const share = shares[i]!;
    if (!(share instanceof Uint8Array)) throw new TypeError('each share must be a Uint8Array');
    if (share.byteLength !== length) throw new Error('all shares must have the same byte length');
    const x = share[length - 1]!;
    if (seen[x]) throw new Error('shares must contain unique values but a duplicate was found');
    seen[x] = 1;
    xs[i] = x;
  }
  // A share at x = 0 holds the secret itself (split never makes one; the library's interpolation then gives its bytes).
  const atZero = xs.indexOf(0);
  if (atZero >= 0) return shares[atZero]!.slice(0, length - 1);
  // log ℓ_i(0) = Σ_{j≠i} log x_j − Σ_{j≠i} log(x_i ⊕ x_j)  (mod 255); no factor is 0 (the x are distinct, non-zero).
  let logProduct = 0;
  for (let j = 0; j < n; j++) logProduct += LOG[xs[j]!]!;
  const logBasis = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const xi = xs[i]!;
    let log = logProduct - LOG[xi]!;
    for (let j = 0; j < n; j++) if (j !== i) log -= LOG[xi ^ xs[j]!]!;
    logBasis[i] = ((log % 255) + 255) % 255;
  }
  const secret = new Uint8Array(length - 1);
  for (let i = 0; i < n; i++) {
    const share = shares[i]!;
    const logL = logBasis[i]!;
    for (let b = 0; b < length - 1; b++) {
      const y = share[b]!;
      if (y !== 0) secret[b] = secret[b]! ^ EXP[LOG[y]! + logL]!;
    }
  }
  return secret;
}
