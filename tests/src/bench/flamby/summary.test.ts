import { published, FLAMBY_ACCURACY } from './published';
import { roundsToFinal, seedMatch, summarise, type SeedResult } from './summary';

const result = (method: string, seed: number, accuracy: number[], curve?: number[]): SeedResult => ({
  method,
  seed,
  accuracy,
  auc: [0.8, 0.7, Number.NaN, 0.6],
  seconds: 1,
  ...(curve ? { curve } : {}),
});

describe('FLamby published numbers', () => {
  test('reproduce BENCHMARK.md §4 means', () => {
    expect(published('Pooled')!.average).toBeCloseTo(0.7353, 4);
    expect(published('FedAvg')!.average).toBeCloseTo(0.685, 4);
    expect(published('Scaffold')!.average).toBeCloseTo(0.684, 4);
    expect(published('Local 2')!.average).toBeCloseTo(0.567, 4);
    expect(published('FedYogi')!.perCentre[0]).toBeCloseTo(0.7596, 4);
    expect(published('FedAvg', [42])!.average).toBeCloseTo(0.6915, 4);
    expect(published('Nope')).toBeUndefined();
    for (const rows of Object.values(FLAMBY_ACCURACY)) expect(rows.map((r) => r.length)).toEqual([4, 4, 4, 4, 4]);
  });
});

describe('roundsToFinal', () => {
  test('is the first round from which the curve stays within 0.01 of its end', () => {
    expect(roundsToFinal([0.5, 0.6, 0.7, 0.705, 0.71])).toBe(3);
    expect(roundsToFinal([0.7, 0.5, 0.71])).toBe(3);
    expect(roundsToFinal([0.7, 0.705, 0.71])).toBe(1);
    expect(roundsToFinal([0.42])).toBe(1);
    expect(roundsToFinal([])).toBeNull();
  });
});

describe('summarise', () => {
  test('averages seeds and judges the row against its tolerance band', () => {
    const row = summarise(
      'FedAvg',
      [result('FedAvg', 42, [0.7, 0.7, 0.7, 0.7], [0.5, 0.7]), result('FedAvg', 43, [0.8, 0.6, 0.6, 0.6], [0.6, 0.7])],
      { flamby: 'FedAvg', tolerance: 0.03 },
    );
    expect(row.perCentre.map((x) => +x.toFixed(6))).toEqual([0.75, 0.65, 0.65, 0.65]);
    expect(row.average).toBeCloseTo(0.675, 10);
    expect(row.diff).toBeCloseTo(0.675 - published('FedAvg')!.average, 10);
    expect(row.pass).toBe(true);
    expect(row.auc).toBeCloseTo(0.7, 10);
    expect(row.aucPerCentre[2]).toBeNaN();
    expect(row.roundsToFinal).toBe(2);
    expect(row.seeds).toEqual([42, 43]);
  });

  test('fails outside the band, has no verdict without a tolerance, and holds our rows to at least Pooled − 0.01', () => {
    expect(
      summarise('Scaffold', [result('Scaffold', 42, [0.72, 0.72, 0.72, 0.72])], { flamby: 'Scaffold', tolerance: 0.03 })
        .pass,
    ).toBe(false);
    expect(summarise('Cyclic', [result('Cyclic', 42, [0.9, 0.9, 0.9, 0.9])], { flamby: 'Cyclic' }).pass).toBeNull();
    const ours = (acc: number) =>
      summarise('Ours', [result('Ours', 42, [acc, acc, acc, acc])], {
        flamby: 'Pooled',
        tolerance: 0.01,
        atLeast: true,
      });
    expect(ours(0.8).pass).toBe(true);
    expect(ours(0.726).pass).toBe(true);
    expect(ours(0.72).pass).toBe(false);
  });
});

describe('seedMatch', () => {
  test('counts (seed, center) cells with the same number of correct test rows as FLamby, seed for seed', () => {
    const theirs42 = FLAMBY_ACCURACY['FedAvg']![0]!;
    const theirs43 = FLAMBY_ACCURACY['FedAvg']![1]!;
    // seed 42 identical (up to FLamby's 6-digit rounding); seed 43 one more Cleveland row right; seed 99 not run by FLamby.
    const ours = [
      result(
        'FedAvg',
        42,
        theirs42.map((a) => a + 4e-7),
      ),
      result('FedAvg', 43, [theirs43[0]! + 1 / 104, ...theirs43.slice(1)]),
      result('FedAvg', 99, [0, 0, 0, 0]),
    ];
    const m = seedMatch('FedAvg', ours)!;
    expect(m.cells).toBe(8);
    expect(m.same).toBe(7);
    expect(m.meanAbsDiff).toBeCloseTo(1 / 104 / 4 / 2, 5);
    expect(seedMatch('Nope', ours)).toBeNull();
    expect(seedMatch('FedAvg', [result('FedAvg', 99, [0, 0, 0, 0])])).toBeNull();
    expect(summarise('FedAvg', ours.slice(0, 2), { flamby: 'FedAvg', tolerance: 0.03 }).seedMatch).toEqual(m);
  });
});
