import {
  CohortAnswerSchema,
  CohortQuerySchema,
  CohortTableSchema,
  CreateCohortQuerySchema,
  cohortGrid,
  cohortQueryFeatures,
  levelIndex,
  type CohortGroupBy,
} from './cohort';

const issues = (r: { success: boolean; error?: { issues: Array<{ message: string }> } }) =>
  r.success ? [] : r.error!.issues.map((i) => i.message);

describe('CohortQuerySchema', () => {
  test('fills defaults: no grouping, counts on, all three statistics, not pooled', () => {
    const q = CohortQuerySchema.parse({
      title: 'Diabetes clinic',
      source: { kind: 'csv' },
      summaries: { features: ['bmi'] },
    });
    expect(q.groupBy).toEqual([]);
    expect(q.counts).toBe(true);
    expect(q.summaries).toEqual({ features: ['bmi'], statistics: ['mean', 'sd', 'quartiles'], pooled: false });
    expect(q.k).toBeUndefined();
  });

  test('refuses a query that asks for nothing, a feature grouped twice, more than two dimensions, k below 2', () => {
    const base = { title: 't', source: { kind: 'csv' } };
    expect(issues(CohortQuerySchema.safeParse({ ...base, counts: false }))).toContain(
      'ask for counts, summaries or both',
    );
    const twice = { kind: 'category', feature: 'sex', values: [0, 1] };
    expect(issues(CohortQuerySchema.safeParse({ ...base, groupBy: [twice, twice] }))).toContain(
      'each feature groups at most once',
    );
    const three = ['a', 'b', 'c'].map((f) => ({ kind: 'category', feature: f, values: [0, 1] }));
    expect(CohortQuerySchema.safeParse({ ...base, groupBy: three }).success).toBe(false);
    expect(CohortQuerySchema.safeParse({ ...base, k: 1 }).success).toBe(false);
    expect(CohortQuerySchema.safeParse({ ...base, extra: 1 }).success).toBe(false);
  });

  test('a twin query may only name derived features and age', () => {
    const derive = [
      { name: 'hr', kind: 'mean', source: { loinc: ['8867-4'] }, unit: '/min', windowDays: 7 },
      { name: 'smoker', kind: 'onehot', source: { conditionCodes: [{ system: 'snomed', codes: ['77176002'] }] } },
    ];
    const ok = CohortQuerySchema.safeParse({
      title: 'twins',
      source: { kind: 'twins', derive, at: '2025-01-29T00:00:00Z' },
      groupBy: [
        { kind: 'ageBand', cuts: [18, 65] },
        { kind: 'category', feature: 'smoker', values: [0, 1], labels: ['no', 'yes'] },
      ],
      summaries: { features: ['hr'], pooled: true },
    });
    expect(ok.success).toBe(true);
    const bad = CohortQuerySchema.safeParse({
      title: 'twins',
      source: { kind: 'twins', derive },
      summaries: { features: ['bmi'] },
    });
    expect(issues(bad)).toContain('feature "bmi" is neither derived nor age');
  });

  test('caps the grid at 400 cells and checks labels and cut points', () => {
    const values = Array.from({ length: 20 }, (_, i) => i);
    const big = [
      { kind: 'category', feature: 'a', values },
      { kind: 'ageBand', cuts: values.map((v) => v + 1) },
    ];
    expect(issues(CohortQuerySchema.safeParse({ title: 't', source: { kind: 'csv' }, groupBy: big }))).toContain(
      'at most 400 cells, not 420',
    );
    const grouped = (g: object) => CohortQuerySchema.safeParse({ title: 't', source: { kind: 'csv' }, groupBy: [g] });
    expect(issues(grouped({ kind: 'category', feature: 'a', values: [0, 1], labels: ['x'] }))).toContain(
      'labels need one name per value',
    );
    expect(issues(grouped({ kind: 'bins', feature: 'a', cuts: [3, 2] }))).toContain(
      'cut points must increase strictly',
    );
    expect(grouped({ kind: 'category', feature: 'a', values: [1, 1] }).success).toBe(false);
  });

  test('the create body needs a study id', () => {
    const query = { title: 't', source: { kind: 'csv' } };
    expect(CreateCohortQuerySchema.safeParse({ studyId: 'study-a', query }).success).toBe(true);
    expect(CreateCohortQuerySchema.safeParse({ studyId: 'a b', query }).success).toBe(false);
    expect(CreateCohortQuerySchema.safeParse({ query }).success).toBe(false);
  });
});

describe('the grid of a query', () => {
  test('levels per dimension and cells in row-major order', () => {
    const q = CohortQuerySchema.parse({
      title: 't',
      source: { kind: 'csv' },
      groupBy: [
        { kind: 'ageBand', cuts: [18, 65] },
        { kind: 'bins', feature: 'bmi', cuts: [25, 30] },
      ],
    });
    const grid = cohortGrid(q);
    expect(grid.dimensions).toEqual([
      { feature: 'age', levels: ['0-17', '18-64', '65+'] },
      { feature: 'bmi', levels: ['<25', '25 to <30', '>=30'] },
    ]);
    expect(grid.cells).toHaveLength(9);
    expect(grid.cells[0]).toEqual(['0-17', '<25']);
    expect(grid.cells[5]).toEqual(['18-64', '>=30']);
    expect(cohortGrid({ groupBy: [] })).toEqual({ dimensions: [], cells: [[]] });
    expect(
      cohortQueryFeatures({ ...q, summaries: { features: ['bmi', 'glucose'], statistics: [], pooled: false } }),
    ).toEqual(['age', 'bmi', 'glucose']);
  });

  test('places values in levels; missing values and unlisted codes fall outside', () => {
    const age: CohortGroupBy = { kind: 'ageBand', cuts: [18, 65], feature: 'age' };
    expect([0, 17.9, 18, 64, 65, 101, -1, NaN].map((v) => levelIndex(age, v))).toEqual([0, 0, 1, 1, 2, 2, -1, -1]);
    const smoker: CohortGroupBy = { kind: 'category', feature: 's', values: [0, 1] };
    expect([0, 1, 2, NaN].map((v) => levelIndex(smoker, v))).toEqual([0, 1, -1, -1]);
    const bmi: CohortGroupBy = { kind: 'bins', feature: 'bmi', cuts: [25, 30] };
    expect([-5, 24.99, 25, 29, 30, 99].map((v) => levelIndex(bmi, v))).toEqual([0, 0, 1, 1, 2, 2]);
  });
});

describe('CohortTableSchema and answers', () => {
  const table = {
    k: 10,
    epsilon: null,
    cells: [
      { levels: ['no'], count: 25, summaries: { bmi: { n: 24, mean: 27.1, sd: 3.2, sum: 650.4, sumSq: 17870 } } },
      { levels: ['yes'], count: null, summaries: { bmi: null } },
    ],
    total: 40,
    suppressedCells: 1,
  };

  test('accepts a released table and a refusal', () => {
    expect(CohortAnswerSchema.parse({ kind: 'table', table })).toEqual({ kind: 'table', table });
    expect(CohortAnswerSchema.parse({ kind: 'refusal', reason: 'NO_DATA' }).kind).toBe('refusal');
    expect(CohortAnswerSchema.safeParse({ kind: 'refusal', reason: 'BECAUSE' }).success).toBe(false);
  });

  test('refuses a released count below k, a summary of fewer than k values, summaries of a suppressed cell', () => {
    const cell0 = table.cells[0]!;
    expect(issues(CohortTableSchema.safeParse({ ...table, total: 9 }))).toContain('a released count is below k = 10');
    expect(
      issues(
        CohortTableSchema.safeParse({ ...table, cells: [{ ...cell0, summaries: { bmi: { n: 9 } } }, table.cells[1]] }),
      ),
    ).toContain('a summary of fewer than k = 10 values');
    expect(
      issues(
        CohortTableSchema.safeParse({
          ...table,
          cells: [cell0, { levels: ['yes'], count: null, summaries: { bmi: { n: 12, mean: 1 } } }],
        }),
      ),
    ).toContain('a suppressed cell has no summaries');
    expect(issues(CohortTableSchema.safeParse({ ...table, suppressedCells: 0 }))).toContain(
      'suppressedCells must equal the number of null counts',
    );
    expect(CohortTableSchema.safeParse({ ...table, cells: [{ ...cell0, count: 12.5 }] }).success).toBe(false);
  });
});
