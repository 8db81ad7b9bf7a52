import {
  featureNames,
  SeededRandom,
  TwinfedError,
  type FeatureDerivation,
  type LabelDerivation,
  type Plan,
} from '@twinfed/shared';
import type { Split } from '@twinfed/models';
import type { LocalDataset } from '../training/dataset';
import type { TwinSnapshot } from '../twins/types';
import { hasConsent } from './consent';
import { deriveFeatures, type DerivedRow } from './derive';
import { fitFillValues, imputeRow } from './impute';
import { deriveLabel, deriveOutcome } from './label';

/** The twin part of a plan: its derivations and label rule (`stored` labels when the plan gives none). */
export function twinSchemaOf(plan: Pick<Plan, 'data'>): {
  derivations: FeatureDerivation[];
  labelRule: LabelDerivation;
  features: string[];
} {
  const derivations = plan.data.derive;
  if (!derivations)
    throw new TwinfedError(
      'CONFIG_INVALID',
      'The federation plan has no feature derivations (data.derive): it is not a twin federation.',
    );
  return { derivations, labelRule: plan.data.labelRule ?? { kind: 'stored' }, features: featureNames(derivations) };
}

/** Options of {@link buildDataset}. */
interface BuildDatasetOptions {
  twins: readonly TwinSnapshot[];
  plan: Pick<Plan, 'data'>;
  /** Snapshot time (ms since epoch) for features and labels. */
  at: number;
  /** Rows whose statistics fill missing values (`mean`/`indicator` policies); default all rows. */
  trainPids?: ReadonlySet<string>;
  /** Federated statistics: one mean per column, used instead of the site's own. */
  means?: readonly number[];
}

/** Labelled model inputs of a site's consenting twins. */
export interface TwinDataset extends Split {
  /** Pseudonymous ids, one per row. */
  readonly pids: string[];
  readonly features: string[];
  /** The fill value of each column (see `fitFillValues`). */
  readonly fill: number[];
  /** Row-major [n, d]: 1 where the value was missing and filled. */
  readonly missing: Uint8Array;
  /** Twins left out: no current model-training consent, or no label. */
  readonly excluded: { consent: number; unlabelled: number };
}

/**
 * Derives every consenting, labelled twin's row exactly as the plan says: only twins whose latest
 * `model-training` consent is `permit` enter, labels come from the plan's rule, and missing values are filled
 * with statistics of the `trainPids` rows (or federated `means`). Rows keep the order of `twins`.
 */
export function buildDataset(options: BuildDatasetOptions): TwinDataset {
  const { derivations, labelRule, features } = twinSchemaOf(options.plan);
  const rows: DerivedRow[] = [];
  const labels: number[] = [];
  const times: number[] = [];
  const timed = labelRule.kind === 'time-to-event';
  const pids: string[] = [];
  const excluded = { consent: 0, unlabelled: 0 };
  for (const twin of options.twins) {
    if (!hasConsent(twin, 'model-training')) {
      excluded.consent++;
      continue;
    }
    const outcome = deriveOutcome({ twin, rule: labelRule, at: options.at });
    if (outcome === null) {
      excluded.unlabelled++;
      continue;
    }
    rows.push(deriveFeatures({ twin, derivations, at: options.at }));
    labels.push(outcome.label);
    if (timed) times.push(outcome.time!);
    pids.push(twin.pid);
  }
  const train = options.trainPids;
  const fitRows = train ? rows.filter((_, i) => train.has(pids[i]!)) : rows;
  const fill = fitFillValues({ rows: fitRows, derivations, ...(options.means ? { means: options.means } : {}) });
  const n = rows.length;
  const d = features.length;
  const x = new Float32Array(n * d);
  const missing = new Uint8Array(n * d);
  rows.forEach((row, i) => {
    x.set(imputeRow(row, fill), i * d);
    row.missing.forEach((m, j) => (missing[i * d + j] = m ? 1 : 0));
  });
  return {
    x,
    y: Float32Array.from(labels),
    ...(timed ? { time: Float32Array.from(times) } : {}),
    n,
    d,
    pids,
    features,
    fill,
    missing,
    excluded,
  };
}

/** Options of {@link buildLocalDataset}. */
interface BuildLocalDatasetOptions extends Omit<BuildDatasetOptions, 'trainPids'> {
  /** Fraction of each label's twins held out for evaluation, strictly between 0 and 1. */
  testFraction: number;
  seed: number;
}

/** A site's train/test data from its twins, with the pids and fill values of the split. */
export interface TwinLocalDataset extends LocalDataset {
  readonly trainPids: string[];
  readonly testPids: string[];
  readonly fill: number[];
  readonly excluded: TwinDataset['excluded'];
}

/** Throws `CONFIG_INVALID` unless the test fraction is strictly between 0 and 1. */
export function checkTestFraction(testFraction: number): void {
  if (!(testFraction > 0 && testFraction < 1))
    throw new TwinfedError('CONFIG_INVALID', 'The test fraction must be strictly between 0 and 1.');
}

/** The pids of the consenting twins that have a label at `at`, grouped by label: what a train/test split draws from. */
export function labelledPids(options: Pick<BuildDatasetOptions, 'twins' | 'plan' | 'at'>): Map<number, string[]> {
  const { labelRule } = twinSchemaOf(options.plan);
  const byLabel = new Map<number, string[]>();
  for (const twin of options.twins) {
    if (!hasConsent(twin, 'model-training')) continue;
    const label = deriveLabel({ twin, rule: labelRule, at: options.at });
    if (label !== null) byLabel.set(label, [...(byLabel.get(label) ?? []), twin.pid]);
  }
  return byLabel;
}

/** Options of {@link splitLabelled}. */
interface SplitLabelledOptions extends Omit<BuildDatasetOptions, 'trainPids'> {
  /** From {@link labelledPids}. */
  byLabel: ReadonlyMap<number, readonly string[]>;
  /** The held-out pids; every other labelled pid trains. */
  test: ReadonlySet<string>;
  /** Only for the error message. */
  testFraction: number;
}

/**
 * The labelled twins split into train and `test`: missing values filled with the train rows' statistics (or
 * federated `means`), both splits in the shape training expects. Throws `CONFIG_INVALID` when a split is empty.
 */
export function splitLabelled(options: SplitLabelledOptions): TwinLocalDataset {
  const { byLabel, test, testFraction, ...rest } = options;
  const all = [...byLabel.values()].flat();
  const trainPids = new Set(all.filter((p) => !test.has(p)));
  if (trainPids.size === 0 || test.size === 0) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      `Cannot split ${all.length} consenting, labelled twins into non-empty train and test sets with fraction ${testFraction}.`,
    );
  }
  const data = buildDataset({ ...rest, trainPids });
  const pick = (keep: (pid: string) => boolean): { split: Split; pids: string[] } => {
    const idx = data.pids.map((p, i) => (keep(p) ? i : -1)).filter((i) => i >= 0);
    const x = new Float32Array(idx.length * data.d);
    idx.forEach((r, i) => x.set(data.x.subarray(r * data.d, (r + 1) * data.d), i * data.d));
    const time = data.time;
    return {
      split: {
        x,
        y: Float32Array.from(idx, (r) => data.y[r]!),
        ...(time ? { time: Float32Array.from(idx, (r) => time[r]!) } : {}),
        n: idx.length,
        d: data.d,
      },
      pids: idx.map((r) => data.pids[r]!),
    };
  };
  const tr = pick((p) => trainPids.has(p));
  const te = pick((p) => test.has(p));
  return {
    features: data.features,
    train: tr.split,
    test: te.split,
    trainPids: tr.pids,
    testPids: te.pids,
    fill: data.fill,
    excluded: data.excluded,
  };
}

/**
 * Splits the consenting, labelled twins into train and test (seeded, stratified by label, split by twin
 * before any statistics), fills missing values with the train rows' statistics (or federated `means`) and
 * returns the two splits in the shape training expects. Throws `CONFIG_INVALID` when a split would be empty.
 */
export function buildLocalDataset(options: BuildLocalDatasetOptions): TwinLocalDataset {
  const { testFraction, seed, ...rest } = options;
  checkTestFraction(testFraction);
  const byLabel = labelledPids(rest);
  const rng = new SeededRandom(seed);
  const test = new Set<string>();
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const pids = rng.shuffle([...byLabel.get(label)!].sort());
    pids.slice(0, Math.round(pids.length * testFraction)).forEach((p) => test.add(p));
  }
  return splitLabelled({ ...rest, byLabel, test, testFraction });
}
