import {
  applyStandardizer,
  concatSplits,
  createTrainer,
  evaluate,
  evaluateModel,
  fitStandardizer,
  type Split,
} from '@twinfed/models';
import { openTwinStore, readTwins, twinLocalDataset } from '@twinfed/site-client';
import { initialWeights, type Plan, type WeightSet } from '@twinfed/shared';
import { meanScore, type Score, type SiteComparison } from '../compare';
import type { TwinHospital } from './hospitals';

/** One hospital's train/test split exactly as its site derives it (features filled, not yet z-scored). */
interface HospitalData {
  name: string;
  train: Split;
  test: Split;
}

/**
 * Reads each hospital's twin store (after its site stopped) and derives the same split the site trained on.
 * The harness does this only to score the comparison; in production nothing reads another site's store.
 */
export async function loadHospitalData(opts: {
  hospitals: TwinHospital[];
  siteDir: (h: TwinHospital) => string;
  plan: Plan;
  at: number;
  testFraction: number;
  splitSeed: number;
}): Promise<HospitalData[]> {
  const out: HospitalData[] = [];
  for (const h of opts.hospitals) {
    const store = await openTwinStore({ dataDir: opts.siteDir(h) });
    try {
      const ds = twinLocalDataset({
        twins: await readTwins(store),
        plan: opts.plan,
        at: opts.at,
        testFraction: opts.testFraction,
        seed: opts.splitSeed,
      });
      out.push({ name: h.name, train: ds.train, test: ds.test });
    } finally {
      await store.close();
    }
  }
  return out;
}

/** Scores one model on some hospitals' test splits. */
type ScoreOn<S> = (plan: Plan, weights: WeightSet, tests: Split[]) => Promise<S>;

async function scoreOn(plan: Plan, weights: WeightSet, tests: Split[]): Promise<Score> {
  const scores: Score[] = [];
  for (const test of tests) {
    const e = await evaluate({ spec: plan.model, weights, data: test });
    scores.push({ accuracy: e.accuracy, auc: e.auc });
  }
  return { accuracy: meanScore(scores).accuracy, auc: meanScore(scores.filter((s) => !Number.isNaN(s.auc))).auc };
}

/** A Cox model's C-index on each test split (NaN where a split has no comparable pair). */
async function cIndexOn(plan: Plan, weights: WeightSet, tests: Split[]): Promise<number[]> {
  const out: number[] = [];
  for (const test of tests) {
    const e = await evaluateModel({ spec: plan.model, weights, data: test });
    if (!('cIndex' in e)) throw new Error(`a ${plan.model.kind} model has no C-index`);
    out.push(e.cIndex);
  }
  return out;
}

/**
 * Federated global model vs each hospital's local-only model (same training settings, as many epochs as the
 * federation had rounds), both scored on the OTHER hospitals' held-out twins. A model is used with its own
 * preprocessing: a local-only model z-scores any input with its hospital's train statistics; the federated
 * model with each scoring site's own statistics (per-site) or the federation's pooled ones (federated).
 */
async function compareOnOthers<S>(opts: {
  plan: Plan;
  federated: WeightSet;
  data: HospitalData[];
  scoreOn: ScoreOn<S>;
}): Promise<Array<{ site: string; federated: S; localOnly: S }>> {
  const rows: Array<{ site: string; federated: S; localOnly: S }> = [];
  const epochs = (opts.plan.training.epochs ?? 1) * opts.plan.rounds;
  const pooled = fitStandardizer(concatSplits(opts.data.map((d) => d.train)));
  const federatedView = (d: HospitalData) =>
    applyStandardizer(d.test, opts.plan.data.normalization === 'federated' ? pooled : fitStandardizer(d.train));
  for (const d of opts.data) {
    const others = opts.data.filter((o) => o !== d);
    const own = fitStandardizer(d.train);
    const trainer = await createTrainer({
      spec: opts.plan.model,
      data: applyStandardizer(d.train, own),
      training: { ...opts.plan.training, epochs, steps: undefined },
      seed: opts.plan.seed,
    });
    try {
      const local = await trainer.trainRound({ weights: initialWeights(opts.plan.model, opts.plan.seed) });
      rows.push({
        site: d.name,
        federated: await opts.scoreOn(opts.plan, opts.federated, others.map(federatedView)),
        localOnly: await opts.scoreOn(
          opts.plan,
          local.weights,
          others.map((o) => applyStandardizer(o.test, own)),
        ),
      });
    } finally {
      trainer.dispose();
    }
  }
  return rows;
}

/** Accuracy and AUC of the federated and each local-only model on the other hospitals' held-out twins. */
export function compareTwins(opts: {
  plan: Plan;
  federated: WeightSet;
  data: HospitalData[];
}): Promise<SiteComparison[]> {
  return compareOnOthers({ ...opts, scoreOn });
}

/** One hospital's row of the time-to-event comparison: C-index on each OTHER hospital's held-out twins. */
export interface CoxComparison {
  site: string;
  /** The other hospitals, in the order of the C-index lists. */
  evaluatedOn: string[];
  /** Held-out twins (and events among them) of those hospitals. */
  testTwins: number;
  testEvents: number;
  federated: number[];
  localOnly: number[];
}

/** The federated Cox model and each hospital's local-only one, by C-index on the other hospitals' held-out twins. */
export async function compareTwinsCox(opts: {
  plan: Plan;
  federated: WeightSet;
  data: HospitalData[];
}): Promise<CoxComparison[]> {
  const rows = await compareOnOthers({ ...opts, scoreOn: cIndexOn });
  return rows.map((r) => {
    const others = opts.data.filter((d) => d.name !== r.site);
    return {
      ...r,
      evaluatedOn: others.map((o) => o.name),
      testTwins: others.reduce((n, o) => n + o.test.n, 0),
      testEvents: others.reduce((n, o) => n + o.test.y.reduce((a, v) => a + v, 0), 0),
    };
  });
}
