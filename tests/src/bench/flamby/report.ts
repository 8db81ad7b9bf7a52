import type { FlambyBenchResult } from './run';
import type { Row } from './summary';

const f3 = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3);
const signed = (x: number | null): string => (x === null ? '–' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`);

function verdict(r: Row): string {
  if (r.pass === null) return 'n/a';
  return r.pass ? 'pass' : '**FAIL**';
}

function band(r: Row): string {
  if (r.tolerance === null || r.published === null) return '–';
  return r.reference === 'Pooled' && r.method !== 'Pooled'
    ? `≥ ${(r.published - r.tolerance).toFixed(3)}`
    : `±${r.tolerance.toFixed(2)}`;
}

/** The benchmark table in markdown, with the recipe, the notes and the run's context. */
export function flambyMarkdown(result: FlambyBenchResult, meta: Record<string, string>): string {
  const rows = result.rows;
  const lines = [
    '# FLamby Fed-Heart-Disease, reproduced through twinfed',
    '',
    ...Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`),
    '',
    "Accuracy of the final model on each center's own test rows (0 Cleveland n=104, 1 Hungarian n=89, 2 Switzerland n=16, 3 VA n=45), " +
      `mean over seeds ${result.seeds.join(', ')}; "avg" is the unweighted 4-center average (FLamby's bar). ` +
      '"FLamby" is the published mean over seeds 42–46 (BENCHMARK.md §4). AUC is the mean ROC-AUC over the four centers. ' +
      '"rounds→final" is the first round from which the 4-center average accuracy stays within 0.01 of its final value (seed-mean curve).',
    '',
    '| method | c0 | c1 | c2 | c3 | avg | sd | FLamby | diff | band | result | AUC | rounds→final |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.method} | ${r.perCentre.map(f3).join(' | ')} | **${f3(r.average)}** | ${f3(r.sd)} | ${f3(r.published)} | ${signed(r.diff)} | ${band(r)} | ${verdict(r)} | ${f3(r.auc)} | ${r.roundsToFinal === null ? '–' : `${r.roundsToFinal} / ${r.rounds}`} |`,
    ),
    '',
    ...seedSection(result),
    '## How each row was produced',
    '',
    "- **Pooled, Local i**: the product's trainer (`createTrainer` of @twinfed/models: persistent shuffled batches, Adam lr 1e-3, batch 4, 50 epochs) " +
      "from the seed's initial model (PyTorch's for that seed, as FLamby's). Pooled trains on all 486 train rows z-scored with pooled statistics and — FLamby's evaluation quirk (BENCHMARK.md §1.9) — " +
      "is scored on each center's test rows z-scored with that center's own statistics.",
    '- **Federated rows**: a real federation per seed and method: the coordinator (`startCoordinator`, memory store) and four `SiteRunner`s in one process, ' +
      'talking signed HTTP and socket.io over 127.0.0.1; sites enrolled with one-time tokens; updates sealed and signed; every published version ' +
      'verified and evaluated by each site on its own test rows, and the scores read back from the coordinator. 15 rounds × 100 local SGD steps of batch 4, ' +
      "size-weighted aggregation, FLamby's hyperparameters per strategy, the plan seed's initial model (PyTorch's for that seed), site batch order seeded from (seed, center).",
    ...rows.filter((r) => r.note).map((r) => `- **${r.method}**: ${r.note}`),
    '',
    `Total ${result.seconds.toFixed(0)} s.`,
    '',
  ];
  return lines.join('\n');
}

function seedSection(result: FlambyBenchResult): string[] {
  const rows = result.rows.filter((r) => r.seedMatch && r.reference === r.method && r.tolerance !== null);
  if (rows.length === 0) return [];
  return [
    '## Seed for seed',
    '',
    "Every method of a seed starts from PyTorch's initial weights for that seed (`torch.manual_seed(seed); nn.Linear(13, 1)`, reproduced bit for bit by " +
      "`initialWeights` of @twinfed/shared), the same start FLamby's runs had; only the batch order differs (ours is seeded per site, FLamby's comes from " +
      'PyTorch\'s DataLoader). So each seed can be compared with FLamby\'s own run of it: "same" counts the (seed, center) cells where both models get exactly ' +
      'the same number of test rows right; "mean |Δ|" is the mean over seeds of the difference of the 4-center averages.',
    '',
    '| method | same (seed × center) | mean \\|Δ\\| per seed |',
    '|---|---|---|',
    ...rows.map(
      (r) => `| ${r.method} | ${r.seedMatch!.same} / ${r.seedMatch!.cells} | ${f3(r.seedMatch!.meanAbsDiff)} |`,
    ),
    '',
  ];
}

/** The JSON written beside the markdown: `{rows: [{method, perCentre, average, published, diff, pass, auc, roundsToFinal, …}], perSeed, …}`. */
export function flambyJson(result: FlambyBenchResult, meta: Record<string, string>): unknown {
  return { meta, seeds: result.seeds, seconds: result.seconds, rows: result.rows, perSeed: result.perSeed };
}
