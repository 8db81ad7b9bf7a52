/**
 * FedAvg of a Cox model converges to the pooled fit. Three sites hold fixed thirds of the Rossi data (the same
 * splits in every run), z-scored with the pooled statistics; each round every site takes one full-batch gradient
 * step from the global model (the real trainer, risk sets within the site's rows) and the coordinator's FedAvg
 * averages them by example count. The site losses are means over their rows, so the FedAvg step is a gradient
 * step on Σ nₖ/N · Lₖ: the partial likelihood stratified by site. The test checks that FedAvg reaches that
 * objective's optimum (computed here by plain gradient descent on the same loss, in float64) to 1e-5, and the
 * unstratified pooled fit (one risk set over all 432 rows, the trainer on the whole table) to 0.01 per z-scored
 * coefficient.
 */
import { fedAvg } from '@twinfed/coordinator';
import { applyStandardizer, createTrainer, fitStandardizer, initBackend, type Split } from '@twinfed/models';
import { coxLoss } from '@twinfed/models/cox-loss';
import { ROSSI_FEATURES, loadRossi } from '@twinfed/models/__tests__/rossi';
import { initialWeights, type CoxModelSpec, type WeightSet } from '@twinfed/shared';

const spec: CoxModelSpec = { kind: 'cox', inputs: ROSSI_FEATURES.length, ties: 'breslow', horizonDays: 52 };
const LR = 2;

/** Rows `i` of `split` with `i % parts === part`. */
function part(split: Split, parts: number, k: number): Split {
  const rows = Array.from({ length: split.n }, (_, i) => i).filter((i) => i % parts === k);
  const x = new Float32Array(rows.length * split.d);
  rows.forEach((r, i) => x.set(split.x.subarray(r * split.d, (r + 1) * split.d), i * split.d));
  return {
    x,
    y: Float32Array.from(rows, (r) => split.y[r]!),
    time: Float32Array.from(rows, (r) => split.time![r]!),
    n: rows.length,
    d: split.d,
  };
}

/** The optimum of Σ nₖ/N · Lₖ(β) (Breslow, risk sets within each site) by gradient descent in float64. */
function stratifiedOptimum(sites: readonly Split[]): number[] {
  const d = spec.inputs;
  const total = sites.reduce((a, s) => a + s.n, 0);
  let beta = new Array<number>(d).fill(0);
  for (let it = 0; it < 3000; it++) {
    const grad = new Array<number>(d).fill(0);
    for (const s of sites) {
      const eta = Array.from({ length: s.n }, (_, i) => beta.reduce((a, b, j) => a + b * s.x[i * d + j]!, 0));
      const { gradient } = coxLoss(eta, s.time!, s.y, spec.ties);
      for (let i = 0; i < s.n; i++)
        for (let j = 0; j < d; j++) grad[j]! += (s.n / total) * gradient[i]! * s.x[i * d + j]!;
    }
    beta = beta.map((b, j) => b - LR * grad[j]!);
  }
  return beta;
}

beforeAll(() => initBackend({ prefer: 'cpu' }));

test('FedAvg over fixed site splits converges to the pooled Cox fit', async () => {
  const raw = loadRossi();
  const pooled = applyStandardizer(raw, fitStandardizer(raw));
  const sites = [0, 1, 2].map((k) => part(pooled, 3, k));
  const coefficients = (w: WeightSet): number[] => Array.from(w.data.subarray(0, spec.inputs));

  // Federated: one full-batch step per site per round, FedAvg (serverLr 1) by the coordinator's strategy.
  const trainers = await Promise.all(
    sites.map((data, k) =>
      createTrainer({ spec, data, training: { steps: 1, batchSize: data.n, optimizer: 'sgd', lr: LR }, seed: k }),
    ),
  );
  const strategy = fedAvg({ serverLr: 1 });
  let global = initialWeights(spec, 42);
  let state = strategy.initialState(global.data.length);
  for (let round = 1; round <= 150; round++) {
    const ctx = { round, global: global.data, state, seed: 42 };
    const acc = strategy.createAccumulator(ctx);
    for (const [k, trainer] of trainers.entries()) {
      const r = await trainer.trainRound({ weights: global });
      acc.add({ siteId: `site-${k}`, numExamples: r.numExamples, weights: r.weights.data });
    }
    const out = strategy.aggregate(ctx, acc, []);
    global = { layout: global.layout, data: out.weights };
    state = out.state;
  }
  trainers.forEach((t) => t.dispose());
  const federated = coefficients(global);

  // The optimum of the objective FedAvg descends: the partial likelihood stratified by site.
  const stratified = stratifiedOptimum(sites);
  federated.forEach((b, j) => expect(Math.abs(b - stratified[j]!)).toBeLessThan(1e-5));

  // The pooled fit: one risk set over the whole table, full-batch on the trainer.
  const trainer = await createTrainer({
    spec,
    data: pooled,
    training: { steps: 150, batchSize: pooled.n, optimizer: 'sgd', lr: LR },
    seed: 0,
  });
  const fit = coefficients((await trainer.trainRound({ weights: initialWeights(spec, 42) })).weights);
  trainer.dispose();
  // Measured: at most 0.005 apart (fin), the price of risk sets that stop at a site's border.
  federated.forEach((b, j) => expect(Math.abs(b - fit[j]!)).toBeLessThan(0.01));
}, 120_000);
