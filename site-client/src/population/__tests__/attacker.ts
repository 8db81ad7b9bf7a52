/**
 * An attacker of a published population table (test code): it knows the table's sums (cells per row and column add to
 * the row and column totals, the totals add to the grand total, counts are non-negative) and solves the linear system
 * of the released counts for every set of hidden cells whose sum those equations determine. Written independently of
 * suppression.ts (exact rational elimination with bigint fractions), so a shared bug cannot hide a leak.
 */

/** A published table: cells [row][col], row totals, column totals and the grand total; null = hidden. */
export interface PublishedTable {
  cells: (number | null)[][];
  rows: (number | null)[];
  cols: (number | null)[];
  all: number | null;
}

/** A set of hidden cells whose sum the attacker derives, and that sum. */
export interface Derived {
  cells: [row: number, col: number][];
  sum: number;
}

type Frac = [bigint, bigint];
const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? (a < 0n ? -a : a) : gcd(b, a % b));
const norm = ([n, d]: Frac): Frac => {
  if (n === 0n) return [0n, 1n];
  const g = gcd(n, d) * (d < 0n ? -1n : 1n);
  return [n / g, d / g];
};
const sub = (a: Frac, b: Frac): Frac => norm([a[0] * b[1] - b[0] * a[1], a[1] * b[1]]);
const mul = (a: Frac, b: Frac): Frac => norm([a[0] * b[0], a[1] * b[1]]);
const div = (a: Frac, b: Frac): Frac => norm([a[0] * b[1], a[1] * b[0]]);
const isZero = (a: Frac) => a[0] === 0n;

/**
 * Every non-empty set of hidden cells (at most 2^maxHidden of them are tried; throws beyond) whose sum is determined
 * by the released counts, with that sum.
 */
export function derivableSums(t: PublishedTable, maxHidden = 12): Derived[] {
  const R = t.cells.length;
  const C = t.cells[0]?.length ?? 0;
  // Variables: cells, row totals, column totals, grand total. Equations: Σ vars·coef = 0.
  const vars: (number | null)[] = [...t.cells.flat(), ...t.rows, ...t.cols, t.all];
  const V = vars.length;
  const eqs: number[][] = [];
  const eq = () => new Array<number>(V).fill(0);
  for (let r = 0; r < R; r++) {
    const e = eq();
    for (let c = 0; c < C; c++) e[r * C + c] = 1;
    e[R * C + r] = -1;
    eqs.push(e);
  }
  for (let c = 0; c < C; c++) {
    const e = eq();
    for (let r = 0; r < R; r++) e[r * C + c] = 1;
    e[R * C + R + c] = -1;
    eqs.push(e);
  }
  const tiers = eq();
  const bands = eq();
  for (let r = 0; r < R; r++) tiers[R * C + r] = 1;
  for (let c = 0; c < C; c++) bands[R * C + R + c] = 1;
  tiers[V - 1] = -1;
  bands[V - 1] = -1;
  eqs.push(tiers, bands);

  const hidden = vars.map((v, i) => (v === null ? i : -1)).filter((i) => i >= 0);
  const hiddenCells = hidden.filter((i) => i < R * C);
  if (hiddenCells.length > maxHidden) throw new RangeError(`${hiddenCells.length} hidden cells: too many to enumerate`);
  // Augmented rows over hidden variables: Σ_hidden coef·x = −Σ_released coef·value.
  let m: Frac[][] = eqs.map((e) => [
    ...hidden.map((i) => [BigInt(e[i]!), 1n] as Frac),
    [BigInt(-e.reduce((s, coef, i) => s + (vars[i] === null ? 0 : coef * vars[i]!), 0)), 1n] as Frac,
  ]);
  const pivots: number[] = [];
  let row = 0;
  for (let c = 0; c < hidden.length && row < m.length; c++) {
    const p = m.findIndex((x, r) => r >= row && !isZero(x[c]!));
    if (p < 0) continue;
    [m[row], m[p]] = [m[p]!, m[row]!];
    const pv = m[row]![c]!;
    m[row] = m[row]!.map((v) => div(v, pv));
    m = m.map((x, r) => (r === row || isZero(x[c]!) ? x : x.map((v, j) => sub(v, mul(x[c]!, m[row]![j]!)))));
    pivots.push(c);
    row++;
  }
  const basis = m.slice(0, row);
  const out: Derived[] = [];
  for (let mask = 1; mask < 1 << hiddenCells.length; mask++) {
    // The indicator of the set, reduced by the basis: in the row space iff the residue is zero; the sum is then Σ λ·rhs.
    const target: Frac[] = hidden.map((i) => {
      const bit = hiddenCells.indexOf(i);
      return [bit >= 0 && (mask >> bit) & 1 ? 1n : 0n, 1n];
    });
    let value: Frac = [0n, 1n];
    const residue = target.slice();
    basis.forEach((b, k) => {
      const lambda = residue[pivots[k]!]!;
      if (isZero(lambda)) return;
      for (let j = 0; j < hidden.length; j++) residue[j] = sub(residue[j]!, mul(lambda, b[j]!));
      value = sub(value, mul([-lambda[0], lambda[1]], b[hidden.length]!)); // value += λ·rhs
    });
    if (residue.every(isZero)) {
      const cells = hiddenCells
        .filter((_, b) => (mask >> b) & 1)
        .map((i) => [Math.floor(i / C), i % C] as [number, number]);
      out.push({ cells, sum: Number(value[0]) / Number(value[1]) });
    }
  }
  return out;
}
