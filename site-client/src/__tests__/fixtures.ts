/** Test support: a small synthetic dataset and deterministic stand-ins for the model operations. */
import { SeededRandom } from '@twinfed/shared';
import { calibrationBins, expectedCalibrationError, type Split, type TrainRoundOptions } from '@twinfed/models';
import { SiteAuditLog } from '../audit/site-audit';
import type { SitePolicy } from '../governance/policy';
import type { LocalDataset } from '../training/dataset';
import type { ModelOps } from '../training/federation-session';
import { Journal } from '../training/journal';
import { TEST_FEATURES } from './fake-coordinator';

/** A site policy that approves every plan without a person (a legitimate choice for a test site; no rule). */
export const APPROVE_EVERY_PLAN: SitePolicy = { autoApprove: true };

/** A test site's journal and audit chain (where its plan decisions are recorded), both in `dir`. */
export function siteRecords(dir: string): { journal: Journal; audit: SiteAuditLog } {
  return { journal: Journal.open(dir), audit: new SiteAuditLog(dir, () => 'site:site-a') };
}

/** `n` rows of 3 features where the label depends on the first feature. */
export function syntheticSplit(n: number, seed: number): Split {
  const rng = new SeededRandom(seed);
  const x = new Float32Array(n * 3);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const age = 40 + 20 * rng.normal();
    x[i * 3] = age;
    x[i * 3 + 1] = 200 + 30 * rng.normal();
    x[i * 3 + 2] = 150 + 15 * rng.normal();
    y[i] = age + 5 * rng.normal() > 45 ? 1 : 0;
  }
  return { x, y, n, d: 3 };
}

export function syntheticDataset(): LocalDataset {
  return { features: TEST_FEATURES, train: syntheticSplit(40, 1), test: syntheticSplit(20, 2) };
}

/** Model ops whose "training" adds 0.5 to every weight and whose evaluation reports fixed metrics. */
export function fakeModelOps(): ModelOps & { trainCalls: number; trainData: Split[]; rounds: TrainRoundOptions[] } {
  const ops = {
    trainCalls: 0,
    rounds: [] as TrainRoundOptions[],
    trainData: [] as Split[],
    async createTrainer(o: Parameters<ModelOps['createTrainer']>[0]) {
      ops.trainData.push(o.data);
      return {
        stepsPerRound: 3,
        async trainRound(r: TrainRoundOptions) {
          ops.trainCalls += 1;
          ops.rounds.push({ ...r, ...(r.scaffold ? { scaffold: { correction: r.scaffold.correction.slice() } } : {}) });
          return {
            weights: { layout: r.weights.layout, data: r.weights.data.map((v) => v + 0.5) },
            numExamples: o.data.n,
            steps: 3,
            meanLoss: 0.5,
          };
        },
        dispose() {},
      };
    },
    async evaluate(o: Parameters<ModelOps['evaluate']>[0]) {
      // Calibration: the first 12 rows scored 0.25 (3 positive), the rest 0.7 (all but the first two positive).
      const p = Array.from({ length: o.data.n }, (_, i) => (i < 12 ? 0.25 : 0.7));
      const y = p.map((_, i) => (i < 3 || i >= 14 ? 1 : 0));
      const calibration = { ece: expectedCalibrationError({ y, p }), bins: calibrationBins({ y, p }) };
      return { n: o.data.n, accuracy: 0.75, auc: Number.NaN, loss: 0.5, brier: 0.2, calibration };
    },
  };
  return ops;
}
