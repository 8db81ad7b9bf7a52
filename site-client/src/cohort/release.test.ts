import fc from 'fast-check';
import { CohortQuerySchema, type CohortQueryInput } from '@twinfed/shared';
import { seededUniform } from '../population/noise';
import { quantile, releaseCohortTable } from './release';
import type { CohortRows } from './rows';

/** Rows from plain arrays (NaN where missing). */
function rows(columns: Record<string, number[]>): CohortRows {
  const n = Object.values(columns)[0]!.length;
  return {
    n,
    columns: new Map(Object.entries(columns).map(([k, v]) => [k, Float64Array.from(v)])),
    description: 'test',
  };
}

const query = (q: Partial<CohortQueryInput>) => CohortQuerySchema.parse({ title: 't', source: { kind: 'csv' }, ...q });
const bySmoker = { kind: 'category' as const, feature: 'smoker', values: [0, 1], labels: ['no', 'yes'] };
const rng = seededUniform(1);

/** 15 smokers and 25 non-smokers, BMI 20 + i/4. */
const clinic = rows({
  smoker: [...Array<number>(15).fill(1), ...Array<number>(25).fill(0)],
  bmi: Array.from({ length: 40 }, (_, i) => 20 + i / 4),
});

describe('releaseCohortTable', () => {
  test('a cell of 15 is released at k 10 and suppressed at k 20, with the cell that would reveal it', () => {
    const q = query({ groupBy: [bySmoker] });
    const at10 = releaseCohortTable({ query: q, rows: clinic, k: 10, rng });
    expect(at10).toEqual({
      k: 10,
      epsilon: null,
      cells: [
        { levels: ['no'], count: 25 },
        { levels: ['yes'], count: 15 },
      ],
      total: 40,
      suppressedCells: 0,
    });
    const at20 = releaseCohortTable({ query: q, rows: clinic, k: 20, rng });
    // 15 < 20 is hidden; 25 too, else the total 40 minus 25 would give the 15 back.
    expect(at20.cells.map((c) => c.count)).toEqual([null, null]);
    expect(at20.total).toBe(40);
    expect(at20.suppressedCells).toBe(2);
  });

  test('one dimension: a small band hides only the smallest other band, not the whole line', () => {
    const ages = [...Array<number>(7).fill(35), ...Array<number>(19).fill(50), ...Array<number>(12).fill(70)];
    const q = query({ groupBy: [{ kind: 'ageBand', cuts: [40, 60] }], summaries: { features: ['age'] } });
    const t = releaseCohortTable({ query: q, rows: rows({ age: ages }), k: 10, rng });
    expect(t.cells.map((c) => [c.levels[0], c.count])).toEqual([
      ['0-39', null],
      ['40-59', 19],
      ['60+', null],
    ]);
    expect(t.total).toBe(38);
    expect(t.cells[1]!.summaries!.age).toMatchObject({ n: 19, mean: 50 });
  });

  test('summaries: mean, sample sd, type-7 quartiles and pooled sums; withheld below k values and in suppressed cells', () => {
    const q = query({ groupBy: [bySmoker], summaries: { features: ['bmi'], pooled: true } });
    const t = releaseCohortTable({ query: q, rows: clinic, k: 10, rng });
    const yes = Array.from({ length: 15 }, (_, i) => 20 + i / 4);
    const mean = yes.reduce((a, x) => a + x, 0) / 15;
    const s = t.cells[1]!.summaries!.bmi!;
    expect(s.n).toBe(15);
    expect(s.mean).toBeCloseTo(mean, 12);
    expect(s.sd).toBeCloseTo(Math.sqrt(yes.reduce((a, x) => a + (x - mean) ** 2, 0) / 14), 12);
    expect([s.q1, s.median, s.q3]).toEqual([quantile(yes, 0.25), quantile(yes, 0.5), quantile(yes, 0.75)]);
    expect(s.sum).toBeCloseTo(mean * 15, 9);
    expect(s.sumSq).toBeCloseTo(
      yes.reduce((a, x) => a + x * x, 0),
      9,
    );
    // 12 of the 15 smokers have no BMI: fewer than k values, so their summary is withheld though the count is not.
    const bmi = Array.from({ length: 40 }, (_, i) => (i < 12 ? NaN : 20 + i / 4));
    const t2 = releaseCohortTable({
      query: q,
      rows: rows({ smoker: Array.from(clinic.columns.get('smoker')!), bmi }),
      k: 10,
      rng,
    });
    expect(t2.cells[1]).toEqual({ levels: ['yes'], count: 15, summaries: { bmi: null } });
    expect(t2.cells[0]!.summaries!.bmi!.n).toBe(25);
    const t20 = releaseCohortTable({ query: q, rows: clinic, k: 20, rng });
    expect(t20.cells.map((c) => c.summaries)).toEqual([{ bmi: null }, { bmi: null }]);
  });

  test('type-7 quantiles match R on a small sample', () => {
    expect([0.25, 0.5, 0.75].map((p) => quantile([1, 2, 3, 4], p))).toEqual([1.75, 2.5, 3.25]);
    expect(quantile([5], 0.5)).toBe(5);
  });

  test('two dimensions in row-major order; a row with a missing or unlisted value is left out', () => {
    const q = query({
      groupBy: [{ kind: 'ageBand', cuts: [50] }, bySmoker],
    });
    const ages = [...Array<number>(30).fill(40), ...Array<number>(30).fill(70), NaN, 40];
    const smoker = [
      ...Array<number>(15).fill(0),
      ...Array<number>(15).fill(1),
      ...Array<number>(12).fill(0),
      ...Array<number>(18).fill(1),
      1, // no age: left out
      7, // not a listed code: left out
    ];
    const t = releaseCohortTable({ query: q, rows: rows({ age: ages, smoker }), k: 10, rng });
    expect(t.cells.map((c) => [c.levels.join('/'), c.count])).toEqual([
      ['0-49/no', 15],
      ['0-49/yes', 15],
      ['50+/no', 12],
      ['50+/yes', 18],
    ]);
    expect(t.total).toBe(60);
  });

  test('with ε the counts are noisy (one Laplace draw per cell), and still nothing below k is released', () => {
    const q = query({ groupBy: [bySmoker] });
    const big = rows({ smoker: [...Array<number>(400).fill(0), ...Array<number>(300).fill(1)] });
    const noisy = releaseCohortTable({ query: q, rows: big, k: 10, epsilon: 0.1, rng: seededUniform(7) });
    expect(noisy.epsilon).toBe(0.1);
    expect(noisy.cells.map((c) => c.count)).not.toEqual([400, 300]);
    expect(noisy.total).toBe(noisy.cells.reduce((a, c) => a + c.count!, 0));
    const again = releaseCohortTable({ query: q, rows: big, k: 10, epsilon: 0.1, rng: seededUniform(7) });
    expect(again).toEqual(noisy);
  });

  test('property: whatever the data, k and ε, every released count and summary is at least k', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 2 }),
            fc.integer({ min: 0, max: 3 }),
            fc.double({ min: 0, max: 9, noNaN: true }),
          ),
          {
            maxLength: 120,
          },
        ),
        fc.integer({ min: 10, max: 30 }),
        fc.option(fc.double({ min: 0.05, max: 5, noNaN: true }), { nil: undefined }),
        (data, k, epsilon) => {
          const q = query({
            groupBy: [
              { kind: 'category', feature: 'a', values: [0, 1, 2] },
              { kind: 'bins', feature: 'b', cuts: [1, 2] },
            ],
            summaries: { features: ['x'], pooled: true },
          });
          const r = rows({ a: data.map((d) => d[0]), b: data.map((d) => d[1]), x: data.map((d) => d[2]) });
          const t = releaseCohortTable({
            query: q,
            rows: r,
            k,
            ...(epsilon ? { epsilon } : {}),
            rng: seededUniform(3),
          });
          const counts = [...t.cells.map((c) => c.count), t.total].filter((c) => typeof c === 'number');
          const summaries = t.cells.flatMap((c) => Object.values(c.summaries ?? {})).filter((s) => s !== null);
          return counts.every((c) => c >= k) && summaries.every((s) => s.n >= k);
        },
      ),
      { numRuns: 200, seed: 5 },
    );
  });

  test('a feature the data lack makes the query unanswerable', () => {
    const q = query({ summaries: { features: ['glucose'] } });
    expect(() => releaseCohortTable({ query: q, rows: clinic, k: 10, rng })).toThrow(
      expect.objectContaining({ code: 'COHORT_QUERY_UNANSWERABLE' }),
    );
  });
});
