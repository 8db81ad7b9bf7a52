import type { Calibration } from './configs';
import { privacyJson, privacyMarkdown, summarisePrivacy, type PrivacyRun } from './report';

const cal = (aggregation: 'plain' | 'secagg', epsilon: number | null, z: number | null): Calibration => ({
  aggregation,
  epsilon,
  clip: z === null ? null : 0.05,
  noiseMultiplier: z,
  planEpsilon: epsilon,
  delta: z === null ? null : 1e-5,
  meanNoiseStd: z === null ? null : (z * 0.05) / 4,
});

const run = (aggregation: 'plain' | 'secagg', epsilon: number | null, seed: number, acc: number, auc: number) =>
  ({
    aggregation,
    epsilon,
    seed,
    pooledAccuracy: acc,
    pooledAuc: auc,
    centreAccuracy: [acc, acc, acc - 0.1, acc - 0.1],
    signedEpsilon: epsilon,
    seconds: 1,
  }) satisfies PrivacyRun;

describe('privacy–utility report', () => {
  const calibrations = [cal('plain', null, null), cal('plain', 8, 2.3), cal('plain', 1, 14.4), cal('secagg', 3, 5.8)];
  const runs = [
    run('plain', null, 1, 0.7, 0.8),
    run('plain', null, 2, 0.72, 0.84),
    run('plain', 1, 1, 0.5, 0.6),
    run('plain', 1, 2, 0.6, 0.64),
    run('plain', 8, 1, 0.69, 0.79),
    run('plain', 8, 2, 0.69, 0.81),
    run('secagg', 3, 1, 0.65, 0.7),
  ];

  test('orders cells by ε (∞ last) per aggregation, with mean ± sample sd over seeds', () => {
    const cells = summarisePrivacy(runs, calibrations);
    expect(cells.map((c) => [c.aggregation, c.epsilon])).toEqual([
      ['plain', 1],
      ['plain', 8],
      ['plain', null],
      ['secagg', 3],
    ]);
    const eps1 = cells[0]!;
    expect(eps1.accuracy.mean).toBeCloseTo(0.55, 12);
    expect(eps1.accuracy.sd).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(eps1.auc.mean).toBeCloseTo(0.62, 12);
    expect(eps1.centreAverageAccuracy.mean).toBeCloseTo(0.5, 12);
    expect(eps1.seeds).toBe(2);
    expect(eps1.noiseMultiplier).toBe(14.4);
  });

  test('prices each ε against ε = ∞ of the same aggregation, and leaves the price out without that reference', () => {
    const cells = summarisePrivacy(runs, calibrations);
    expect(cells[0]!.accuracyCost).toBeCloseTo(0.71 - 0.55, 12);
    expect(cells[0]!.aucCost).toBeCloseTo(0.82 - 0.62, 12);
    expect(cells[2]!.accuracyCost).toBeCloseTo(0, 12);
    expect(cells[3]!.accuracyCost).toBeNull();
    expect(cells[3]!.accuracy.sd).toBe(0);
  });

  test('skips settings without runs and writes one table per aggregation that has any', () => {
    const cells = summarisePrivacy(
      runs.filter((r) => r.aggregation === 'plain'),
      calibrations,
    );
    expect(cells.map((c) => c.aggregation)).not.toContain('secagg');
    const md = privacyMarkdown(cells, { mode: 'test' }, 254);
    expect(md).toContain('## Without secure aggregation (central DP)');
    expect(md).not.toContain('## With secure aggregation');
    expect(md).toContain('the 254 test rows');
    expect(md).toContain(
      '| 1 | 1e-5 | central DP: coordinator clips, adds Gaussian | 0.05 | 14.400 | 0.1800 | **0.550 ± 0.071** |',
    );
    expect(md).toContain('| −0.160 | −0.200 |');
    expect(md).toContain('| ∞ | – | none (FedAvg) | – | – | – | **0.710 ± 0.014** | **0.820 ± 0.028** | (reference) |');
  });

  test('the JSON keeps the meta, every cell and every run', () => {
    const cells = summarisePrivacy(runs, calibrations);
    const json = privacyJson(cells, runs, { mode: 'test' });
    expect(json).toEqual({ meta: { mode: 'test' }, summary: cells, runs });
  });
});
