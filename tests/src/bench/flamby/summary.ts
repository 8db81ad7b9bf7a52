import { FLAMBY_ACCURACY, FLAMBY_SEEDS, published } from './published';

/** Test rows per center (Cleveland, Hungarian, Switzerland, VA): an accuracy is a count of correct rows out of these. */
const TEST_ROWS = [104, 89, 16, 45] as const;

/** One method's result in one seed: per-center accuracy/AUC of the final model and, for federations, the per-round curve. */
export interface SeedResult {
  method: string;
  seed: number;
  accuracy: number[];
  auc: number[];
  /** 4-center average accuracy of the version published after each round 1..n (federated methods only). */
  curve?: number[];
  seconds: number;
}

/** How a row is judged against its reference. */
export interface RowRule {
  /** Reference row of FLamby's table (absent: no reference). */
  flamby?: string;
  /** Pass when |ours − published| ≤ tolerance; `atLeast`: pass when ours ≥ published − tolerance. Absent: no pass/fail. */
  tolerance?: number;
  atLeast?: boolean;
  note?: string;
}

/** A row of the benchmark table (the JSON schema the issue asks for, plus AUC and context). */
export interface Row {
  method: string;
  perCentre: number[];
  average: number;
  /** FLamby's published mean (4-center average over seeds 42..46), or null. */
  published: number | null;
  diff: number | null;
  /** null where the row has no pass/fail (FLamby's Cyclic is client-0-only training; see BENCHMARK.md §3). */
  pass: boolean | null;
  /** Mean ROC-AUC over the four centers (and seeds). */
  auc: number;
  aucPerCentre: number[];
  /** First round from which the 4-center average accuracy stays within 0.01 of its final value (seed-mean curve); null for non-federated rows. */
  roundsToFinal: number | null;
  /** Rounds of the federation (null for non-federated rows). */
  rounds: number | null;
  /** Sample sd over seeds of the 4-center average. */
  sd: number;
  seeds: number[];
  reference: string | null;
  tolerance: number | null;
  /** Seed-for-seed comparison with FLamby's run (same seed, same initial weights), where FLamby ran the seed; null without a reference. */
  seedMatch: SeedMatch | null;
  note?: string;
}

/** How closely one method's per-seed results agree with FLamby's own runs of the same seeds. */
export interface SeedMatch {
  /** (seed, center) cells compared. */
  cells: number;
  /** Cells where both got exactly the same number of test rows right. */
  same: number;
  /** Mean over seeds of |our 4-center average − FLamby's| for that seed. */
  meanAbsDiff: number;
}

/** Compares per-seed results with FLamby's per-seed accuracies of `reference` (seeds FLamby did not run are left out). */
export function seedMatch(reference: string, results: readonly SeedResult[]): SeedMatch | null {
  const table = FLAMBY_ACCURACY[reference];
  if (!table) return null;
  let cells = 0;
  let same = 0;
  const diffs: number[] = [];
  for (const r of results) {
    const theirs = table[FLAMBY_SEEDS.indexOf(r.seed as (typeof FLAMBY_SEEDS)[number])];
    if (!theirs) continue;
    TEST_ROWS.forEach((n, c) => {
      cells++;
      if (Math.round(r.accuracy[c]! * n) === Math.round(theirs[c]! * n)) same++;
    });
    diffs.push(Math.abs(mean(r.accuracy) - mean(theirs)));
  }
  return cells ? { cells, same, meanAbsDiff: mean(diffs) } : null;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function sd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** The first round r (1-based) with |curve[k] − final| ≤ 0.01 for every k ≥ r. */
export function roundsToFinal(curve: readonly number[], within = 0.01): number | null {
  if (curve.length === 0) return null;
  const final = curve[curve.length - 1]!;
  let r = curve.length;
  while (r > 1 && Math.abs(curve[r - 2]! - final) <= within + 1e-12) r--;
  return r;
}

/** Mean of AUC values, leaving out NaN (a one-class test set has none). */
function meanFinite(xs: readonly number[]): number {
  const ok = xs.filter((x) => Number.isFinite(x));
  return ok.length ? mean(ok) : Number.NaN;
}

/** Folds one method's per-seed results into its table row. */
export function summarise(method: string, results: readonly SeedResult[], rule: RowRule): Row {
  const seeds = results.map((r) => r.seed);
  const perCentre = [0, 1, 2, 3].map((c) => mean(results.map((r) => r.accuracy[c]!)));
  const aucPerCentre = [0, 1, 2, 3].map((c) => meanFinite(results.map((r) => r.auc[c]!)));
  const average = mean(perCentre);
  const ref = rule.flamby ? published(rule.flamby) : undefined;
  const diff = ref ? average - ref.average : null;
  let pass: boolean | null = null;
  if (ref && rule.tolerance !== undefined && diff !== null)
    pass = rule.atLeast ? diff >= -rule.tolerance - 1e-12 : Math.abs(diff) <= rule.tolerance + 1e-12;
  const curves = results.map((r) => r.curve).filter((c): c is number[] => Array.isArray(c) && c.length > 0);
  const rounds = curves.length ? Math.min(...curves.map((c) => c.length)) : null;
  const meanCurve = rounds ? Array.from({ length: rounds }, (_, i) => mean(curves.map((c) => c[i]!))) : [];
  return {
    method,
    perCentre,
    average,
    published: ref?.average ?? null,
    diff,
    pass,
    auc: meanFinite(aucPerCentre),
    aucPerCentre,
    roundsToFinal: rounds ? roundsToFinal(meanCurve) : null,
    rounds,
    sd: sd(results.map((r) => mean(r.accuracy))),
    seeds,
    reference: rule.flamby ?? null,
    tolerance: rule.tolerance ?? null,
    seedMatch: rule.flamby ? seedMatch(rule.flamby, results) : null,
    ...(rule.note ? { note: rule.note } : {}),
  };
}
