import type { CreateTrainerOptions, Split, Trainer, TrainRoundOptions } from '@twinfed/models';
import { SeededRandom } from '@twinfed/shared';
import type { ModelOps } from '@twinfed/site-client';
import {
  ATTACKS,
  attackingOps,
  bootstrap,
  deltaCosine,
  deltaNorm,
  excludedOps,
  flipLabels,
  gaussianLike,
  littleIsEnough,
  measuringOps,
  observingOps,
  signFlip,
} from './attacks';

const f32 = (xs: readonly number[]) => Float32Array.from(xs);
const close = (got: ArrayLike<number>, want: readonly number[], digits = 5) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, digits));
};

describe('attack transforms', () => {
  const base = f32([1, 2, -1]);
  const trained = f32([1.5, 1, -1]); // delta (0.5, −1, 0)

  test('sign flip ×10 sends base − 10·delta', () => {
    close(signFlip(base, trained), [1 - 5, 2 + 10, -1]);
    close(signFlip(base, trained, 2), [0, 4, -1]);
  });

  test('label flip turns every 0 into 1 and back, keeping the features', () => {
    const split: Split = { x: f32([1, 2, 3, 4]), y: f32([0, 1]), n: 2, d: 2 };
    const flipped = flipLabels(split);
    expect(Array.from(flipped.y)).toEqual([1, 0]);
    expect(flipped.x).toBe(split.x);
    expect(Array.from(split.y)).toEqual([0, 1]);
  });

  test('gaussian noise has the norm of the real update, another direction, and is reproducible by seed', () => {
    const a = gaussianLike(base, trained, new SeededRandom(7));
    expect(deltaNorm(base, a)).toBeCloseTo(deltaNorm(base, trained), 5);
    expect(Array.from(a)).not.toEqual(Array.from(trained));
    expect(Array.from(gaussianLike(base, trained, new SeededRandom(7)))).toEqual(Array.from(a));
    expect(Array.from(gaussianLike(base, trained, new SeededRandom(8)))).not.toEqual(Array.from(a));
  });

  test('a little is enough sends base + mean − z·std of the simulated deltas, per coordinate', () => {
    const sims = [f32([2, 2, -1]), f32([4, 2, 0]), f32([3, 2, 1])]; // deltas (1,0,0), (3,0,1), (2,0,2)
    // mean (2, 0, 1); sample std (1, 0, 1)
    close(littleIsEnough(base, sims, 1), [1 + 2 - 1, 2, -1 + 1 - 1]);
    close(littleIsEnough(base, sims, 0.5), [1 + 2 - 0.5, 2, -1 + 1 - 0.5]);
    expect(() => littleIsEnough(base, [sims[0]!])).toThrow();
  });

  test('bootstrap resamples whole rows', () => {
    const split: Split = { x: f32([0, 0, 1, 1, 2, 2]), y: f32([0, 1, 0]), n: 3, d: 2 };
    const b = bootstrap(split, new SeededRandom(3));
    expect(b.n).toBe(3);
    for (let r = 0; r < 3; r++) {
      const v = b.x[2 * r]!;
      expect(b.x[2 * r + 1]).toBe(v);
      expect(b.y[r]).toBe(split.y[v]);
    }
  });
});

/** How far the fake model moves: depends on the labels and the seed, as a real trainer's update does. */
const scaleOf = (o: CreateTrainerOptions) => 1 + o.data.y.reduce((a, v) => a + v, 0) / 10 + (o.seed % 7) / 100;

/** A fake model: each round adds `step × scaleOf(options)` to the weights; it records the options it was created with. */
function fakeOps(step: readonly number[], created: CreateTrainerOptions[]): ModelOps {
  return {
    createTrainer: async (options: CreateTrainerOptions): Promise<Trainer> => {
      created.push(options);
      return {
        stepsPerRound: 1,
        trainRound: async (o: TrainRoundOptions) => ({
          weights: {
            layout: o.weights.layout,
            data: Float32Array.from(o.weights.data, (w, i) => w + step[i]! * scaleOf(options)),
          },
          numExamples: options.data.n,
          steps: 1,
          meanLoss: 0.5,
        }),
        dispose: () => undefined,
      };
    },
    evaluate: async () => ({ n: 1, accuracy: 0.5, auc: 0.5, loss: 1, brier: 0.25 }),
  };
}

describe('attackingOps: the site trainer is swapped, evaluation is not', () => {
  const data: Split = { x: f32([0, 1, 2, 3, 4, 5]), y: f32([0, 1, 1]), n: 3, d: 2 };
  const options = {
    spec: { kind: 'logistic-regression', inputs: 2 },
    data,
    training: { steps: 1, batchSize: 1, optimizer: 'sgd', lr: 0.1 },
    seed: 0,
  } as unknown as CreateTrainerOptions;
  const weights = { layout: [{ name: 'w', shape: [3] }], data: f32([1, 1, 1]) } as never;
  const step = [0.1, -0.2, 0.3];

  test.each(ATTACKS)('%s changes the update the site sends and keeps its real example count', async (attack) => {
    const created: CreateTrainerOptions[] = [];
    const honest = await fakeOps(step, []).createTrainer(options);
    const real = await honest.trainRound({ weights });
    const trainer = await attackingOps({ attack, seed: 1, inner: fakeOps(step, created) }).createTrainer(options);
    const sent = await trainer.trainRound({ weights });
    expect(sent.numExamples).toBe(3);
    expect(Array.from(sent.weights.data)).not.toEqual(Array.from(real.weights.data));
    const base = f32([1, 1, 1]);
    switch (attack) {
      case 'sign-flip':
        // The real delta is step × 1.2 (two positive labels, seed 0): sent is base − 10 × that.
        close(sent.weights.data, [1 - 1.2, 1 + 2.4, 1 - 3.6]);
        break;
      case 'label-flip':
        // The real trainer was built on flipped labels (and so moved by step × 1.1 instead of × 1.2).
        expect(Array.from(created[0]!.data.y)).toEqual([1, 0, 0]);
        close(
          sent.weights.data,
          step.map((s) => 1 + 1.1 * s),
        );
        break;
      case 'gaussian':
        expect(deltaNorm(base, sent.weights.data)).toBeCloseTo(deltaNorm(base, real.weights.data), 5);
        break;
      case 'alie': {
        // 4 trainers (the real one and 3 on bootstrap resamples with other seeds), and a shift against the mean.
        expect(created).toHaveLength(4);
        expect(new Set(created.map((c) => c.seed)).size).toBe(4);
        // The 3 simulating trainers (bootstrap resamples) are created first, the real one on the site's own rows last.
        expect(created[3]!.data).toBe(data);
        created.slice(0, 3).forEach((c) => expect(c.data).not.toBe(data));
        const simulated = created.map((c) => Float32Array.from(base, (b, i) => b + step[i]! * scaleOf(c)));
        close(sent.weights.data, Array.from(littleIsEnough(base, simulated, 1)));
        break;
      }
    }
    trainer.dispose();
  });

  test('excludedOps trains, then sends the base unchanged with one example (the "attacker dropped" reference)', async () => {
    const created: CreateTrainerOptions[] = [];
    const trainer = await excludedOps(fakeOps(step, created)).createTrainer(options);
    const sent = await trainer.trainRound({ weights });
    expect(created).toHaveLength(1);
    expect(created[0]!.data).toBe(data);
    expect(sent.numExamples).toBe(1);
    expect(Array.from(sent.weights.data)).toEqual([1, 1, 1]);
    expect(sent.weights.data).not.toBe((weights as { data: Float32Array }).data);
    expect(trainer.stepsPerRound).toBe(1);
    trainer.dispose();
  });

  test('evaluation goes to the real operations', async () => {
    const ops = attackingOps({ attack: 'sign-flip', seed: 1, inner: fakeOps(step, []) });
    await expect(ops.evaluate({} as never)).resolves.toMatchObject({ accuracy: 0.5 });
  });

  test('measuringOps records the norm of every honest update and sends it unchanged', async () => {
    const sink: number[] = [];
    const trainer = await measuringOps(sink, fakeOps(step, [])).createTrainer(options);
    const r = await trainer.trainRound({ weights });
    close(r.weights.data, [1.12, 0.76, 1.36]);
    expect(sink).toHaveLength(1);
    expect(sink[0]).toBeCloseTo(1.2 * Math.hypot(...step), 5);
  });

  test('observingOps shows the update as sent (after an attack it wraps) and changes nothing', async () => {
    const seen: Array<{ base: number[]; sent: number[] }> = [];
    const ops = observingOps(attackingOps({ attack: 'sign-flip', seed: 1, inner: fakeOps(step, []) }), (b, s) =>
      seen.push({ base: Array.from(b), sent: Array.from(s) }),
    );
    const trainer = await ops.createTrainer(options);
    const r = await trainer.trainRound({ weights });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.sent).toEqual(Array.from(r.weights.data));
    const base = f32([1, 1, 1]); // the data of `weights`
    expect(seen[0]!.base).toEqual(Array.from(base));
    expect(
      deltaCosine(
        base,
        r.weights.data,
        Float32Array.from(base, (w, i) => w + step[i]!),
      ),
    ).toBeCloseTo(-1, 5);
    trainer.dispose();
  });
});

describe('deltaCosine', () => {
  test('is the cosine of the two deltas from the base, 0 for a zero delta', () => {
    const base = f32([1, 1]);
    expect(deltaCosine(base, f32([2, 1]), f32([1, 3]))).toBeCloseTo(0, 10);
    expect(deltaCosine(base, f32([2, 2]), f32([3, 3]))).toBeCloseTo(1, 6);
    expect(deltaCosine(base, f32([1, 1]), f32([3, 3]))).toBe(0);
  });
});
