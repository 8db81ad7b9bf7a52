import type { CreateTrainerOptions, Trainer } from '@twinfed/models';
import { deserializeWeights } from '@twinfed/shared';
import { defaultModelOps, type ModelOps } from '@twinfed/site-client';
import { startBenchConsortium, type BenchConsortium } from '../flamby/consortium';
import { rawSiteData, runBenchFederation } from '../flamby/federated';
import { benchSiteSeed } from '../flamby/methods';
import { attackingOps, SIGN_FLIP_SCALE } from './attacks';
import { byzantinePlan, CONFIGS } from './configs';

/** The product's model operations, recording what the real trainer produced (before any attack touches it). */
function recording(sink: Array<{ base: Float32Array; trained: Float32Array }>): ModelOps {
  return {
    createTrainer: async (options: CreateTrainerOptions): Promise<Trainer> => {
      const real = await defaultModelOps.createTrainer(options);
      return {
        get stepsPerRound() {
          return real.stepsPerRound;
        },
        trainRound: async (o) => {
          const r = await real.trainRound(o);
          sink.push({ base: o.weights.data.slice(), trained: r.weights.data.slice() });
          return r;
        },
        dispose: () => real.dispose(),
      };
    },
    evaluate: (o) => defaultModelOps.evaluate(o),
  };
}

/**
 * The bench cannot silently attack nothing: one FedAvg round through the real coordinator and four real site
 * runners, once clean and once with Cleveland's trainer wrapped by the sign-flip attack. Honest sites are
 * seeded identically, so the two published models differ exactly by Cleveland's share of the changed update:
 * (n₀/N)·(sent − honest) = (n₀/N)·(−(scale + 1))·delta₀.
 */
describe('Byzantine bench wiring (real site runners over loopback)', () => {
  let consortium: BenchConsortium;
  beforeAll(async () => {
    consortium = await startBenchConsortium();
  }, 60_000);
  afterAll(async () => {
    await consortium?.close();
  });

  test('a sign-flipping Cleveland moves the published FedAvg model by exactly its weighted, flipped ×10 update', async () => {
    const fedavg = CONFIGS.find((c) => c.key === 'fedavg')!;
    const plan = { ...byzantinePlan(fedavg, 42), rounds: 1 };
    const published = async (ops: ModelOps | undefined): Promise<Float32Array> => {
      const out = await runBenchFederation({
        consortium,
        plan,
        siteSeed: (c) => benchSiteSeed(42, c),
        modelOps: (c) => (c === 0 ? ops : undefined),
      });
      expect(out.versions).toHaveLength(1);
      return deserializeWeights((await consortium.admin.downloadWeights(out.versions[0]!.versionId)).bytes).data;
    };
    const cleanSeen: Array<{ base: Float32Array; trained: Float32Array }> = [];
    const attackedSeen: Array<{ base: Float32Array; trained: Float32Array }> = [];
    const clean = await published(recording(cleanSeen));
    const attacked = await published(attackingOps({ attack: 'sign-flip', seed: 1, inner: recording(attackedSeen) }));
    // Cleveland trained the same honest update both times; only what it sent differs.
    expect(cleanSeen).toHaveLength(1);
    expect(attackedSeen).toHaveLength(1);
    expect(Array.from(attackedSeen[0]!.trained)).toEqual(Array.from(cleanSeen[0]!.trained));
    const counts = rawSiteData().map((d) => d.train.n);
    const share = counts[0]! / counts.reduce((a, b) => a + b, 0);
    const { base, trained } = cleanSeen[0]!;
    let moved = 0;
    for (let i = 0; i < base.length; i++) {
      const want = share * -(SIGN_FLIP_SCALE + 1) * (trained[i]! - base[i]!);
      expect(attacked[i]! - clean[i]!).toBeCloseTo(want, 5);
      moved += Math.abs(want);
    }
    expect(moved).toBeGreaterThan(1e-3);
  }, 120_000);
});
