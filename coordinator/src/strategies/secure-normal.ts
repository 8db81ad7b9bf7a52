import { cryptoUniform } from '@twinfed/shared';

/**
 * Standard normal draws from the operating system's CSPRNG (Box–Muller over shared's `cryptoUniform`), for
 * differential-privacy noise that nobody can predict from a seed. Draws come in pairs.
 */
export function secureNormal(): () => number {
  const draw = cryptoUniform();
  const uniform = (): number => 1 - draw(); // in (0, 1]: log() stays finite
  let spare: number | null = null;
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
