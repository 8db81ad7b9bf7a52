import { randomBytes } from 'node:crypto';

/**
 * Standard normal draws from the operating system's CSPRNG (Box–Muller over 53-bit uniforms from node:crypto),
 * for differential-privacy noise that nobody can predict from a seed. Draws come in pairs; bytes are fetched in
 * blocks to keep it cheap on large models.
 */
export function secureNormal(): () => number {
  let block = Buffer.alloc(0);
  let offset = 0;
  let spare: number | null = null;
  const uniform = (): number => {
    if (offset + 8 > block.length) {
      block = randomBytes(8 * 1024);
      offset = 0;
    }
    const hi = block.readUInt32LE(offset) >>> 5; // 27 bits
    const lo = block.readUInt32LE(offset + 4) >>> 6; // 26 bits
    offset += 8;
    return (hi * 67108864 + lo + 1) / 9007199254740993; // in (0, 1): never 0, so log() is finite
  };
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}
