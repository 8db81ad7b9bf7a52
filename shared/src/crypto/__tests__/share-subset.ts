/**
 * A pseudo-random subset of `threshold` … all of `shares`, in a pseudo-random order, chosen by `seed` (for property
 * tests of Shamir recombination: any t or more shares, in any order).
 */
export function shareSubset(shares: readonly Uint8Array[], threshold: number, seed: number): Uint8Array[] {
  const take = threshold + (seed % (shares.length - threshold + 1));
  return shares
    .map((_, i) => i)
    .sort((a, b) => ((a * 7919 + seed) % 997) - ((b * 7919 + seed) % 997))
    .slice(0, take)
    .map((i) => shares[i]!);
}
