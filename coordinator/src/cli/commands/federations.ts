/** `twinfed federations create|amend|status|report`: start a federation from a plan file, amend its plan, watch its rounds and the sites' decisions. */
import type { Command } from 'commander';
import { planDigest, type FederationView, type RoundView, type SiteDecisionView } from '@twinfed/shared';
import { createContext, type CliDeps } from '../context';
import { registerFederationReport } from './federation-report';
import { renderKeyValues, renderTable, short, type Column } from '../format';
import { readPlanFile } from '../plan-file';
import { roundMetrics, selectRows } from '../round-metrics';
import { renderRoundMetrics, renderSiteMetrics } from '../round-metrics-table';
import { dpLine, governanceLine, modelLine, planWarnings } from '../plan-summary';

const federationColumns: Column<FederationView>[] = [
  { header: 'ID', cell: (f) => f.id },
  { header: 'NAME', cell: (f) => f.name },
  { header: 'STUDY', cell: (f) => f.studyId },
  { header: 'STATE', cell: (f) => f.state },
  { header: 'ROUND', cell: (f) => `${f.currentRound}/${f.plan.rounds}`, right: true },
  { header: 'STRATEGY', cell: (f) => f.plan.strategy.name },
  { header: 'LATEST VERSION', cell: (f) => f.latestVersionId },
  { header: 'UPDATED', cell: (f) => f.updatedAt },
];

const decisionColumns: Column<SiteDecisionView>[] = [
  { header: 'SITE', cell: (d) => d.siteName },
  { header: 'ID', cell: (d) => d.siteId },
  {
    header: 'DECISION',
    cell: (d) =>
      d.decision === 'pending' && d.planSha256 !== null ? 'pending (decided on an earlier plan)' : d.decision,
  },
  { header: 'DECIDED', cell: (d) => d.decidedAt },
];

/** Each site's decision on the federation's current plan, by site name. */
function renderDecisions(f: FederationView, decisions: readonly SiteDecisionView[]): string {
  const sorted = [...decisions].sort(
    (a, b) => a.siteName.localeCompare(b.siteName) || a.siteId.localeCompare(b.siteId),
  );
  return `Plan decisions (plan ${short(planDigest(f.plan))})\n${renderTable(sorted, decisionColumns, '(no enrolled sites)')}`;
}

/** The round still in progress, if any: `2 (collecting, 1/2 received, deadline …)`. */
function openRound(rounds: readonly RoundView[]): string | null {
  const r = [...rounds]
    .reverse()
    .find((x) => x.state === 'open' || x.state === 'collecting' || x.state === 'aggregating');
  return r
    ? `${r.round} (${r.state}, ${r.received}/${r.selectedSiteIds.length} received, base ${r.baseVersionId}, deadline ${r.deadlineAt})`
    : null;
}

function describe(f: FederationView, rounds: readonly RoundView[]): string {
  const p = f.plan;
  return renderKeyValues([
    ['federation', f.id],
    ['name', f.name],
    ['study', f.studyId],
    ['state', f.state],
    ['model', modelLine(p.model)],
    ['strategy', p.strategy.name],
    ['round', `${f.currentRound} of ${p.rounds}`],
    ['open round', openRound(rounds)],
    ['min sites', p.minSites],
    ['secure aggregation', p.privacy.secureAggregation ? 'on' : 'off'],
    ['differential privacy', dpLine(p)],
    ['plan approval', governanceLine(p)],
    ['latest version', f.latestVersionId],
    ['created', f.createdAt],
    ['updated', f.updatedAt],
  ]);
}

/** Adds the `federations` command group to `program`. */
export function registerFederations(program: Command, deps: CliDeps): void {
  const federations = program
    .command('federations')
    .description('Create federations from plan files and follow their rounds.')
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed federations create --plan plan.json\n  $ twinfed federations status\n  $ twinfed federations status heart-fedavg\n',
    );

  federations
    .command('create')
    .description(
      'Validate a federation plan (model, features, strategy, local training, rounds, quorum, deadline, privacy) and start it. ' +
        'The plan is checked locally first; problems are listed with their path and nothing is sent (exit status 2).',
    )
    .requiredOption('--plan <file>', 'the plan JSON file')
    .option('--study <id>', 'the study it belongs to (see `twinfed studies list`; default: the study "default")')
    .addHelpText(
      'after',
      '\nExample:\n  $ twinfed federations create --plan plan.json --study study-heart-2026-3fa2c1\n\n' +
        'A minimal plan.json:\n' +
        '  { "name": "heart-fedavg",\n' +
        '    "model": { "kind": "logistic-regression", "inputs": 2 },\n' +
        '    "data": { "features": ["age", "chol"], "label": "target" },\n' +
        '    "strategy": { "name": "fedavg" },\n' +
        '    "training": { "epochs": 1, "batchSize": 32, "lr": 0.01 },\n' +
        '    "rounds": 10, "minSites": 2 }\n' +
        '\nEvery field, its default and the rules between fields: docs/plan.md (or `twinfed plan schema`); examples in examples/plans/.\n' +
        'Check a plan without sending it: twinfed plan check plan.json\n',
    )
    .action(async (opts: { plan: string; study?: string }, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const plan = await readPlanFile(opts.plan);
      for (const w of planWarnings(plan)) deps.stderr.write(`${w}\n`);
      const f = await ctx.client.createFederation(plan, opts.study);
      ctx.emit(
        f,
        () =>
          `Created federation ${f.id} (${f.name}) in study ${f.studyId}: ${f.plan.rounds} rounds of ${f.plan.strategy.name}, state ${f.state}.\n` +
          `Follow it with: twinfed federations status ${f.id}`,
      );
    });

  federations
    .command('amend')
    .description(
      'Replace the plan of a federation whose round 1 has not opened (e.g. one waiting for the sites’ approvals). The new plan ' +
        'is checked locally first (problems listed with their path, exit status 2, nothing sent). Decisions are about a plan’s ' +
        'hash, so every site’s decision is pending again. Once a round opened the plan can no longer change (FEDERATION_STARTED).',
    )
    .argument('<id>', 'a federation id')
    .requiredOption('--plan <file>', 'the new plan JSON file')
    .addHelpText('after', '\nExample:\n  $ twinfed federations amend fed-1a2b3c4d --plan plan-v2.json\n')
    .action(async (id: string, opts: { plan: string }, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const plan = await readPlanFile(opts.plan);
      for (const w of planWarnings(plan)) deps.stderr.write(`${w}\n`);
      const f = await ctx.client.amendPlan(id, plan);
      ctx.emit(
        f,
        () =>
          `Amended the plan of ${f.id} (${f.name}): now ${short(planDigest(f.plan))}, ${f.plan.rounds} rounds; every site's decision is pending again.\n` +
          `plan approval: ${governanceLine(f.plan)}\n` +
          `Follow the sites' decisions with: twinfed federations status ${f.id}`,
      );
    });

  federations
    .command('status')
    .description(
      "Without an id: a table of all federations. With an id: that federation, its plan summary, each site's decision on its current plan (site, decision, when) and its rounds, each with " +
        'the version it produced and how the sites rated that version on their own held-out data: how many sites evaluated it ' +
        'and the mean over sites and the range (min–max) of accuracy and AUC ("n/a: k" counts sites that could not compute a metric, ' +
        'e.g. AUC on a single-class test set). More than 20 rounds are thinned to the first, every k-th and the last unless --all.',
    )
    .argument('[id]', 'a federation id')
    .option('--all', 'show every round, however many')
    .option('--sites', 'add the per-site table: each site × round, accuracy/AUC')
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed federations status\n  $ twinfed federations status heart-fedavg --sites\n  $ twinfed federations status heart-fedavg --json\n\n' +
        '--json prints { federation, rounds, progress, decisions } with every round (never thinned) and every metric the sites reported ' +
        '(mean, min, max, count, missing); with --sites each progress row also lists the sites’ own values.\n',
    )
    .action(async (id: string | undefined, opts: { all?: boolean; sites?: boolean }, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      if (id === undefined) {
        const list = await ctx.client.listFederations();
        ctx.emit(list, () =>
          renderTable(
            list,
            federationColumns,
            '(no federations yet — create one with `twinfed federations create --plan plan.json`)',
          ),
        );
        return;
      }
      const federation = await ctx.client.getFederation(id);
      const [rounds, evaluations, sites, decisions] = await Promise.all([
        ctx.client.listRounds(id),
        ctx.client.federationEvaluations(id),
        opts.sites ? ctx.client.listSites() : Promise.resolve(null),
        ctx.client.federationDecisions(id),
      ]);
      const sorted = [...rounds].sort((a, b) => a.round - b.round);
      const progress = roundMetrics(sorted, evaluations, sites ? new Map(sites.map((s) => [s.id, s.name])) : undefined);
      ctx.emit({ federation, rounds: sorted, progress, decisions }, () => {
        const { rows, step } = selectRows(progress, opts.all === true);
        const perSite = opts.sites ? `\n${renderSiteMetrics(rows)}` : '';
        return (
          `${describe(federation, sorted)}\n${renderDecisions(federation, decisions)}\n` +
          `${renderRoundMetrics(progress, rows, step)}${perSite}`
        );
      });
    });
  registerFederationReport(federations, deps);
}
