import { secureNormal } from './secure-normal';

describe('secureNormal', () => {
  test('draws standard normals (moments of 200,000 draws) and never repeats a stream', () => {
    const draw = secureNormal();
    const n = 200_000;
    let sum = 0;
    let sq = 0;
    let beyond3 = 0;
    for (let i = 0; i < n; i++) {
      const x = draw();
      expect(Number.isFinite(x)).toBe(true);
      sum += x;
      sq += x * x;
      if (Math.abs(x) > 3) beyond3++;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.015); // se 0.0022: > 6 se
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.02); // se 0.0032
    expect(beyond3 / n).toBeGreaterThan(0.0018); // P(|x|>3) = 0.0027
    expect(beyond3 / n).toBeLessThan(0.0036);
    const a = secureNormal();
    const b = secureNormal();
    expect([a(), a(), a()]).not.toEqual([b(), b(), b()]);
  });
});
