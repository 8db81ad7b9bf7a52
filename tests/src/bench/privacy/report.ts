import { toMarkdown, type BenchTable } from '../report';
import { AGGREGATIONS, mechanismLabel, type Aggregation, type Calibration } from './configs';

/** One federation of the bench: its setting, seed and the final version's scores. */
export interface PrivacyRun {
  aggregation: Aggregation;
  /** Target ε (null: ∞, no DP). */
  epsilon: number | null;
  seed: number;
  /** Final version on the four centres' test rows pooled. */
  pooledAccuracy: number;
  pooledAuc: number;
  /** Final version on centre 0..3's own test rows, as each site reported it to the coordinator. */
  centreAccuracy: number[];
  /** ε the final version's signed metadata carries (null without DP). */
  signedEpsilon: number | null;
  seconds: number;
}

/** Mean and sample standard deviation over seeds. */
interface Spread {
  mean: number;
  sd: number;
}

/** One (aggregation, ε) cell of the table. */
interface PrivacyCell extends Calibration {
  seeds: number;
  accuracy: Spread;
  auc: Spread;
  /** The unweighted mean of the four centres' own accuracies (FLamby's metric), for comparison with the other benches. */
  centreAverageAccuracy: Spread;
  /** Mean pooled accuracy / AUC at ε = ∞ with the same aggregation minus this cell's: what this ε costs (null without a reference). */
  accuracyCost: number | null;
  aucCost: number | null;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function spread(xs: readonly number[]): Spread {
  const m = mean(xs);
  const sd = xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
  return { mean: m, sd };
}

/** Cells in table order (each aggregation, ε ascending then ∞), for each calibration that has runs. */
export function summarisePrivacy(runs: readonly PrivacyRun[], calibrations: readonly Calibration[]): PrivacyCell[] {
  const cells: PrivacyCell[] = [];
  const order = (e: number | null) => (e === null ? Number.POSITIVE_INFINITY : e);
  for (const aggregation of AGGREGATIONS) {
    const mine = calibrations
      .filter((c) => c.aggregation === aggregation)
      .sort((a, b) => order(a.epsilon) - order(b.epsilon));
    const of = (e: number | null) => runs.filter((r) => r.aggregation === aggregation && r.epsilon === e);
    const reference = of(null);
    const refAcc = reference.length ? mean(reference.map((r) => r.pooledAccuracy)) : null;
    const refAuc = reference.length ? mean(reference.map((r) => r.pooledAuc)) : null;
    for (const c of mine) {
      const rs = of(c.epsilon);
      if (!rs.length) continue;
      const accuracy = spread(rs.map((r) => r.pooledAccuracy));
      const auc = spread(rs.map((r) => r.pooledAuc));
      cells.push({
        ...c,
        seeds: rs.length,
        accuracy,
        auc,
        centreAverageAccuracy: spread(rs.map((r) => mean(r.centreAccuracy))),
        accuracyCost: refAcc === null ? null : refAcc - accuracy.mean,
        aucCost: refAuc === null ? null : refAuc - auc.mean,
      });
    }
  }
  return cells;
}

const pm = (s: Spread) => `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}`;
const cost = (x: number | null, epsilon: number | null) =>
  epsilon === null ? '(reference)' : x === null ? '–' : `${x >= 0 ? '−' : '+'}${Math.abs(x).toFixed(3)}`;

function tableOf(aggregation: Aggregation, cells: readonly PrivacyCell[]): BenchTable {
  const plain = aggregation === 'plain';
  return {
    title: plain ? 'Without secure aggregation (central DP)' : 'With secure aggregation (distributed DP)',
    note: plain
      ? 'The coordinator sees each site’s update, clips it to L2 norm C and adds N(0, (zC/4)²) to the mean of the four; ε by the exact Gaussian-DP accountant over the 15 releases.'
      : 'The coordinator sees only the masked sum: each site clips its update to C, rounds it to integers and adds its share of Skellam noise before masking (t = 4 of 4 sites); ε by the Skellam RDP bound, with the rounding error in the sensitivity. A Skellam plan needs a little more noise (z) for the same ε.',
    columns: [
      'ε',
      'δ',
      'noise',
      'clip C',
      'noise ×z',
      'noise std / coord.',
      'pooled accuracy',
      'pooled AUC',
      'Δ accuracy vs ∞',
      'Δ AUC vs ∞',
      '4-centre avg acc.',
      'seeds',
    ],
    rows: cells
      .filter((c) => c.aggregation === aggregation)
      .map((c) => [
        c.epsilon === null ? '∞' : String(c.epsilon),
        c.delta === null ? '–' : c.delta.toExponential(0),
        mechanismLabel(c.aggregation, c.epsilon),
        c.clip === null ? '–' : String(c.clip),
        c.noiseMultiplier === null ? '–' : c.noiseMultiplier.toFixed(3),
        c.meanNoiseStd === null ? '–' : c.meanNoiseStd.toFixed(4),
        `**${pm(c.accuracy)}**`,
        `**${pm(c.auc)}**`,
        cost(c.accuracyCost, c.epsilon),
        cost(c.aucCost, c.epsilon),
        pm(c.centreAverageAccuracy),
        String(c.seeds),
      ]),
  };
}

const note = (pooledN: number): string =>
  'Each cell is FLamby’s FedAvg recipe on Fed-Heart-Disease (4 centres: Cleveland, Hungarian, Switzerland, VA; 15 rounds × 100 SGD steps, batch 4, lr 0.001, per-site z-score) run as a real federation through the product (in-process coordinator, four `SiteRunner`s over loopback HTTP + socket.io), ' +
  'with DP at site level (add/remove of one site) calibrated to the target ε at δ = 1e-5 over the plan’s 15 rounds: the clip C is fixed (the honest 90th percentile of this plan’s update norms, see the Byzantine bench) and the noise multiplier z is the smallest the plan’s own accountant accepts for ε (bisection on `planEpsilon`). ' +
  `"pooled accuracy/AUC" score the final version on the ${pooledN} test rows of the four centres pooled (each normalised by its own site, as the site scores it), mean ± sd over seeds; "Δ vs ∞" is the change from ε = ∞ with the same aggregation (what this ε costs; each mean has a standard error of sd / √seeds, so two ε whose Δ differ by less than about twice that are not told apart); "4-centre avg acc." is FLamby’s unweighted mean of the per-centre accuracies the sites reported. ` +
  'Every DP run’s final version is signed with `dpEpsilon` equal to the plan’s ε (checked by the bench).';

/** The Markdown report: one table per aggregation. */
export function privacyMarkdown(cells: readonly PrivacyCell[], meta: Record<string, string>, pooledN: number): string {
  const tables = AGGREGATIONS.filter((a) => cells.some((c) => c.aggregation === a)).map((a) => tableOf(a, cells));
  const intro: BenchTable = {
    ...tables[0]!,
    note: `${note(pooledN)}\n\n${tables[0]!.note}`,
  };
  return toMarkdown('The price of ε: privacy against utility on Fed-Heart-Disease', meta, [intro, ...tables.slice(1)]);
}

/** The JSON report: meta, one summary per cell and every run. */
export function privacyJson(
  cells: readonly PrivacyCell[],
  runs: readonly PrivacyRun[],
  meta: Record<string, string>,
): Record<string, unknown> {
  return { meta, summary: cells, runs };
}
