import fc from 'fast-check';
import { DataSchema, PopulationReportSchema, type PopulationReport } from '@twinfed/shared';
import type { TwinScore } from '../scoring/score';
import { cryptoUniform } from '@twinfed/shared';
import { laplace, seededUniform } from './noise';
import { populationReport } from './report';
import { suppressTable } from './suppression';
import { derivableSums, type PublishedTable } from './__tests__/attacker';

const AT = Date.UTC(2024, 0, 31);
const plan = {
  data: DataSchema.parse({
    features: ['age'],
    derive: [{ name: 'age', kind: 'age' }],
    population: { ageBands: [45, 65] },
  }),
};
// Bands: 0-44, 45-64, 65+, unknown. Tiers: low, medium, high.
const birthFor = (age: number | null) => (age === null ? null : `${2023 - age}-06-01`);

function cohort(groups: [tier: string, age: number | null, n: number][]): {
  scores: TwinScore[];
  twins: { pid: string; birthDate: string | null }[];
} {
  const scores: TwinScore[] = [];
  const twins: { pid: string; birthDate: string | null }[] = [];
  for (const [tier, age, n] of groups) {
    for (let i = 0; i < n; i++) {
      const pid = `p${twins.length}`;
      twins.push({ pid, birthDate: birthFor(age) });
      scores.push({ pid, score: 0.5, tier, versionId: 'v3', at: AT, explainedBy: 'linear', contributions: [] });
    }
  }
  return { scores, twins };
}
const cell = (r: PopulationReport, tier: string, ageBand: string) =>
  r.cells.find((c) => c.tier === tier && c.ageBand === ageBand)!.count;

describe('populationReport', () => {
  test('counts tier × age band exactly without ε, hides cells below k and a rectangle around them', () => {
    const bands65 = { data: { ...plan.data, population: { k: 10, ageBands: [65] } } };
    const { scores, twins } = cohort([
      ['low', 30, 20],
      ['low', 70, 15],
      ['low', null, 12],
      ['medium', 40, 25],
      ['medium', 66, 11],
      ['medium', null, 10],
      ['high', 50, 30],
      ['high', 90, 40],
      ['high', null, 3],
    ]);
    const r = populationReport({ scores, twins, plan: bands65, rng: seededUniform(1) });
    expect(PopulationReportSchema.parse(r)).toEqual(r);
    expect(r.ageBands).toEqual(['0-64', '65+', 'unknown']);
    // high/unknown (3) is below k. Its row and column totals are released, so one more cell in each line must
    // go: medium/unknown (smallest in the column), then medium/65+ and high/65+ close the rectangle.
    expect(r.cells.map((c) => c.count)).toEqual([20, 15, 12, 25, null, null, 30, null, null]);
    expect(r.suppressedCells).toBe(4);
    expect(r.totals).toEqual({
      all: 166,
      byTier: [
        { tier: 'low', count: 47 },
        { tier: 'medium', count: 46 },
        { tier: 'high', count: 73 },
      ],
      byAgeBand: [
        { ageBand: '0-64', count: 75 },
        { ageBand: '65+', count: 66 },
        { ageBand: 'unknown', count: 25 },
      ],
    });
    expect(r).toMatchObject({ versionId: 'v3', k: 10, epsilon: null, at: '2024-01-31T00:00:00.000Z' });
  });

  test('hides a band total that the grand total minus the other band totals would reveal', () => {
    const { scores, twins } = cohort([
      ['low', 30, 20],
      ['low', 70, 15],
      ['medium', 30, 25],
      ['high', 80, 30],
      ['high', 50, 40],
      ['high', null, 3],
    ]);
    const r = populationReport({ scores, twins, plan, k: 10, rng: seededUniform(1) });
    expect(cell(r, 'high', 'unknown')).toBeNull();
    expect(r.totals.byAgeBand.find((b) => b.ageBand === 'unknown')!.count).toBeNull(); // 3 < k
    expect(r.totals.all).not.toBeNull();
    expect(r.totals.byAgeBand.filter((b) => b.count === null).length).toBeGreaterThan(1);
  });

  test("the site's own k floor wins over a lower plan k: a cell of 15 is shown with the plan's k = 10, suppressed with the site's k = 20", () => {
    const k10 = { data: { ...plan.data, population: { k: 10, ageBands: [65] } } };
    const { scores, twins } = cohort(
      ['low', 'medium', 'high'].flatMap((tier, r) =>
        [30, 70, null].map(
          (age, c) => [tier, age, r === 0 && c === 1 ? 15 : 40 + 10 * r + c] as [string, number | null, number],
        ),
      ),
    );
    const byPlan = populationReport({ scores, twins, plan: k10, rng: seededUniform(1) });
    expect(byPlan.k).toBe(10);
    expect(cell(byPlan, 'low', '65+')).toBe(15);
    const bySite = populationReport({ scores, twins, plan: k10, siteK: 20, rng: seededUniform(1) });
    expect(bySite.k).toBe(20);
    expect(cell(bySite, 'low', '65+')).toBeNull();
    expect(bySite.suppressedCells).toBeGreaterThan(1); // and a partner in its row and column, or the totals give it back
    expect(byPlan.suppressedCells).toBe(0);
    // A plan k above the site's floor stays.
    expect(populationReport({ scores, twins, plan: k10, k: 30, siteK: 20, rng: seededUniform(1) }).k).toBe(30);
  });

  test('adds Laplace noise when ε is given (rounded, clamped, still ≥ k)', () => {
    const ages = [30, 50, 70, null];
    const { scores, twins } = cohort(
      ['low', 'medium', 'high'].flatMap((tier, r) =>
        ages.map((age, c) => [tier, age, 100 + 37 * r + 11 * c] as [string, number | null, number]),
      ),
    );
    const exact = populationReport({ scores, twins, plan, rng: seededUniform(2) });
    const noisy = populationReport({ scores, twins, plan, epsilon: 0.2, rng: seededUniform(2) });
    expect(noisy.epsilon).toBe(0.2);
    const pairs = exact.cells
      .map((c, i) => [c.count, noisy.cells[i]!.count] as const)
      .filter(([a, b]) => a !== null && b !== null);
    expect(pairs.length).toBe(12); // every cell is far above k
    expect(pairs.some(([a, b]) => a !== b)).toBe(true);
    expect(pairs.every(([a, b]) => Number.isInteger(b) && Math.abs(a! - b!) < 60)).toBe(true);
    expect(populationReport({ scores, twins, plan, epsilon: 0.2, rng: seededUniform(2) })).toEqual(noisy); // seeded: reproducible
    expect(PopulationReportSchema.safeParse(noisy).success).toBe(true);
  });

  test('refuses mixed model versions and unknown tiers', () => {
    const { scores, twins } = cohort([['low', 30, 12]]);
    expect(() =>
      populationReport({ scores: [...scores, { ...scores[0]!, versionId: 'v4' }], twins, plan, rng: seededUniform(1) }),
    ).toThrow(/different model versions/);
    expect(() =>
      populationReport({ scores: [{ ...scores[0]!, tier: 'extreme' }], twins, plan, rng: seededUniform(1) }),
    ).toThrow(/extreme/);
    expect(() => populationReport({ scores: [], twins, plan, rng: seededUniform(1) })).toThrow(/No scores/);
  });

  test('property: no released count is below k, and no hidden count is the difference of a released line', () => {
    const tiers = ['low', 'medium', 'high'];
    const group = fc.tuple(
      fc.integer({ min: 0, max: 2 }),
      fc.option(fc.integer({ min: 18, max: 95 }), { nil: null }),
      fc.integer({ min: 1, max: 30 }),
    );
    fc.assert(
      fc.property(
        fc.array(group, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 2, max: 15 }),
        fc.option(fc.double({ min: 0.05, max: 5, noNaN: true }), { nil: undefined }),
        fc.integer(),
        (groups, k, epsilon, seed) => {
          const { scores, twins } = cohort(groups.map(([t, age, n]) => [tiers[t]!, age, n]));
          const r = populationReport({
            scores,
            twins,
            plan,
            k,
            ...(epsilon === undefined ? {} : { epsilon }),
            rng: seededUniform(seed),
          });
          PopulationReportSchema.parse(r);
          const released = [
            ...r.cells.map((c) => c.count),
            r.totals.all,
            ...r.totals.byTier.map((t) => t.count),
            ...r.totals.byAgeBand.map((b) => b.count),
          ];
          expect(released.every((c) => c === null || c >= k)).toBe(true);
          // A released cell's exact count is at least k too, noise or not.
          const band = (age: number | null) =>
            age === null ? 'unknown' : age < 45 ? '0-44' : age < 65 ? '45-64' : '65+';
          for (const c of r.cells) {
            const exact = groups
              .filter(([t, age]) => tiers[t] === c.tier && band(age) === c.ageBand)
              .reduce((s, g) => s + g[2], 0);
            if (c.count !== null) expect(exact).toBeGreaterThanOrEqual(k);
            if (c.count !== null && epsilon === undefined) expect(c.count).toBe(exact);
          }
          for (const t of r.totals.byTier)
            if (t.count !== null)
              expect(r.cells.filter((c) => c.tier === t.tier && c.count === null).length).not.toBe(1);
          for (const b of r.totals.byAgeBand)
            if (b.count !== null)
              expect(r.cells.filter((c) => c.ageBand === b.ageBand && c.count === null).length).not.toBe(1);
          if (r.totals.all !== null) {
            expect(r.totals.byTier.filter((t) => t.count === null).length).not.toBe(1);
            expect(r.totals.byAgeBand.filter((b) => b.count === null).length).not.toBe(1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('suppressTable', () => {
  test('hides a bridge between two hidden blocks that line checks alone would miss', () => {
    // Hidden blocks rows 0–1 × cols 0–1 and rows 2–3 × cols 2–3, plus cell (1,2): every line with a hidden
    // cell has two, yet (1,2) = R0 + R1 − C0 − C1 + released cells. Secondary suppression must break that.
    const small = new Set(['0,0', '0,1', '1,0', '1,1', '2,2', '2,3', '3,2', '3,3', '1,2']);
    const table = Array.from({ length: 4 }, (_, r) =>
      Array.from({ length: 4 }, (_, c) => (small.has(`${r},${c}`) ? 2 : 20 + r + c)),
    );
    const s = suppressTable({ released: table, exact: table, k: 10 });
    const hidden = s.cells.flat().filter(Boolean).length;
    expect(s.cells[1]![2]).toBe(true);
    expect(hidden).toBeGreaterThan(9);
    expect(s.rows.every((h) => !h) && s.cols.every((h) => !h) && !s.all).toBe(true);
  });

  test('hides nothing when every count reaches k', () => {
    const s = suppressTable({
      released: [
        [10, 11],
        [12, 13],
      ],
      exact: [
        [10, 11],
        [12, 13],
      ],
      k: 10,
    });
    expect([...s.cells.flat(), ...s.rows, ...s.cols, s.all].some(Boolean)).toBe(false);
  });
});

describe('noise', () => {
  test('Laplace draws have mean 0 and mean |x| equal to the scale', () => {
    const u = seededUniform(11);
    const draws = Array.from({ length: 40_000 }, () => laplace(2, u));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const meanAbs = draws.reduce((a, b) => a + Math.abs(b), 0) / draws.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(meanAbs).toBeGreaterThan(1.94);
    expect(meanAbs).toBeLessThan(2.06);
    expect(() => laplace(0, u)).toThrow(RangeError);
  });

  test('the crypto source gives distinct floats in [0, 1)', () => {
    const u = cryptoUniform();
    const xs = Array.from({ length: 1000 }, u);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(1000);
  });
});

describe('suppressTable against an attacker who solves the table', () => {
  const publish = (table: number[][], k: number): PublishedTable => {
    const s = suppressTable({ released: table, exact: table, k });
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    return {
      cells: table.map((row, r) => row.map((v, c) => (s.cells[r]![c] ? null : v))),
      rows: table.map((row, r) => (s.rows[r] ? null : sum(row))),
      cols: table[0]!.map((_, c) => (s.cols[c] ? null : sum(table.map((row) => row[c]!)))),
      all: s.all ? null : sum(table.map(sum)),
    };
  };

  test('does not let two hidden cells of a line add up to less than k', () => {
    // Primary suppression hides 7, 7, 3 and 2; row 2's total minus its 43 gives 3 + 2 = 5 < k.
    const table = [
      [52, 19, 7],
      [39, 7, 13],
      [3, 2, 43],
    ];
    const leaks = derivableSums(publish(table, 10)).filter((d) => d.sum < 10);
    expect(leaks).toEqual([]);
  });

  test('property: every sum of hidden cells the published table determines is at least k', () => {
    const table = fc.integer({ min: 2, max: 3 }).chain((R) =>
      fc.integer({ min: 2, max: 4 }).chain((C) =>
        fc.array(
          fc.array(fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 10, max: 80 })), {
            minLength: C,
            maxLength: C,
          }),
          { minLength: R, maxLength: R },
        ),
      ),
    );
    fc.assert(
      fc.property(table, fc.integer({ min: 2, max: 12 }), (t, k) => {
        const published = publish(t, k);
        for (const d of derivableSums(published)) {
          const exact = d.cells.reduce((s, [r, c]) => s + t[r]![c]!, 0);
          if (d.sum < k || exact < k)
            throw new Error(`cells ${JSON.stringify(d.cells)} sum to ${d.sum} < ${k} in ${JSON.stringify(published)}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
