import { benchEnvelope } from './envelope';

describe('benchEnvelope', () => {
  test('reports positive finite throughputs for every measurement (no timing assertions)', () => {
    const r = benchEnvelope({ sizeBytes: 256, iterations: 1 });
    expect(r.sizeBytes).toBe(256);
    expect(r.iterations).toBe(1);
    for (const k of ['sealMiBs', 'openMiBs', 'boxSealMiBs', 'boxOpenMiBs', 'naclBoxMiBs', 'naclOpenMiBs'] as const) {
      expect(Number.isFinite(r[k])).toBe(true);
      expect(r[k]).toBeGreaterThan(0);
    }
  });

  test('rejects nonsensical arguments', () => {
    expect(() => benchEnvelope({ sizeBytes: 2, iterations: 1 })).toThrow();
    expect(() => benchEnvelope({ sizeBytes: 64, iterations: 0 })).toThrow();
  });
});
