import { SeededRandom, type Uniform } from '@twinfed/shared';

/** The uniform source of population noise: shared's `Uniform` (reports use `cryptoUniform()`; tests a seeded one). */
export type UniformSource = Uniform;

/** A reproducible uniform source for tests and simulations (not for released reports). */
export function seededUniform(seed: number): UniformSource {
  const rng = new SeededRandom(seed);
  return () => rng.next();
}

/**
 * One draw of Laplace(0, scale) by inverse CDF: with u uniform in (−½, ½), x = −scale·sign(u)·ln(1 − 2|u|).
 * Draws of exactly 0 from the source are redrawn so the logarithm stays finite.
 */
export function laplace(scale: number, uniform: UniformSource): number {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`Laplace scale must be positive, got ${scale}`);
  let v = uniform();
  while (v === 0) v = uniform();
  const u = v - 0.5;
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}
