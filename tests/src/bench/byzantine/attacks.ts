import type { CreateTrainerOptions, Split, Trainer, TrainRoundOptions, TrainRoundResult } from '@twinfed/models';
import { SeededRandom, type WeightSet } from '@twinfed/shared';
import { defaultModelOps, type ModelOps } from '@twinfed/site-client';

/**
 * The attacks of the Byzantine benchmark. Each is a `ModelOps` wrapper: the malicious site is a real
 * `SiteRunner` (signed HTTP, sealed updates) whose `modelOps.createTrainer` returns an attacking trainer around
 * the real one. Evaluation stays honest, so the attacker's centre is still scored on its own test rows.
 * Bench code only: nothing here is in the product.
 */
export const ATTACKS = ['sign-flip', 'label-flip', 'gaussian', 'alie'] as const;
export type AttackName = (typeof ATTACKS)[number];

/** What each attack does, for the report. */
export const ATTACK_NOTES: Record<AttackName, string> = {
  'sign-flip': 'sign-flipped update scaled ×10: sends base − 10·(w − base)',
  'label-flip': 'trains honestly on its own rows with every label flipped (y → 1 − y)',
  gaussian: 'sends base + ξ, ξ Gaussian (seeded) rescaled to the L2 norm of its real update',
  alie:
    '"a little is enough" (Baruch et al. 2019): simulates 4 benign updates from the base (its real trainer plus 3 trainers on bootstrap resamples of its own rows, different batch orders), ' +
    'then sends base + μ − z·σ per coordinate (μ, σ: mean and sample std of the simulated deltas), z = 1',
};

/** Scale of the sign-flip attack. */
export const SIGN_FLIP_SCALE = 10;
/** z of "a little is enough". Baruch's z_max = Φ⁻¹((n − s)/n), s = ⌊n/2 + 1⌋ − f, is 0 for n = 4, f = 1 (the mean itself, no attack); z = 1 is the usual fixed choice. */
const ALIE_Z = 1;
/** Benign updates the ALIE attacker simulates (its real one included). */
const ALIE_SIMULATED = 4;

/** base − scale·(trained − base). */
export function signFlip(base: Float32Array, trained: Float32Array, scale = SIGN_FLIP_SCALE): Float32Array {
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) out[i] = base[i]! - scale * (trained[i]! - base[i]!);
  return out;
}

/** The same rows with every binary label flipped. */
export function flipLabels(split: Split): Split {
  return { ...split, y: Float32Array.from(split.y, (v) => 1 - v) };
}

/** L2 norm of trained − base (float64). */
export function deltaNorm(base: Float32Array, trained: Float32Array): number {
  let s = 0;
  for (let i = 0; i < base.length; i++) s += (trained[i]! - base[i]!) ** 2;
  return Math.sqrt(s);
}

/** base + ξ with ξ ~ N(0, I) rescaled to ‖trained − base‖. */
export function gaussianLike(base: Float32Array, trained: Float32Array, rng: SeededRandom): Float32Array {
  const target = deltaNorm(base, trained);
  const noise = Array.from(base, () => rng.normal());
  const norm = Math.sqrt(noise.reduce((a, v) => a + v * v, 0)) || 1;
  return Float32Array.from(base, (b, i) => b + (noise[i]! * target) / norm);
}

/** base + μ − z·σ per coordinate, μ and σ the mean and sample std of the simulated deltas. */
export function littleIsEnough(base: Float32Array, simulated: readonly Float32Array[], z = ALIE_Z): Float32Array {
  const k = simulated.length;
  if (k < 2) throw new Error('a little is enough needs at least 2 simulated updates');
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    let mean = 0;
    for (const w of simulated) mean += w[i]! - base[i]!;
    mean /= k;
    let v = 0;
    for (const w of simulated) v += (w[i]! - base[i]! - mean) ** 2;
    out[i] = base[i]! + mean - z * Math.sqrt(v / (k - 1));
  }
  return out;
}

/** `n` rows drawn with replacement from `split` (seeded). */
export function bootstrap(split: Split, rng: SeededRandom): Split {
  const x = new Float32Array(split.n * split.d);
  const y = new Float32Array(split.n);
  for (let r = 0; r < split.n; r++) {
    const from = rng.int(split.n);
    x.set(split.x.subarray(from * split.d, (from + 1) * split.d), r * split.d);
    y[r] = split.y[from]!;
  }
  return { x, y, n: split.n, d: split.d };
}

const withData = (base: WeightSet, data: Float32Array): WeightSet => ({ layout: base.layout, data });

/** A trainer whose rounds are the real trainer's, with the update replaced by `tamper`. */
class TamperingTrainer implements Trainer {
  constructor(
    private readonly real: Trainer,
    private readonly tamper: (
      base: Float32Array,
      result: TrainRoundResult,
      options: TrainRoundOptions,
    ) => Promise<Float32Array>,
    private readonly helpers: readonly Trainer[] = [],
  ) {}

  get stepsPerRound(): number {
    return this.real.stepsPerRound;
  }

  async trainRound(options: TrainRoundOptions): Promise<TrainRoundResult> {
    const result = await this.real.trainRound(options);
    const weights = withData(result.weights, await this.tamper(options.weights.data, result, options));
    // numExamples stays the real one: the attack is in the update, not in the claimed weight.
    return { ...result, weights };
  }

  dispose(): void {
    this.real.dispose();
    for (const h of this.helpers) h.dispose();
  }
}

/** Options of {@link attackingOps}. */
interface AttackingOpsOptions {
  attack: AttackName;
  /** Seeds the Gaussian noise and the ALIE resamples. */
  seed: number;
  /** The honest operations wrapped (default the product's). */
  inner?: ModelOps;
}

/** Model operations of a malicious site: the real trainer, wrapped by `attack`; evaluation is the real one. */
export function attackingOps(opts: AttackingOpsOptions): ModelOps {
  const inner = opts.inner ?? defaultModelOps;
  const rng = new SeededRandom(opts.seed);
  const createTrainer = async (options: CreateTrainerOptions): Promise<Trainer> => {
    switch (opts.attack) {
      case 'label-flip':
        return inner.createTrainer({ ...options, data: flipLabels(options.data) });
      case 'sign-flip':
        return new TamperingTrainer(await inner.createTrainer(options), async (base, r) =>
          signFlip(base, r.weights.data),
        );
      case 'gaussian':
        return new TamperingTrainer(await inner.createTrainer(options), async (base, r) =>
          gaussianLike(base, r.weights.data, rng),
        );
      case 'alie': {
        const helpers: Trainer[] = [];
        for (let k = 1; k < ALIE_SIMULATED; k++) {
          helpers.push(
            await inner.createTrainer({
              ...options,
              data: bootstrap(options.data, rng),
              seed: (options.seed + 7919 * k) >>> 0,
            }),
          );
        }
        const tamper = async (base: Float32Array, r: TrainRoundResult, o: TrainRoundOptions): Promise<Float32Array> => {
          const simulated = [r.weights.data];
          for (const h of helpers) simulated.push((await h.trainRound(o)).weights.data);
          return littleIsEnough(base, simulated);
        };
        return new TamperingTrainer(await inner.createTrainer(options), tamper, helpers);
      }
    }
  };
  return { createTrainer, evaluate: (o) => inner.evaluate(o) };
}

/**
 * Model operations of a site that takes no part in the model: it trains (so its round timing is real) but sends
 * the round's base unchanged — a zero delta — claiming one example, the least a header allows. Under FedAvg its
 * weight is 1/(1 + the honest examples): the aggregate is the honest sites' mean scaled by ≥ 0.996. This is the
 * bench's reference for "a rule that identifies and drops the attacker every round" (not an attack, not a plan
 * option); evaluation stays honest, so the centre is still scored on its test rows.
 */
export function excludedOps(inner: ModelOps = defaultModelOps): ModelOps {
  const createTrainer = async (options: CreateTrainerOptions): Promise<Trainer> => {
    const real = await inner.createTrainer(options);
    return {
      get stepsPerRound() {
        return real.stepsPerRound;
      },
      async trainRound(o: TrainRoundOptions): Promise<TrainRoundResult> {
        const result = await real.trainRound(o);
        return { ...result, weights: withData(result.weights, o.weights.data.slice()), numExamples: 1 };
      },
      dispose: () => real.dispose(),
    };
  };
  return { createTrainer, evaluate: (o) => inner.evaluate(o) };
}

/** Model operations that pass every update through unchanged and show it to `observe` (base, then what is sent). */
export function observingOps(inner: ModelOps, observe: (base: Float32Array, sent: Float32Array) => void): ModelOps {
  const createTrainer = async (options: CreateTrainerOptions): Promise<Trainer> => {
    const real = await inner.createTrainer(options);
    return new TamperingTrainer(real, async (base, r) => {
      observe(base, r.weights.data);
      return r.weights.data;
    });
  };
  return { createTrainer, evaluate: (o) => inner.evaluate(o) };
}

/** Honest model operations that record the L2 norm of every update they train (to choose a clip norm). */
export function measuringOps(sink: number[], inner: ModelOps = defaultModelOps): ModelOps {
  return observingOps(inner, (base, sent) => sink.push(deltaNorm(base, sent)));
}

/** Cosine similarity of two deltas from the same base (float64; 0 when either is zero). */
export function deltaCosine(base: Float32Array, a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < base.length; i++) {
    const x = a[i]! - base[i]!;
    const y = b[i]! - base[i]!;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
