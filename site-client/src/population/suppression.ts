/**
 * Cell suppression of a two-way count table with its margins (row totals, column totals, grand total).
 * Primary suppression hides every count below k; secondary suppression then hides more released counts
 * until (1) no hidden count can be recovered exactly from the released ones by the table's sums (for example a
 * row total minus the other cells of the row), and (2) no set of hidden cells whose sum the released counts
 * determine adds up to less than k (for example a row total minus its one released cell, when that leaves two
 * hidden cells of 3 and 2). Both are decided by linear algebra over the table's equations: (1) by reduced row
 * echelon form, (2) by testing every set of hidden cells against that form (up to {@link EXHAUSTIVE_HIDDEN} hidden
 * cells, 2^20 sets in Gray-code order, each step O(variables)); beyond that, every line's set of hidden cells.
 */

/** Which counts of a table are hidden. */
interface Suppression {
  /** [row][column]. */
  readonly cells: boolean[][];
  readonly rows: boolean[];
  readonly cols: boolean[];
  readonly all: boolean;
}

/** Options of {@link suppressTable}. */
interface SuppressTableOptions {
  /** The counts to release, [row][column] (maybe noisy). Margins are their sums. */
  released: readonly (readonly number[])[];
  /** The exact counts, [row][column]: a cell or margin whose exact count is below k is hidden too. */
  exact: readonly (readonly number[])[];
  k: number;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const EPS = 1e-9;
/** Up to this many hidden cells, every set of them is checked; beyond, the hidden cells of each line. */
const EXHAUSTIVE_HIDDEN = 20;

/** Primary then secondary suppression of a table (see the module comment). */
export function suppressTable(options: SuppressTableOptions): Suppression {
  const { released, exact, k } = options;
  const R = released.length;
  const C = released[0]?.length ?? 0;
  const col = (m: readonly (readonly number[])[], c: number) => sum(m.map((row) => row[c]!));
  const below = (rel: number, ex: number) => rel < k || ex < k;
  const hidden: boolean[] = [];
  const value: number[] = [];
  for (let r = 0; r < R; r++)
    for (let c = 0; c < C; c++) {
      hidden.push(below(released[r]![c]!, exact[r]![c]!));
      value.push(released[r]![c]!);
    }
  for (let r = 0; r < R; r++) {
    hidden.push(below(sum(released[r]!), sum(exact[r]!)));
    value.push(sum(released[r]!));
  }
  for (let c = 0; c < C; c++) {
    hidden.push(below(col(released, c), col(exact, c)));
    value.push(col(released, c));
  }
  hidden.push(below(sum(value.slice(0, R * C)), sum(exact.map(sum))));
  value.push(sum(value.slice(0, R * C)));

  const exactCell = exact.flat();
  const equations = tableEquations(R, C);
  for (;;) {
    const leak =
      recoverable(equations, hidden).find((i) => i >= 0) ??
      smallDerivableSum({ equations, hidden, value, exactCell, k, R, C })?.[0];
    if (leak === undefined) break;
    hidden[partnerOf(leak, { R, C, hidden, value })] = true;
  }
  const cells = Array.from({ length: R }, (_, r) => hidden.slice(r * C, (r + 1) * C));
  return {
    cells,
    rows: hidden.slice(R * C, R * C + R),
    cols: hidden.slice(R * C + R, R * C + R + C),
    all: hidden[R * C + R + C]!,
  };
}

/** Variable layout: cells r·C + c, then row totals, column totals, grand total. Each equation sums to 0. */
function tableEquations(R: number, C: number): number[][] {
  const V = R * C + R + C + 1;
  const eq = (): number[] => new Array<number>(V).fill(0);
  const out: number[][] = [];
  for (let r = 0; r < R; r++) {
    const e = eq();
    for (let c = 0; c < C; c++) e[r * C + c] = 1;
    e[R * C + r] = -1;
    out.push(e);
  }
  for (let c = 0; c < C; c++) {
    const e = eq();
    for (let r = 0; r < R; r++) e[r * C + c] = 1;
    e[R * C + R + c] = -1;
    out.push(e);
  }
  const tiers = eq();
  const bands = eq();
  for (let r = 0; r < R; r++) tiers[R * C + r] = 1;
  for (let c = 0; c < C; c++) bands[R * C + R + c] = 1;
  tiers[V - 1] = -1;
  bands[V - 1] = -1;
  out.push(tiers, bands);
  return out;
}

/**
 * A set of hidden cells whose sum the released counts determine and that sum (released or exact) is below k, or
 * undefined. A set's indicator vector is in the row space of the equations restricted to the hidden variables iff
 * its residue against their reduced row echelon form is zero; residues and derived sums are linear in the set, so
 * the sets are visited in Gray-code order, adding or removing one cell's residue per step.
 */
function smallDerivableSum(t: {
  equations: readonly number[][];
  hidden: readonly boolean[];
  value: readonly number[];
  exactCell: readonly number[];
  k: number;
  R: number;
  C: number;
}): number[] | undefined {
  const { hidden, value, exactCell, k, R, C } = t;
  const unknown = hidden.map((h, i) => (h ? i : -1)).filter((i) => i >= 0);
  const cells = unknown.filter((i) => i < R * C);
  if (cells.length === 0) return undefined;
  const { rows, pivots } = echelon(
    t.equations.map((e) => [
      ...unknown.map((i) => e[i]!),
      -e.reduce((s, coef, i) => s + (hidden[i] ? 0 : coef * value[i]!), 0),
    ]),
    unknown.length,
  );
  // Residue and derived value of the set {cell}: e_cell minus its pivot row, if the cell is a pivot column.
  const single = cells.map((i) => {
    const col = unknown.indexOf(i);
    const residue = new Float64Array(unknown.length);
    residue[col] = 1;
    const pivotRow = pivots.indexOf(col);
    if (pivotRow < 0) return { residue, derived: 0 };
    for (let j = 0; j < unknown.length; j++) residue[j]! -= rows[pivotRow]![j]!;
    return { residue, derived: rows[pivotRow]![unknown.length]! };
  });
  const leaks = (set: number[], derived: number, residue: Float64Array) =>
    residue.every((x) => Math.abs(x) < EPS) && (derived < k - EPS || sum(set.map((i) => exactCell[i]!)) < k);
  if (cells.length > EXHAUSTIVE_HIDDEN) {
    const lines = [
      ...Array.from({ length: R }, (_, r) => (i: number) => Math.floor(i / C) === r),
      ...Array.from({ length: C }, (_, c) => (i: number) => i % C === c),
    ];
    for (const inLine of lines) {
      const members = cells.map((i, b) => (inLine(i) ? b : -1)).filter((b) => b >= 0);
      if (members.length === 0) continue;
      const residue = new Float64Array(unknown.length);
      let derived = 0;
      for (const b of members) {
        derived += single[b]!.derived;
        for (let j = 0; j < unknown.length; j++) residue[j]! += single[b]!.residue[j]!;
      }
      const set = members.map((b) => cells[b]!);
      if (leaks(set, derived, residue)) return set;
    }
    return undefined;
  }
  const residue = new Float64Array(unknown.length);
  const member = new Array<boolean>(cells.length).fill(false);
  let derived = 0;
  for (let g = 1; g < 2 ** cells.length; g++) {
    const b = 31 - Math.clz32(g & -g); // the bit that flips between Gray codes g − 1 and g
    const sign = member[b] ? -1 : 1;
    member[b] = !member[b];
    derived += sign * single[b]!.derived;
    for (let j = 0; j < unknown.length; j++) residue[j]! += sign * single[b]!.residue[j]!;
    if (residue.every((x) => Math.abs(x) < EPS)) {
      const set = cells.filter((_, x) => member[x]);
      if (leaks(set, derived, residue)) return set;
    }
  }
  return undefined;
}

/** Reduced row echelon form of `m` over its first `columns` columns (the rest ride along): the non-zero rows and their pivot columns. */
function echelon(input: readonly number[][], columns: number): { rows: number[][]; pivots: number[] } {
  const m = input.map((r) => r.slice());
  const pivots: number[] = [];
  let row = 0;
  for (let c = 0; c < columns && row < m.length; c++) {
    let pivot = row;
    for (let r = row + 1; r < m.length; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[pivot]![c]!)) pivot = r;
    if (Math.abs(m[pivot]![c]!) < EPS) continue;
    [m[row], m[pivot]] = [m[pivot]!, m[row]!];
    const p = m[row]![c]!;
    m[row] = m[row]!.map((v) => v / p);
    for (let r = 0; r < m.length; r++) {
      if (r === row || Math.abs(m[r]![c]!) < EPS) continue;
      const f = m[r]![c]!;
      m[r] = m[r]!.map((v, j) => v - f * m[row]![j]!);
    }
    pivots.push(c);
    row++;
  }
  return { rows: m.slice(0, row), pivots };
}

/**
 * The hidden variables the released ones determine exactly: with the equations restricted to hidden
 * variables in reduced row echelon form, variable i is determined iff some row is the unit vector e_i.
 */
function recoverable(equations: readonly number[][], hidden: readonly boolean[]): number[] {
  const unknown = hidden.map((h, i) => (h ? i : -1)).filter((i) => i >= 0);
  const { rows } = echelon(
    equations.map((e) => unknown.map((i) => e[i]!)),
    unknown.length,
  );
  const found: number[] = [];
  for (const e of rows) {
    const nz = e.map((v, j) => (Math.abs(v) > EPS ? j : -1)).filter((j) => j >= 0);
    if (nz.length === 1) found.push(unknown[nz[0]!]!);
  }
  return found.sort((a, b) => a - b);
}

/**
 * The released count to hide next to protect variable `i`. For a cell: a released cell in its row or column,
 * preferring one whose other line already has a hidden cell (that closes a rectangle of hidden cells, which
 * sums cannot undo), then the smallest. For a total: the smallest released total of its kind. Else any margin.
 */
function partnerOf(
  i: number,
  t: { R: number; C: number; hidden: readonly boolean[]; value: readonly number[] },
): number {
  const { R, C, hidden, value } = t;
  const range = (n: number, f: (x: number) => number) => Array.from({ length: n }, (_, x) => f(x));
  const hiddenInRow = (r: number) => range(C, (c) => r * C + c).some((j) => j !== i && hidden[j]);
  const hiddenInCol = (c: number) => range(R, (r) => r * C + c).some((j) => j !== i && hidden[j]);
  const smallest = (candidates: number[], good: (j: number) => boolean = () => false): number | undefined =>
    candidates
      .filter((j) => !hidden[j])
      .sort((a, b) => Number(good(b)) - Number(good(a)) || value[a]! - value[b]! || a - b)[0];
  const all = R * C + R + C;
  let pick: number | undefined;
  if (i < R * C) {
    const r = Math.floor(i / C);
    const c = i % C;
    const inRow = range(C, (x) => r * C + x);
    const inCol = range(R, (x) => x * C + c);
    pick =
      smallest([...inRow, ...inCol], (j) =>
        Math.floor(j / C) === r ? hiddenInCol(j % C) : hiddenInRow(Math.floor(j / C)),
      ) ?? smallest([R * C + r, R * C + R + c]);
  } else if (i < R * C + R) {
    pick = smallest(range(R, (r) => R * C + r)) ?? smallest(range(C, (x) => (i - R * C) * C + x));
  } else if (i < all) {
    pick = smallest(range(C, (c) => R * C + R + c)) ?? smallest(range(R, (x) => x * C + (i - R * C - R)));
  }
  return pick ?? smallest([all]) ?? smallest(range(all, (x) => x))!;
}

/** Which counts of a one-way table (cells and their total) are hidden. */
interface LineSuppression {
  readonly cells: boolean[];
  readonly total: boolean;
}

/**
 * Suppression of a one-way table with only its total released beside the cells (a two-way table's rules applied to
 * one line: {@link suppressTable} would count each cell twice, as itself and as its row total). Primary: a cell, or
 * the total, whose released or exact count is below k is hidden; a hidden total hides every cell. Secondary, while
 * the total is released: the hidden cells' sum is the total minus the released cells, so while it (released or
 * exact) is below k — one hidden cell is always recovered exactly — the smallest released cell is hidden too.
 */
export function suppressLine(options: {
  released: readonly number[];
  exact: readonly number[];
  k: number;
}): LineSuppression {
  const { released, exact, k } = options;
  const below = (rel: number, ex: number) => rel < k || ex < k;
  if (below(sum(released), sum(exact))) return { cells: released.map(() => true), total: true };
  const cells = released.map((r, i) => below(r, exact[i]!));
  for (;;) {
    const hidden = cells.map((h, i) => (h ? i : -1)).filter((i) => i >= 0);
    if (hidden.length === 0 || hidden.length === cells.length) break;
    const small = hidden.length === 1 || below(sum(hidden.map((i) => released[i]!)), sum(hidden.map((i) => exact[i]!)));
    if (!small) break;
    const next = released
      .map((r, i) => ({ r, i }))
      .filter(({ i }) => !cells[i])
      .sort((a, b) => a.r - b.r || a.i - b.i)[0]!;
    cells[next.i] = true;
  }
  return { cells, total: false };
}
