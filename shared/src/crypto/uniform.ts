import { randomBytes } from 'node:crypto';

/** A source of uniform floats in [0, 1): {@link cryptoUniform} for anything released, a seeded one only in tests. */
export type Uniform = () => number;

/**
 * Uniform floats in [0, 1) with 53 random bits each, from the operating system's CSPRNG (node:crypto), fetched in
 * 8 KiB blocks so millions of draws (noise for every weight of a model) stay cheap. For every noise that protects
 * privacy (Laplace counts, Gaussian and Skellam DP noise): a seeded source would let anyone with the seed subtract it.
 */
export function cryptoUniform(): Uniform {
  let block = Buffer.alloc(0);
  let offset = 0;
  return () => {
    if (offset + 8 > block.length) {
      block = randomBytes(8 * 1024);
      offset = 0;
    }
    const hi = block.readUInt32LE(offset) >>> 5; // 27 bits
    const lo = block.readUInt32LE(offset + 4) >>> 6; // 26 bits
    offset += 8;
    return (hi * 67108864 + lo) / 9007199254740992;
  };
}
