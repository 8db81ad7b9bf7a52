import { startBenchConsortium } from '../flamby/consortium';
import { runBenchFederation } from '../flamby/federated';
import { benchSiteSeed } from '../flamby/methods';
import { defaultModelOps } from '@twinfed/site-client';
import {
  attackingOps,
  deltaCosine,
  deltaNorm,
  excludedOps,
  measuringOps,
  observingOps,
  type AttackName,
} from './attacks';
import { byzantinePlan, CONFIGS, type ByzantineConfig } from './configs';

/**
 * `none` is the clean run of a configuration (its cost without an attack); `excluded` is the ceiling reference —
 * FedAvg with the attacker's centre taking no part in the model (see `excludedOps`), what a rule that always finds
 * and drops the attacker would reach. It is not an attack and no plan selects it.
 */
export type Scenario = 'none' | AttackName | 'excluded';

/** One federation of the bench: the final version's per-centre scores. */
export interface ByzantineRun {
  config: string;
  scenario: Scenario;
  seed: number;
  attacker: number | null;
  accuracy: number[];
  auc: number[];
  /** 4-centre average accuracy after each round. */
  curve: number[];
  /**
   * The updates the four sites sent in round 1 (same base, the seed's initial model, in every configuration):
   * L2 norm per centre, and cosine similarity per pair of centres in the order of {@link CENTRE_PAIRS}. Absent in
   * results written before it was recorded.
   */
  firstRound?: { norms: number[]; cosines: number[] };
  seconds: number;
}

/** Options of {@link runByzantineBench}. */
interface ByzantineBenchOptions {
  seeds: readonly number[];
  configs: readonly ByzantineConfig[];
  scenarios: readonly Scenario[];
  /** The FLamby centre whose site is malicious. */
  attacker: number;
  rounds?: number;
  log?: (line: string) => void;
  /** Seeds for which to run the ceiling reference (FedAvg, attacker `excluded`) too; default none. */
  ceilingSeeds?: readonly number[];
  /** Called after every seed with everything run so far (the CLI writes its results then, so a long run keeps what it finished). */
  onSeed?: (done: { runs: readonly ByzantineRun[]; honestNorms: readonly number[]; seeds: readonly number[] }) => void;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Pairs of centres, in the order of `firstRound.cosines`. */
export const CENTRE_PAIRS: ReadonlyArray<readonly [number, number]> = [
  [0, 1],
  [0, 2],
  [0, 3],
  [1, 2],
  [1, 3],
  [2, 3],
];

/**
 * Every configuration × scenario × seed as a real federation: the product's coordinator (in process, loopback)
 * and four `SiteRunner`s over signed HTTP and socket.io; under attack, the attacker centre's runner gets
 * `attackingOps` as its model operations (its trainer wrapped), the other three are untouched.
 */
export async function runByzantineBench(
  opts: ByzantineBenchOptions,
): Promise<{ runs: ByzantineRun[]; honestNorms: number[]; seconds: number }> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const runs: ByzantineRun[] = [];
  // L2 norms of the honest updates of clean FedAvg (every centre, round and seed): what a clip norm is chosen from.
  const honestNorms: number[] = [];
  const consortium = await startBenchConsortium();
  const runOne = async (config: ByzantineConfig, scenario: Scenario, seed: number): Promise<void> => {
    const t = Date.now();
    const plan = { ...byzantinePlan(config, seed), ...(opts.rounds ? { rounds: opts.rounds } : {}) };
    const first: Array<{ base: Float32Array; sent: Float32Array } | undefined> = [];
    const opsOf = (center: number) => {
      if (scenario === 'excluded') return center === opts.attacker ? excludedOps() : defaultModelOps;
      if (scenario !== 'none')
        return center === opts.attacker
          ? attackingOps({ attack: scenario, seed: benchSiteSeed(seed, 100 + center) })
          : defaultModelOps;
      return config.key === 'fedavg' ? measuringOps(honestNorms) : defaultModelOps;
    };
    const out = await runBenchFederation({
      consortium,
      plan,
      siteSeed: (center) => benchSiteSeed(seed, center),
      modelOps: (center) =>
        observingOps(
          opsOf(center),
          (base, sent) => void (first[center] ??= { base: base.slice(), sent: sent.slice() }),
        ),
    });
    const last = out.versions[out.versions.length - 1];
    if (!last) throw new Error(`${config.key} × ${scenario} seed ${seed}: no published version`);
    const run: ByzantineRun = {
      config: config.key,
      scenario,
      seed,
      attacker: scenario === 'none' ? null : opts.attacker,
      accuracy: last.accuracy,
      auc: last.auc,
      curve: out.versions.map((v) => mean(v.accuracy)),
      // The excluded centre sends a zero delta: it has no direction to compare.
      ...(scenario === 'excluded' ? {} : { firstRound: firstRoundGeometry(first) }),
      seconds: (Date.now() - t) / 1000,
    };
    runs.push(run);
    log(
      `seed ${seed} ${config.label.padEnd(22)} ${scenario.padEnd(10)} acc ${run.accuracy.map((a) => a.toFixed(3)).join(' ')} avg ${mean(run.accuracy).toFixed(4)} auc ${mean(run.auc).toFixed(3)} (${run.seconds.toFixed(1)} s)`,
    );
  };
  const fedavg = CONFIGS.find((c) => c.key === 'fedavg')!;
  try {
    const seeds = [...new Set([...opts.seeds, ...(opts.ceilingSeeds ?? [])])];
    for (const [i, seed] of seeds.entries()) {
      if (opts.seeds.includes(seed))
        for (const config of opts.configs) for (const scenario of opts.scenarios) await runOne(config, scenario, seed);
      if (opts.ceilingSeeds?.includes(seed)) await runOne(fedavg, 'excluded', seed);
      opts.onSeed?.({ runs, honestNorms, seeds: seeds.slice(0, i + 1) });
    }
  } finally {
    await consortium.close();
  }
  return { runs, honestNorms, seconds: (Date.now() - started) / 1000 };
}

/** Norms and pairwise cosines of the four round-1 updates as sent. */
function firstRoundGeometry(
  first: ReadonlyArray<{ base: Float32Array; sent: Float32Array } | undefined>,
): NonNullable<ByzantineRun['firstRound']> {
  const got = [0, 1, 2, 3].map((c) => {
    const f = first[c];
    if (!f) throw new Error(`centre ${c} sent no round-1 update`);
    return f;
  });
  return {
    norms: got.map((f) => deltaNorm(f.base, f.sent)),
    cosines: CENTRE_PAIRS.map(([a, b]) => deltaCosine(got[a]!.base, got[a]!.sent, got[b]!.sent)),
  };
}
