/** `twinfed stats query|list|show`: federated cohort statistics of a study, before anyone proposes a plan. */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { CohortQuerySchema, TwinfedError, type CohortQuery, type CohortResult } from '@twinfed/shared';
import { renderCohortResult, renderQueryList } from '../cohort-result';
import { createContext, type CliDeps, type CommandContext } from '../context';
import { formatPath } from '../report-error';

/** Reads and validates a query file locally: VALIDATION_FAILED (exit 2) with the issues, nothing sent. */
async function readQueryFile(file: string): Promise<CohortQuery> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? 'not valid JSON';
    throw new TwinfedError('VALIDATION_FAILED', `Cannot read the cohort query ${file} (${why}).`);
  }
  const parsed = CohortQuerySchema.safeParse(raw);
  if (!parsed.success)
    throw new TwinfedError(
      'VALIDATION_FAILED',
      `The cohort query ${file} is not valid (see docs/cohort-statistics.md)`,
      {
        details: { issues: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) },
      },
    );
  return parsed.data;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 86_400) throw new InvalidArgumentError('expected whole seconds, 1 to 86400');
  return n;
}

/** Polls the result until no enrolled site is pending, or `timeoutS` passed (then NOT_READY, after printing it). */
async function waitForAnswers(
  ctx: CommandContext,
  id: string,
  timeoutS: number,
  pollMs: number,
): Promise<CohortResult> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const r = await ctx.client.cohortResult(id);
    const pending = r.sites.filter((s) => s.status === 'pending');
    // A secure pool completes (or fails) after the answers: wait for it too.
    const pooling = r.pool !== null && (r.pool.state === 'waiting' || r.pool.state === 'open');
    if (pending.length === 0 && r.pendingUnnamed === 0 && !pooling) return r;
    if (Date.now() >= deadline) {
      ctx.emit(r, () => renderCohortResult(r));
      if (pending.length === 0 && r.pendingUnnamed === 0)
        throw new TwinfedError(
          'NOT_READY',
          `The secure pool did not complete within ${timeoutS} s (${r.pool!.contributed} of ${r.pool!.cohort} cohort sites sent their masked vector; there is no dropout recovery); see later with: twinfed stats show ${id}`,
        );
      throw new TwinfedError(
        'NOT_READY',
        `${pending.length + r.pendingUnnamed} site(s) did not answer within ${timeoutS} s (${[...pending.map((s) => s.name), ...(r.pendingUnnamed ? [`${r.pendingUnnamed} outside your studies`] : [])].join(', ')}); ` +
          `see later answers with: twinfed stats show ${id}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Adds the `stats` command group to `program`. */
export function registerStats(program: Command, deps: CliDeps): void {
  const stats = program
    .command('stats')
    .description(
      'Federated cohort statistics of a study: counts and summaries (mean, sd, quartiles, pooled mean and variance) of ' +
        "the sites' eligible twins or CSV rows, each site answering under its own policy, k floor and noise. " +
        'Operators and researchers (TWINFED_TOKEN) may ask and read. See docs/cohort-statistics.md.',
    );

  stats
    .command('query')
    .description(
      'Post a cohort query for a study. The query file is checked locally first (exit status 2 with its problems, nothing sent). ' +
        'Sites see it with `twinfed-site stats list` and answer or refuse it.',
    )
    .requiredOption('--study <id>', 'the study the query is for')
    .requiredOption('--file <query.json>', 'the query (see docs/cohort-statistics.md)')
    .option('--wait', 'wait until every enrolled site answered or refused, then print the result')
    .option('--timeout <s>', 'with --wait: give up after this many seconds (exit status 1)', seconds, 300)
    .addHelpText(
      'after',
      '\nExample query.json (counts by age band and smoking, BMI summaries pooled across sites):\n' +
        '  { "title": "Smokers by age before the diabetes plan",\n' +
        '    "source": { "kind": "csv" },\n' +
        '    "groupBy": [ { "kind": "ageBand", "cuts": [45, 65] },\n' +
        '                 { "kind": "category", "feature": "smoker", "values": [0, 1], "labels": ["no", "yes"] } ],\n' +
        '    "summaries": { "features": ["bmi"], "statistics": ["mean", "sd", "quartiles"], "pooled": true } }\n' +
        '\n  $ twinfed stats query --study diabetes-2026 --file query.json --wait\n',
    )
    .action(async (opts: { study: string; file: string; wait?: boolean; timeout: number }, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const query = await readQueryFile(opts.file);
      const created = await ctx.client.createCohortQuery({ studyId: opts.study, query });
      if (!opts.wait) {
        ctx.emit(
          created,
          () =>
            `Posted cohort query ${created.id} for study ${created.studyId}: "${created.query.title}".\n` +
            `Sites answer with \`twinfed-site stats answer ${created.id}\`; see the answers with: twinfed stats show ${created.id}`,
        );
        return;
      }
      if (!ctx.json) deps.stderr.write(`Posted cohort query ${created.id}; waiting for the sites…\n`);
      const r = await waitForAnswers(ctx, created.id, opts.timeout, 1000);
      ctx.emit(r, () => renderCohortResult(r));
    });

  stats
    .command('list')
    .description('The cohort queries, of every study or one, with how many sites answered and refused.')
    .option('--study <id>', 'only this study')
    .action(async (opts: { study?: string }, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const queries = await ctx.client.listCohortQueries(opts.study ? { studyId: opts.study } : {});
      ctx.emit({ queries }, () => renderQueryList(queries));
    });

  stats
    .command('show')
    .description(
      "One query's answers: each site's released table as sent (<k: suppressed at the site), the combined counts " +
        '(≥ where a site suppressed its part) and, when asked, the pooled mean and variance.',
    )
    .argument('<id>', 'the cohort query id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const r = await ctx.client.cohortResult(id);
      ctx.emit(r, () => renderCohortResult(r));
    });
}
