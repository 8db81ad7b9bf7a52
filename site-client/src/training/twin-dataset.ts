import { DAY_MS, sha256Hex, type Plan } from '@twinfed/shared';
import { fitStandardizer, type Standardizer } from '@twinfed/models';
import { checkTestFraction, labelledPids, splitLabelled, type TwinLocalDataset } from '../features/dataset';
import type { Preprocessing } from '../scoring/preprocess';
import type { TwinStore } from '../twins/store-types';
import type { TwinSnapshot } from '../twins/types';
import type { Split } from '@twinfed/models';
import type { DatasetSource } from './dataset-source';

/** Reads twins from the store (all of them, or the given pids), skipping pids that disappeared. */
export async function readTwins(store: TwinStore, pids?: readonly string[]): Promise<TwinSnapshot[]> {
  const ids = pids ?? (await store.listPids());
  const twins: TwinSnapshot[] = [];
  for (const pid of ids) {
    const twin = await store.getTwin(pid);
    if (twin) twins.push(twin);
  }
  return twins;
}

/**
 * Which consenting, labelled twins are held out for evaluation. Each twin draws a number u in [0, 1) from
 * sha256(seed, pid) and is in test when u < testFraction: its side depends on its own hash only, so when
 * twins join or leave (new patients, consent withdrawals) nobody else changes side, and a round never trains
 * on rows an earlier round evaluated on. Per label, at least one twin is in test and one in train whenever
 * the label has two or more twins (the lowest u goes to test, the highest to train).
 */
export function stableTestPids(input: {
  byLabel: ReadonlyMap<number, readonly string[]>;
  testFraction: number;
  seed: number;
}): Set<string> {
  const test = new Set<string>();
  for (const pids of input.byLabel.values()) {
    const ranked = pids
      .map((pid) => ({ pid, u: parseInt(sha256Hex(`${input.seed}\n${pid}`).slice(0, 13), 16) / 2 ** 52 }))
      .sort((a, b) => a.u - b.u || (a.pid < b.pid ? -1 : 1));
    const chosen = ranked.filter((r) => r.u < input.testFraction);
    if (ranked.length >= 2 && chosen.length === 0) chosen.push(ranked[0]!);
    if (ranked.length >= 2 && chosen.length === ranked.length) chosen.pop();
    chosen.forEach((r) => test.add(r.pid));
  }
  return test;
}

/** Options of {@link twinLocalDataset}. */
interface TwinLocalDatasetOptions {
  twins: readonly TwinSnapshot[];
  plan: Pick<Plan, 'data'>;
  at: number;
  testFraction: number;
  seed: number;
}

/**
 * A site's train/test data from its twins as the plan derives them: only twins whose latest model-training
 * consent is a permit and that have a label enter; the split is {@link stableTestPids}; missing values are
 * filled with train statistics. Throws `CONFIG_INVALID` when a split would be empty.
 */
export function twinLocalDataset(options: TwinLocalDatasetOptions): TwinLocalDataset {
  const { twins, plan, at, testFraction, seed } = options;
  checkTestFraction(testFraction);
  const byLabel = labelledPids({ twins, plan, at });
  return splitLabelled({
    twins,
    plan,
    at,
    byLabel,
    test: stableTestPids({ byLabel, testFraction, seed }),
    testFraction,
  });
}

/** The std given to a column that was constant in training: its z-score stays 0 at scoring, as in training. */
export const CONSTANT_COLUMN_STD = 1e300;

/**
 * Preprocessing with every column that was constant in the fitted rows (std ≈ 0) neutralised: training saw
 * z = 0 there, so the model learnt nothing from it, and a twin that later has data for it (a wearable that
 * started streaming after training) must not get a z-score of (x − mean) / 1e-9 and an absurd contribution.
 */
export function neutralizeConstantColumns(pre: Preprocessing): Preprocessing {
  const s = pre.standardizer;
  if (!s) return pre;
  const std = s.std.map((v, j) => (v <= 1e-9 * (1 + Math.abs(s.mean[j] ?? 0)) ? CONSTANT_COLUMN_STD : v));
  return { fill: pre.fill, standardizer: { mean: [...s.mean], std } };
}

/**
 * The preprocessing training applied to a twin dataset, for scoring: the train rows' fill values and the
 * z-score statistics training used (`standardizer`, e.g. the federation's pooled ones; default the train rows'
 * own unless the plan says `none`), with columns constant in training neutralised (see {@link neutralizeConstantColumns}).
 */
export function trainingPreprocessing(
  dataset: Pick<TwinLocalDataset, 'fill' | 'train'>,
  plan: Pick<Plan, 'data'>,
  standardizerUsed?: Standardizer | null,
): Preprocessing {
  const standardizer =
    standardizerUsed !== undefined
      ? standardizerUsed
      : plan.data.normalization === 'none'
        ? null
        : fitStandardizer(dataset.train);
  return neutralizeConstantColumns({
    fill: [...dataset.fill],
    standardizer: standardizer ? { mean: [...standardizer.mean], std: [...standardizer.std] } : null,
  });
}

/**
 * The training snapshot time for a clock reading: features are taken at it and outcomes looked for after it,
 * so with a `condition-onset` or `time-to-event` label rule it is `now − horizonDays` (the outcome window must have
 * passed to be observed); with stored labels it is `now`.
 */
export function trainingSnapshot(plan: Pick<Plan, 'data'>, now: number): number {
  const rule = plan.data.labelRule;
  return rule && rule.kind !== 'stored' ? now - rule.horizonDays * DAY_MS : now;
}

function sameSplit(a: Split, b: Split): boolean {
  if (a.n !== b.n || a.d !== b.d) return false;
  for (let i = 0; i < a.x.length; i++) if (a.x[i] !== b.x[i]) return false;
  for (let i = 0; i < a.y.length; i++) if (a.y[i] !== b.y[i]) return false;
  // A time-to-event label's censoring time moves with records arriving after the snapshot while x and y stay.
  if ((a.time === undefined) !== (b.time === undefined)) return false;
  if (a.time && b.time) for (let i = 0; i < a.time.length; i++) if (a.time[i] !== b.time[i]) return false;
  return true;
}

function sameDataset(a: TwinLocalDataset, b: TwinLocalDataset): boolean {
  const same = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    same(a.trainPids, b.trainPids) &&
    same(a.testPids, b.testPids) &&
    sameSplit(a.train, b.train) &&
    sameSplit(a.test, b.test)
  );
}

/** Options of {@link TwinDatasetSource}. */
interface TwinDatasetSourceOptions {
  store: TwinStore;
  /** Fixed snapshot time (ms) of features and labels; default {@link trainingSnapshot} of the clock at each load. */
  at?: number;
  /** Clock (default Date.now). */
  now?: () => number;
  testFraction: number;
  seed: number;
}

/**
 * The twin store as a {@link DatasetSource}: every load reads the consenting twins afresh and rebuilds the
 * dataset, unless nothing changed in the store since the last load (same change sequence, same snapshot time
 * and plan). When nothing changed, or the rebuilt rows are identical, it returns the previous object, which
 * tells the runner to keep its trainer.
 */
export class TwinDatasetSource implements DatasetSource {
  private last: { seq: number; at: number; plan: Plan; dataset: TwinLocalDataset } | undefined;

  constructor(private readonly options: TwinDatasetSourceOptions) {}

  /** The snapshot time a load for `plan` uses now. */
  snapshotTime(plan: Pick<Plan, 'data'>): number {
    return this.options.at ?? trainingSnapshot(plan, (this.options.now ?? Date.now)());
  }

  async load(input: { plan: Plan }): Promise<TwinLocalDataset> {
    const { store, testFraction, seed } = this.options;
    const at = this.snapshotTime(input.plan);
    const last = this.last;
    const { seq } = await store.changedSince(last?.seq ?? Number.MAX_SAFE_INTEGER);
    if (last && last.seq === seq && last.at === at && last.plan === input.plan) return last.dataset;
    const twins = await readTwins(store);
    const rebuilt = twinLocalDataset({ twins, plan: input.plan, at, testFraction, seed });
    const dataset = last && last.plan === input.plan && sameDataset(last.dataset, rebuilt) ? last.dataset : rebuilt;
    this.last = { seq, at, plan: input.plan, dataset };
    return dataset;
  }
}
