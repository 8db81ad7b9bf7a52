import { ATTACK_NOTES, ATTACKS } from './attacks';
import type { ByzantineConfig } from './configs';
import { CENTRE_PAIRS, type ByzantineRun, type Scenario } from './run';

/** The goal: under each attack, the best configuration a plan can select stays within this of clean FedAvg. */
const TOLERANCE = 0.03;

const mean = (xs: readonly number[]): number => {
  const ok = xs.filter((x) => Number.isFinite(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : Number.NaN;
};
const sd = (xs: readonly number[]): number => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

/** Seed-means over a set of runs (one per seed), compared with clean FedAvg. */
interface SeedMean {
  /** Seed-mean of the 4-centre average accuracy. */
  accuracy: number;
  /** Standard deviation over seeds of the 4-centre average accuracy. */
  sd: number;
  /** Seed-mean of the 4-centre average ROC-AUC. */
  auc: number;
  perCentre: number[];
  /** accuracy − clean FedAvg's. */
  vsCleanFedAvg: number;
  seeds: number;
}

/** Seed-mean of one configuration × scenario. */
interface Cell extends SeedMean {
  config: string;
  scenario: Scenario;
}

/** Per attack: the best configuration and whether it meets the goal. */
interface Verdict {
  scenario: Scenario;
  best: string;
  accuracy: number;
  vsCleanFedAvg: number;
  pass: boolean;
}

/** Seed-mean geometry of the round-1 updates of one scenario (see `ByzantineRun.firstRound`). */
interface FirstRoundGeometry {
  scenario: Scenario;
  norms: number[];
  cosines: number[];
  seeds: number;
}

/** FedAvg with the attacker taking no part (scenario `excluded`): the best a rule that always drops it can reach. */
type Ceiling = SeedMean;

interface ByzantineSummary {
  cleanFedAvg: { accuracy: number; auc: number };
  /** Absent when no `excluded` run was made. */
  ceiling?: Ceiling;
  firstRound: FirstRoundGeometry[];
  cells: Cell[];
  verdicts: Verdict[];
  /** The configuration whose worst case over the scenarios (no attack included) is highest. */
  recommended: { config: string; worst: number; worstScenario: Scenario };
}

/** The seed-means of `runs` (one per seed), with the accuracy's difference to `cleanAcc`. */
function seedMean(runs: readonly ByzantineRun[], cleanAcc: number): SeedMean {
  const avg = runs.map((r) => mean(r.accuracy));
  const accuracy = mean(avg);
  return {
    accuracy,
    sd: sd(avg),
    auc: mean(runs.map((r) => mean(r.auc))),
    perCentre: [0, 1, 2, 3].map((k) => mean(runs.map((r) => r.accuracy[k]!))),
    vsCleanFedAvg: accuracy - cleanAcc,
    seeds: runs.length,
  };
}

/** Seed-means, the comparison with clean FedAvg and the verdicts. */
export function summarise(
  runs: readonly ByzantineRun[],
  configs: readonly ByzantineConfig[],
  scenarios: readonly Scenario[],
): ByzantineSummary {
  const avg = (r: ByzantineRun) => mean(r.accuracy);
  const clean = runs.filter((r) => r.config === 'fedavg' && r.scenario === 'none');
  const cleanAcc = clean.length ? mean(clean.map(avg)) : Number.NaN;
  const cleanAuc = clean.length ? mean(clean.map((r) => mean(r.auc))) : Number.NaN;
  const cells: Cell[] = [];
  for (const c of configs) {
    for (const s of scenarios) {
      const rs = runs.filter((r) => r.config === c.key && r.scenario === s);
      if (!rs.length) continue;
      cells.push({ config: c.key, scenario: s, ...seedMean(rs, cleanAcc) });
    }
  }
  const verdicts: Verdict[] = scenarios
    .filter((s) => s !== 'none')
    .map((s) => {
      const best = cells.filter((c) => c.scenario === s).sort((a, b) => b.accuracy - a.accuracy)[0];
      if (!best) return { scenario: s, best: '–', accuracy: Number.NaN, vsCleanFedAvg: Number.NaN, pass: false };
      return {
        scenario: s,
        best: best.config,
        accuracy: best.accuracy,
        vsCleanFedAvg: best.vsCleanFedAvg,
        pass: best.vsCleanFedAvg >= -TOLERANCE,
      };
    });
  const out = runs.filter((r) => r.config === 'fedavg' && r.scenario === 'excluded');
  const ceiling: Ceiling | undefined = out.length ? seedMean(out, cleanAcc) : undefined;
  let recommended = { config: '–', worst: Number.NEGATIVE_INFINITY, worstScenario: 'none' as Scenario };
  for (const c of configs) {
    const mine = cells.filter((x) => x.config === c.key);
    if (mine.length !== scenarios.length) continue;
    const worst = mine.reduce((w, x) => (x.accuracy < w.accuracy ? x : w));
    if (worst.accuracy > recommended.worst)
      recommended = { config: c.key, worst: worst.accuracy, worstScenario: worst.scenario };
  }
  return {
    cleanFedAvg: { accuracy: cleanAcc, auc: cleanAuc },
    ...(ceiling ? { ceiling } : {}),
    firstRound: firstRoundGeometry(runs, scenarios),
    cells,
    verdicts,
    recommended,
  };
}

/** Per scenario, the round-1 geometry averaged over seeds (one run per seed: round 1 is the same in every configuration). */
function firstRoundGeometry(runs: readonly ByzantineRun[], scenarios: readonly Scenario[]): FirstRoundGeometry[] {
  const out: FirstRoundGeometry[] = [];
  for (const s of scenarios) {
    const bySeed = new Map<number, NonNullable<ByzantineRun['firstRound']>>();
    for (const r of runs) if (r.scenario === s && r.firstRound && !bySeed.has(r.seed)) bySeed.set(r.seed, r.firstRound);
    const all = [...bySeed.values()];
    if (!all.length) continue;
    const avg = (pick: (g: NonNullable<ByzantineRun['firstRound']>) => number[], k: number) =>
      mean(all.map((g) => pick(g)[k]!));
    out.push({
      scenario: s,
      norms: [0, 1, 2, 3].map((k) => avg((g) => g.norms, k)),
      cosines: CENTRE_PAIRS.map((_, k) => avg((g) => g.cosines, k)),
      seeds: all.length,
    });
  }
  return out;
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
const signed = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}` : '–');

/** The markdown report. */
export function byzantineMarkdown(opts: {
  summary: ByzantineSummary;
  configs: readonly ByzantineConfig[];
  scenarios: readonly Scenario[];
  meta: Record<string, string>;
  attackerName: string;
  clipNorms?: { median: number; p90: number; max: number; count: number };
}): string {
  const { summary, configs, scenarios, meta } = opts;
  const label = (key: string) => configs.find((c) => c.key === key)?.label ?? key;
  const cell = (c: string, s: Scenario) => summary.cells.find((x) => x.config === c && x.scenario === s);
  const out: string[] = ['# Byzantine sites on Fed-Heart-Disease', ''];
  for (const [k, v] of Object.entries(meta)) out.push(`- ${k}: ${v}`);
  out.push(
    '',
    `Four FLamby heart-disease centres, one real site process each (the product's \`SiteRunner\`: signed HTTP uploads of sealed updates, socket.io events, loopback). ` +
      `One site — **${opts.attackerName}** — is malicious: its runner's trainer is wrapped by the attack (bench code, \`tests/src/bench/byzantine/attacks.ts\`); ` +
      "it claims its real example count and evaluates honestly. Every configuration runs FLamby's FedAvg settings (15 rounds × 100 SGD steps, batch 4, lr 0.001, per-site z-score) with a different server rule; " +
      "accuracy is the final model on each centre's own test rows, averaged over the 4 centres (the attacker's centre included) and then over seeds.",
    '',
    `Clean FedAvg (the reference): **${f3(summary.cleanFedAvg.accuracy)}** accuracy, ${f3(summary.cleanFedAvg.auc)} AUC. Goal: under each attack the best configuration stays within ${TOLERANCE} of it.`,
    '',
    '## 4-centre average accuracy (AUC), and the difference from clean FedAvg',
    '',
    `| configuration | ${scenarios.map((s) => (s === 'none' ? 'no attack (cost)' : s)).join(' | ')} |`,
    `|---|${scenarios.map(() => '---').join('|')}|`,
  );
  for (const c of configs) {
    const cells = scenarios.map((s) => {
      const x = cell(c.key, s);
      return x ? `${f3(x.accuracy)} (${f3(x.auc)}) ${signed(x.vsCleanFedAvg)}` : '–';
    });
    out.push(`| ${c.label} | ${cells.join(' | ')} |`);
  }
  out.push(
    '',
    '## Which to choose',
    '',
    '| attack | best configuration | accuracy | vs clean FedAvg | within 0.03 |',
    '|---|---|---|---|---|',
  );
  for (const v of summary.verdicts)
    out.push(
      `| ${v.scenario} | ${label(v.best)} | ${f3(v.accuracy)} | ${signed(v.vsCleanFedAvg)} | ${v.pass ? 'yes' : '**no**'} |`,
    );
  const r = summary.recommended;
  out.push(
    '',
    `**Recommended: ${label(r.config)}** — the highest worst case over no attack and every attack (${f3(r.worst)}, under ${r.worstScenario}).`,
    '',
  );
  const ceiling = summary.ceiling;
  if (ceiling) {
    out.push(
      '## Ceiling: the attacker taking no part',
      '',
      `FedAvg where the attacker's centre trains but sends a zero delta with one example (weight ≤ 0.4 %), so the model is the other three centres' — what a rule that finds and drops the attacker in every round reaches, whatever the attack (a reference, not a plan option). ` +
        `Its centre is still scored on its own test rows. ${ceiling.seeds} seeds.`,
      '',
      '| reference | c0 | c1 | c2 | c3 | avg (AUC) | sd over seeds | vs clean FedAvg |',
      '|---|---|---|---|---|---|---|---|',
      `| FedAvg, attacker excluded | ${ceiling.perCentre.map(f3).join(' | ')} | ${f3(ceiling.accuracy)} (${f3(ceiling.auc)}) | ${f3(ceiling.sd)} | ${signed(ceiling.vsCleanFedAvg)} |`,
      '',
    );
  }
  const missed = summary.verdicts.filter((v) => !v.pass && Number.isFinite(v.accuracy));
  if (missed.length) {
    const reach = ceiling
      ? ` Dropping the attacker in every round would reach ${signed(ceiling.vsCleanFedAvg)} (the ceiling above), so what is missing is telling the attacker apart from an honest centre.`
      : '';
    out.push(
      `Not reached: ${missed.map((v) => v.scenario).join(', ')}.${reach} Why, with the evidence (the round-1 geometry below): docs/decisions.md, "Byzantine goal: what a data-free rule can and cannot reach".`,
      '',
    );
  }
  out.push(
    '## Per centre (seed-mean accuracy: c0 Cleveland, c1 Hungarian, c2 Switzerland, c3 VA)',
    '',
    '| configuration | scenario | c0 | c1 | c2 | c3 | avg | sd over seeds |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const x of summary.cells)
    out.push(
      `| ${label(x.config)} | ${x.scenario} | ${x.perCentre.map(f3).join(' | ')} | ${f3(x.accuracy)} | ${f3(x.sd)} |`,
    );
  if (summary.firstRound.length) {
    const c = (k: number) => `c${k}`;
    out.push(
      '',
      '## Round-1 updates as sent (seed-mean)',
      '',
      "Every configuration starts round 1 from the seed's initial model, so these are the first updates any rule sees: the L2 norm of each centre's delta, and the cosine similarity of each pair of centres' deltas.",
      '',
      `| scenario | ${[0, 1, 2, 3].map((k) => `‖Δ ${c(k)}‖`).join(' | ')} | ${CENTRE_PAIRS.map(([a, b]) => `cos ${c(a)}·${c(b)}`).join(' | ')} |`,
      `|---|${[0, 1, 2, 3].map(() => '---').join('|')}|${CENTRE_PAIRS.map(() => '---').join('|')}|`,
    );
    const signed2 = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;
    for (const g of summary.firstRound)
      out.push(`| ${g.scenario} | ${g.norms.map(f3).join(' | ')} | ${g.cosines.map(signed2).join(' | ')} |`);
  }
  out.push('', '## Attacks', '');
  for (const a of ATTACKS) if (scenarios.includes(a)) out.push(`- **${a}**: ${ATTACK_NOTES[a]}.`);
  out.push('', '## Configurations', '');
  for (const c of configs) out.push(`- **${c.label}** (\`${JSON.stringify(c.plan)}\`): ${c.note}.`);
  if (opts.clipNorms) {
    const n = opts.clipNorms;
    out.push(
      '',
      `Honest update norms (L2 of a site's delta from the round's base; ${n.count} updates: every centre, round and seed of clean FedAvg): median ${n.median.toFixed(3)}, 90th percentile ${n.p90.toFixed(3)}, max ${n.max.toFixed(3)}. The clip norm was chosen from these before the attacked runs.`,
    );
  }
  out.push('');
  return out.join('\n');
}
