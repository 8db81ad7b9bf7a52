/**
 * Cell suppression of a two-way count table with its margins (row totals, column totals, grand total).
 * Primary suppression hides every count below k; secondary suppression then hides more released counts
 * until no hidden count can be recovered exactly from the released ones by the table's sums (for example a
 * row total minus the other cells of the row). Recoverability is decided exactly by linear algebra.
 */

/** Which counts of a table are hidden. */
export interface Suppression {
  /** [row][column]. */
  readonly cells: boolean[][];
  readonly rows: boolean[];
  readonly cols: boolean[];
  readonly all: boolean;
}

/** Options of {@link suppressTable}. */
export interface SuppressTableOptions {
  /** The counts to release, [row][column] (maybe noisy). Margins are their sums. */
  released: readonly (readonly number[])[];
  /** The exact counts, [row][column]: a cell or margin whose exact count is below k is hidden too. */
  exact: readonly (readonly number[])[];
  k: number;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const EPS = 1e-9;

/** Primary then secondary suppression of a table (see the module comment). */
export function suppressTable(options: SuppressTableOptions): Suppression {
  const { released, exact, k } = options;
  const R = released.length;
  const C = released[0]?.length ?? 0;
  const col = (m: readonly (readonly number[])[], c: number) => sum(m.map((row) => row[c]!));
  const below = (rel: number, ex: number) => rel < k || ex < k;
  const hidden: boolean[] = [];
  const value: number[] = [];
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
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

  const equations = tableEquations(R, C);
  for (;;) {
    const leak = recoverable(equations, hidden).find((i) => i >= 0);
    if (leak === undefined) break;
    hidden[partnerOf(leak, { R, C, hidden, value })] = true;
  }
  const cells = Array.from({ length: R }, (_, r) => hidden.slice(r * C, (r + 1) * C));
  return { cells, rows: hidden.slice(R * C, R * C + R), cols: hidden.slice(R * C + R, R * C + R + C), all: hidden[R * C + R + C]! };
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
 * The hidden variables the released ones determine exactly: with the equations restricted to hidden
 * variables in reduced row echelon form, variable i is determined iff some row is the unit vector e_i.
 */
function recoverable(equations: readonly number[][], hidden: readonly boolean[]): number[] {
  const unknown = hidden.map((h, i) => (h ? i : -1)).filter((i) => i >= 0);
  const m = equations.map((e) => unknown.map((i) => e[i]!));
  let row = 0;
  for (let c = 0; c < unknown.length && row < m.length; c++) {
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
    row++;
  }
  const found: number[] = [];
  for (const e of m) {
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
function partnerOf(i: number, t: { R: number; C: number; hidden: readonly boolean[]; value: readonly number[] }): number {
  const { R, C, hidden, value } = t;
  const range = (n: number, f: (x: number) => number) => Array.from({ length: n }, (_, x) => f(x));
  const hiddenInRow = (r: number) => range(C, (c) => r * C + c).some((j) => j !== i && hidden[j]);
  const hiddenInCol = (c: number) => range(R, (r) => r * C + c).some((j) => j !== i && hidden[j]);
  const smallest = (candidates: number[], good: (j: number) => boolean = () => false): number | undefined =>
    candidates.filter((j) => !hidden[j]).sort((a, b) => Number(good(b)) - Number(good(a)) || value[a]! - value[b]! || a - b)[0];
  const all = R * C + R + C;
  let pick: number | undefined;
  if (i < R * C) {
    const r = Math.floor(i / C);
    const c = i % C;
    const inRow = range(C, (x) => r * C + x);
    const inCol = range(R, (x) => x * C + c);
    pick = smallest([...inRow, ...inCol], (j) => (Math.floor(j / C) === r ? hiddenInCol(j % C) : hiddenInRow(Math.floor(j / C)))) ?? smallest([R * C + r, R * C + R + c]);
  } else if (i < R * C + R) {
    pick = smallest(range(R, (r) => R * C + r)) ?? smallest(range(C, (x) => (i - R * C) * C + x));
  } else if (i < all) {
    pick = smallest(range(C, (c) => R * C + R + c)) ?? smallest(range(R, (x) => x * C + (i - R * C - R)));
  }
  return pick ?? smallest([all]) ?? smallest(range(all, (x) => x))!;
}
