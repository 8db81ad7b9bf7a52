import { CONFIGS } from './configs';
import { byzantineMarkdown, summarise } from './report';
import type { ByzantineRun, Scenario } from './run';

const run = (config: string, scenario: Scenario, seed: number, acc: number): ByzantineRun => ({
  config,
  scenario,
  seed,
  attacker: scenario === 'none' ? null : 0,
  accuracy: [acc, acc, acc, acc],
  auc: [0.8, 0.8, 0.8, Number.NaN],
  curve: [acc],
  seconds: 1,
  firstRound: { norms: [seed, 1, 1, 1], cosines: [scenario === 'none' ? 0.8 : -0.6, 0, 0, 0, 0, 0] },
});

describe('byzantine summary', () => {
  const configs = CONFIGS.filter((c) => c.key === 'fedavg' || c.key === 'median');
  const scenarios: Scenario[] = ['none', 'sign-flip', 'gaussian'];
  // Config, scenario, and its accuracy with seed 1 and seed 2.
  const table: Array<[string, Scenario, number, number]> = [
    ['fedavg', 'none', 0.7, 0.68],
    ['fedavg', 'sign-flip', 0.3, 0.3],
    ['fedavg', 'gaussian', 0.69, 0.69],
    ['median', 'none', 0.68, 0.66],
    ['median', 'sign-flip', 0.67, 0.66],
    ['median', 'gaussian', 0.6, 0.6],
  ];
  const runs = table.flatMap(([config, scenario, seed1, seed2]) => [
    run(config, scenario, 1, seed1),
    run(config, scenario, 2, seed2),
  ]);

  test('compares every cell with clean FedAvg and judges the best configuration per attack against 0.03', () => {
    const s = summarise(runs, configs, scenarios);
    expect(s.cleanFedAvg.accuracy).toBeCloseTo(0.69, 10);
    expect(s.cleanFedAvg.auc).toBeCloseTo(0.8, 10);
    const cell = s.cells.find((c) => c.config === 'median' && c.scenario === 'sign-flip')!;
    expect(cell.accuracy).toBeCloseTo(0.665, 10);
    expect(cell.vsCleanFedAvg).toBeCloseTo(-0.025, 10);
    expect(cell.seeds).toBe(2);
    expect(s.verdicts).toEqual([
      expect.objectContaining({ scenario: 'sign-flip', best: 'median', pass: true }),
      expect.objectContaining({ scenario: 'gaussian', best: 'fedavg', pass: true }),
    ]);
    // Worst cases: FedAvg 0.3 (sign flip), median 0.6 (gaussian).
    expect(s.recommended).toEqual({ config: 'median', worst: expect.closeTo(0.6, 10), worstScenario: 'gaussian' });
  });

  test('averages the round-1 geometry over seeds, one run per seed and scenario', () => {
    const g = summarise(runs, configs, scenarios).firstRound;
    expect(g.map((x) => x.scenario)).toEqual(scenarios);
    expect(g[0]).toEqual({ scenario: 'none', norms: [1.5, 1, 1, 1], cosines: [0.8, 0, 0, 0, 0, 0], seeds: 2 });
    expect(g[1]!.cosines[0]).toBeCloseTo(-0.6, 10);
    const md = byzantineMarkdown({
      summary: summarise(runs, configs, scenarios),
      configs,
      scenarios,
      meta: {},
      attackerName: 'Cleveland',
    });
    expect(md).toMatch(/\| sign-flip \| 1\.500 \| 1\.000 \| 1\.000 \| 1\.000 \| −0\.60 \| \+0\.00 \|/);
  });

  test('fails an attack no configuration survives', () => {
    const worse = runs.map((r) =>
      r.config === 'median' && r.scenario === 'sign-flip' ? { ...r, accuracy: r.accuracy.map((a) => a - 0.05) } : r,
    );
    const v = summarise(worse, configs, scenarios).verdicts.find((x) => x.scenario === 'sign-flip')!;
    expect(v.pass).toBe(false);
    const md = byzantineMarkdown({
      summary: summarise(worse, configs, scenarios),
      configs,
      scenarios,
      meta: { seeds: '1, 2' },
      attackerName: 'Cleveland',
    });
    expect(md).toMatch(/\| sign-flip \| Median \| 0\.615 \| −0\.075 \| \*\*no\*\* \|/);
    expect(md).toMatch(/Not reached: sign-flip\./);
  });

  test('reports the ceiling (attacker excluded) apart from the attacks, and says what a missed attack would need', () => {
    const withCeiling = [
      ...runs,
      { ...run('fedavg', 'excluded', 1, 0.67), firstRound: undefined },
      { ...run('fedavg', 'excluded', 2, 0.65), firstRound: undefined },
    ];
    const worse = withCeiling.map((r) =>
      r.config === 'median' && r.scenario === 'sign-flip' ? { ...r, accuracy: r.accuracy.map((a) => a - 0.05) } : r,
    );
    const s = summarise(worse, configs, scenarios);
    expect(s.ceiling).toMatchObject({
      accuracy: expect.closeTo(0.66, 10),
      vsCleanFedAvg: expect.closeTo(-0.03, 10),
      seeds: 2,
    });
    // The reference is no attack: it is neither a verdict nor a cell.
    expect(s.verdicts.map((v) => v.scenario)).toEqual(['sign-flip', 'gaussian']);
    expect(s.cells.some((c) => c.scenario === 'excluded')).toBe(false);
    const md = byzantineMarkdown({ summary: s, configs, scenarios, meta: {}, attackerName: 'Cleveland' });
    expect(md).toMatch(
      /\| FedAvg, attacker excluded \| 0\.660 \| 0\.660 \| 0\.660 \| 0\.660 \| 0\.660 \(0\.800\) \| 0\.014 \| −0\.030 \|/,
    );
    expect(md).toMatch(/Not reached: sign-flip\. Dropping the attacker in every round would reach −0\.030/);
    expect(summarise(runs, configs, scenarios).ceiling).toBeUndefined();
  });
});
