/**
 * Exponent and logarithm tables of GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (0x11b, the AES field, the field of
 * `shamir-secret-sharing`) for the generator 3: GF_EXP[i] = 3^i for i < 510 (twice around, so a sum of two logarithms
 * needs no reduction) and GF_LOG[3^i] = i. A product a · b of non-zero elements is GF_EXP[GF_LOG[a] + GF_LOG[b]].
 */
export const GF_EXP = new Uint8Array(510);
export const GF_LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    GF_EXP[i] = x;
    GF_EXP[i + 255] = x;
    GF_LOG[x] = i;
    // x · 3 = x · 2 ⊕ x, reduced by 0x11b
    const twice = (x << 1) ^ (x & 0x80 ? 0x11b : 0);
    x = twice ^ x;
  }
}
