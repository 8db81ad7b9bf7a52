/** `twinfed plan schema|check`: the plan format as JSON Schema, and a local check of a plan file. */
import type { Command } from 'commander';
import { planJsonSchema, type Plan } from '@twinfed/shared';
import { createContext, type CliDeps } from '../context';
import { renderKeyValues } from '../format';
import { readPlanFile } from '../plan-file';
import { dataLine, dpLine, governanceLine, modelLine, planWarnings, trainingLine } from '../plan-summary';

function strategyLine(s: Plan['strategy']): string {
  const params = Object.entries(s)
    .filter(([k]) => k !== 'name')
    .map(([k, v]) => `${k} ${String(v)}`);
  return params.length ? `${s.name} (${params.join(', ')})` : s.name;
}

/** The short summary `plan check` prints for a valid plan. */
export function planSummary(plan: Plan): string {
  return renderKeyValues([
    ['plan', plan.name],
    ['model', modelLine(plan.model)],
    ['data', dataLine(plan.data)],
    ['strategy', strategyLine(plan.strategy)],
    ['training', trainingLine(plan.training)],
    ['rounds', `${plan.rounds}, deadline ${plan.roundDeadlineSeconds} s, close at ${plan.closeAt}`],
    [
      'sites',
      `at least ${plan.minSites}${plan.sitesPerRound !== undefined ? `, ${plan.sitesPerRound} selected per round` : ''}`,
    ],
    ['secure aggregation', plan.privacy.secureAggregation ? 'on' : 'off'],
    ['differential privacy', dpLine(plan)],
    ['update clipping', plan.clipping ? `each site update to L2 ≤ ${plan.clipping.maxNorm}` : 'off'],
    ['plan approval', governanceLine(plan)],
  ]);
}

/** Adds the `plan` command group to `program`. Nothing here talks to a coordinator. */
export function registerPlan(program: Command, deps: CliDeps): void {
  const plan = program
    .command('plan')
    .description(
      'The federation plan format: print its JSON Schema, or check a plan file locally (nothing is sent). Every field is described in docs/plan.md.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed plan schema > plan.schema.json\n  $ twinfed plan check examples/plans/heart-fedavg-lr.json\n',
    );

  plan
    .command('schema')
    .description(
      'Print the JSON Schema (draft 2020-12) of a plan file: every field with its type, default, allowed values and meaning. Cross-field rules are checked by `plan check`.',
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ twinfed plan schema > plan.schema.json     # for editor completion and validation\n',
    )
    .action(() => {
      deps.stdout.write(`${JSON.stringify(planJsonSchema(), null, 2)}\n`);
    });

  plan
    .command('check')
    .description(
      'Validate a plan file as `federations create` would, without contacting the coordinator. Prints a short summary, or every problem with its path (exit status 2).',
    )
    .argument('<plan.json>', 'the plan file')
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed plan check plan.json\n  $ twinfed plan check examples/plans/twin-infection-risk.json --json\n',
    )
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const checked = await readPlanFile(file);
      for (const w of planWarnings(checked)) deps.stderr.write(`${w}\n`);
      ctx.emit({ valid: true, plan: checked }, () => `${file}: a valid plan.\n${planSummary(checked)}`);
    });
}
