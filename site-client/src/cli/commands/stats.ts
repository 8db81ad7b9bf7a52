/**
 * `twinfed-site stats list|show|answer|refuse`: federated cohort statistics at the site. A query is answered from the
 * site's own data under its own policy (`cohortQueries` in <data dir>/policy.json): its k floor, its Laplace ε, the
 * features it allows. The table is computed here, shown, stored, then sent; a refusal carries only a reason code.
 */
import { Option, type Command } from 'commander';
import {
  COHORT_REFUSALS,
  TwinfedError,
  cohortPoolVector,
  cryptoUniform,
  poolsSecurely,
  printable,
  withoutSummaries,
  type CohortAnswer,
  type CohortRefusalReason,
  type SiteCohortQuery,
} from '@twinfed/shared';
import { SiteAuditLog } from '../../audit/site-audit';
import { describeAnswer, describeQuery, verdictLine } from '../../cohort/describe';
import { CohortOutbox, sendCohortAnswer, type SentCohortAnswer } from '../../cohort/outbox';
import { sendCohortPool, type CohortPoolStep } from '../../cohort/pool';
import { Journal } from '../../training/journal';
import { cohortFloor, cohortVerdict, type CohortPolicy } from '../../cohort/policy';
import { readPolicyFile } from '../../governance/policy';
import { releaseCohortTable } from '../../cohort/release';
import { rowsFromDataset, rowsFromTwins, type CohortRows } from '../../cohort/rows';
import { loadEnrollment } from '../../identity/load';
import { readTwins } from '../../training/twin-dataset';
import { CoordinatorClient } from '../../transport/coordinator-client';
import { openTwinStore } from '../../twins/store';
import type { TwinSnapshot } from '../../twins/types';
import {
  commandContext,
  coordinatorAccess,
  dataDirOption,
  siteAuthenticator,
  writeJsonLine,
  type CliDeps,
  type CommonFlags,
} from '../context';
import { loadLocalData } from '../load-data';
import { numberArg, coordinatorOption } from '../parse';

interface ConnectFlags extends CommonFlags {
  coordinator?: string[];
  ca?: string;
  insecureHttp?: boolean;
}

interface AnswerFlags extends ConnectFlags {
  twins?: boolean;
  data?: string;
  mapping?: string;
  heartDisease?: number;
  by?: string;
  dryRun?: boolean;
  allPending?: boolean;
}

/** The site, its coordinator client, policy, outbox and audit chain, for one command. */
function open(deps: CliDeps, flags: ConnectFlags) {
  const { config, logger } = commandContext(deps, flags);
  const enrollment = loadEnrollment(config.dataDir);
  const access = coordinatorAccess(deps, config, enrollment.state);
  const client = new CoordinatorClient({
    baseUrl: access.baseUrls,
    credentials: siteAuthenticator(config, enrollment, logger),
    timeoutMs: config.requestTimeoutMs,
    retry: { retries: config.httpRetries, baseMs: 250, maxMs: 30_000 },
    logger,
    ...(access.fetch ? { fetch: access.fetch } : {}),
  });
  return {
    dataDir: config.dataDir,
    client,
    policy: readPolicyFile(config.dataDir).policy.cohortQueries ?? null,
    outbox: CohortOutbox.open(config.dataDir),
    audit: new SiteAuditLog(config.dataDir, () => `site:${enrollment.state.siteId}`),
    enrollment,
  };
}

type Opened = ReturnType<typeof open>;

/** This site's step in the secure pool of `queryId` (peers' keys checked against the training journal's pins). */
function poolStep(s: Opened, queryId: string): Promise<CohortPoolStep> {
  return sendCohortPool({
    outbox: s.outbox,
    api: s.client,
    audit: s.audit,
    enrollment: s.enrollment,
    pins: Journal.open(s.dataDir),
    queryId,
    now: () => new Date().toISOString(),
  });
}

/** One query by id (answered or not); NOT_FOUND when the coordinator has none such. */
async function queryById(client: CoordinatorClient, id: string): Promise<SiteCohortQuery> {
  const q = (await client.cohortQueries('all')).find((x) => x.id === id);
  if (!q) throw new TwinfedError('NOT_FOUND', `There is no cohort query ${id}; see \`twinfed-site stats list\`.`);
  return q;
}

const connectionOptions = (cmd: Command): Command =>
  cmd
    .addOption(dataDirOption())
    .addOption(coordinatorOption('override the coordinator URL stored at enrollment'))
    .option('--ca <pem>', 'CA certificate (PEM) to trust for the coordinator (or TWINFED_CA)')
    .option('--insecure-http', 'allow plain http:// to a coordinator that is not on this machine');

/** The site's rows for a query's source kind, loaded once per run (twins are re-derived per query). */
class LocalData {
  private tabular: CohortRows | null = null;
  private twins: TwinSnapshot[] | null = null;

  constructor(
    private readonly flags: AnswerFlags,
    private readonly dataDir: string,
  ) {
    const given = [
      flags.twins,
      flags.data !== undefined || flags.mapping !== undefined,
      flags.heartDisease !== undefined,
    ];
    if (given.filter(Boolean).length !== 1)
      throw new TwinfedError(
        'CONFIG_INVALID',
        'Give the local data to answer from: --twins, --heart-disease <center>, or both --data <csv> and --mapping <json>.',
      );
    if ((flags.data === undefined) !== (flags.mapping === undefined))
      throw new TwinfedError('CONFIG_INVALID', '--data <csv> and --mapping <json> go together.');
  }

  /** The source kind this run can answer: `twins` or `csv`. */
  get kind(): 'twins' | 'csv' {
    return this.flags.twins ? 'twins' : 'csv';
  }

  async rows(q: SiteCohortQuery): Promise<CohortRows> {
    if (q.query.source.kind !== this.kind)
      throw new TwinfedError(
        'COHORT_QUERY_UNANSWERABLE',
        `Query ${q.id} asks for ${q.query.source.kind === 'twins' ? 'twins: answer it with --twins' : 'tabular rows: answer it with --data <csv> --mapping <json> or --heart-disease <center>'}.`,
      );
    if (this.kind === 'twins') {
      if (!this.twins) {
        const store = await openTwinStore({ dataDir: this.dataDir });
        try {
          this.twins = await readTwins(store);
        } finally {
          await store.close();
        }
      }
      return rowsFromTwins(this.twins, q.query, Date.now());
    }
    if (!this.tabular) {
      const f = this.flags;
      const loaded = loadLocalData(
        f.heartDisease !== undefined
          ? { kind: 'heart-disease', center: f.heartDisease }
          : { kind: 'csv', csvPath: f.data!, mappingPath: f.mapping!, testFraction: 0.5, splitSeed: 1 },
        { guardrails: false },
      );
      this.tabular = rowsFromDataset(loaded.dataset, loaded.description);
    }
    return this.tabular;
  }
}

/** What this site prepares for a query: the answer to send, and under secure pooling its (unsent) pool values. */
interface Prepared {
  answer: CohortAnswer;
  poolValues?: number[] | undefined;
}

/**
 * The table this site releases for `q` under `policy` (computed here; nothing sent). Under secure pooling the table
 * carries no per-site summary; the n, Σx, Σx² per cell and feature are kept for the pool instead.
 */
async function tableFor(q: SiteCohortQuery, data: LocalData, policy: CohortPolicy | null): Promise<Prepared> {
  const rows = await data.rows(q);
  const floor = cohortFloor(policy, q.query);
  const table = releaseCohortTable({ query: q.query, rows, ...floor, rng: cryptoUniform() });
  if (!poolsSecurely(q.query)) return { answer: { kind: 'table', table } };
  return {
    answer: { kind: 'table', table: withoutSummaries(table) },
    poolValues: [...cohortPoolVector(q.query, table)],
  };
}

/** One line on where this site stands in a query's secure pool. */
function poolLine(queryId: string, step: CohortPoolStep): string {
  switch (step.state) {
    case 'not-secure':
      return `${queryId}: the query does not pool securely (nothing to send).`;
    case 'no-vector':
      return `${queryId}: this site has not answered with a table (nothing to pool).`;
    case 'waiting':
      return `${queryId}: secure pool waiting — not every site has answered yet; run \`twinfed-site stats pool ${queryId}\` (or --all-pending) later.`;
    case 'not-member':
      return `${queryId}: this site is not in the secure pool's cohort.`;
    case 'failed':
      return `${queryId}: secure pool failed (${step.code}): fewer than 3 sites answered with a table; nothing was sent.`;
    case 'sent':
      return `${queryId}: masked pool vector ${step.status === 'accepted' ? 'sent' : 'sent again (the coordinator had it)'}; ${step.contributed} of ${step.cohort} cohort sites have contributed${step.complete ? ' — the pool is complete' : ''}. Recorded in the site audit chain.`;
    case 'contributed':
    case 'complete':
      return `${queryId}: this site's masked vector is in the pool; ${step.contributed} of ${step.cohort} have contributed${step.state === 'complete' ? ' — complete' : ''}.`;
  }
}

function sentLines(q: SiteCohortQuery, sent: SentCohortAnswer): string[] {
  const e = sent.entry;
  return [
    ...(sent.earlier
      ? [`An answer to ${q.id} was prepared at ${e.preparedAt}; it is sent again instead (a query is answered once).`]
      : []),
    `What leaves this site for ${q.id} ("${q.query.title}"):`,
    ...describeAnswer(q.query, e.answer).map((l) => `  ${l}`),
    `Sent: ${sent.status === 'accepted' ? 'stored by the coordinator' : 'the coordinator already had it'} (digest ${e.digest.slice(0, 16)}…); recorded in the site audit chain.`,
  ];
}

/** Adds `stats list|show|answer|refuse`. */
export function addStatsCommand(program: Command, deps: CliDeps): void {
  const stats = program
    .command('stats')
    .summary('federated cohort statistics: list, show, answer or refuse queries')
    .description(
      'Researchers ask, for a study, for counts and summaries of eligible rows before proposing a plan. This site answers ' +
        'from its own data under its policy (cohortQueries in <data dir>/policy.json: allowed, autoAnswer, k, epsilon, features): ' +
        'cells below max(query k, policy k, 10) are suppressed here, counts get Laplace noise with the policy\u2019s ε, and ' +
        'summaries of groups below k are withheld. Every answer and refusal is recorded in the site audit chain.',
    );

  connectionOptions(
    stats.command('list').description('The queries this site has not answered, with its policy’s verdict.'),
  )
    .option('--all', 'also the queries this site already answered or refused')
    .action(async (opts: ConnectFlags & { all?: boolean }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<ConnectFlags & { all?: boolean }>();
      const s = open(deps, flags);
      const queries = await s.client.cohortQueries(opts.all ? 'all' : 'pending');
      const rows = queries.map((q) => ({
        id: q.id,
        studyId: q.studyId,
        title: q.query.title,
        source: q.query.source.kind,
        answered: q.answered,
        prepared: s.outbox.get(q.id)?.sentAt === null,
        ...cohortVerdict(s.policy, q.query),
      }));
      if (flags.json) return writeJsonLine(deps.stdout, { queries: rows });
      const lines =
        rows.length === 0
          ? [opts.all ? '(no cohort queries)' : '(no pending cohort queries)']
          : rows.map(
              (r) =>
                `${r.id}  study ${r.studyId}  ${r.source}  "${r.title}"  ${r.answered ? `answered: ${r.answered}` : `verdict: ${r.verdict}`}${r.prepared ? '  (prepared, not yet sent: run `stats answer` again)' : ''}`,
            );
      deps.stdout.write(printable(`${lines.join('\n')}\n`, { keepNewlines: true }));
    });

  connectionOptions(
    stats.command('show').description('One query in words, the policy’s verdict and this site’s floor.'),
  )
    .argument('<qid>', 'the cohort query id')
    .action(async (qid: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<ConnectFlags>();
      const s = open(deps, flags);
      const q = await queryById(s.client, qid);
      const verdict = cohortVerdict(s.policy, q.query);
      const floor = cohortFloor(s.policy, q.query);
      if (flags.json) return writeJsonLine(deps.stdout, { query: q, verdict, floor });
      const lines = [
        `Cohort query ${q.id} of study ${q.studyId}: "${q.query.title}" (${q.createdAt})`,
        ...describeQuery(q.query),
        `this site:  k ${floor.k}, ${floor.epsilon === undefined ? 'exact counts' : `Laplace noise ε ${floor.epsilon} on counts`}`,
        `verdict:    ${verdictLine(verdict)}`,
        `answered:   ${q.answered ?? 'not yet'}`,
        `See what would leave: twinfed-site stats answer ${q.id} <data flags> --dry-run`,
      ];
      deps.stdout.write(printable(`${lines.join('\n')}\n`, { keepNewlines: true }));
    });

  connectionOptions(
    stats
      .command('answer')
      .description(
        'Compute the table from local data, show what will leave, store it, then send it. --all-pending answers every ' +
          'pending query the policy answers automatically (autoAnswer), refuses those it does not allow ' +
          '(NOT_ALLOWED_BY_POLICY) or whose features the data lack (NO_DATA), and leaves the rest for a person: a cron-able command.',
      )
      .argument('[qid]', 'the cohort query id (or --all-pending)'),
  )
    .addOption(new Option('--twins', 'answer from the twin store').conflicts(['data', 'mapping', 'heartDisease']))
    .option('--data <csv>', 'answer from this CSV (with --mapping)')
    .option('--mapping <json>', 'the CSV’s mapping (docs/data-mapping.md)')
    .addOption(
      new Option('--heart-disease <center>', 'answer from the bundled Fed-Heart-Disease center 0-3').argParser(
        numberArg('center must be 0, 1, 2 or 3', (n) => Number.isInteger(n) && n >= 0 && n <= 3),
      ),
    )
    .option('--by <name>', 'who at this site decided (kept in the site audit chain only, never sent)')
    .option('--dry-run', 'show the table that would leave; store and send nothing')
    .option('--all-pending', 'every pending query, as the policy says')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ twinfed-site stats answer cq-1a2b3c --data clinic.csv --mapping clinic.mapping.json --by "Dr Rossi" --dry-run\n' +
        '  $ twinfed-site stats answer cq-1a2b3c --data clinic.csv --mapping clinic.mapping.json --by "Dr Rossi"\n' +
        '  # cron, with {"cohortQueries": {"allowed": true, "autoAnswer": true, "k": 20}} in policy.json:\n' +
        '  $ twinfed-site stats answer --all-pending --twins\n',
    )
    .action(async (qid: string | undefined, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<AnswerFlags>();
      if ((qid === undefined) === (flags.allPending !== true))
        throw new TwinfedError('CONFIG_INVALID', 'Give a cohort query id, or --all-pending (not both).');
      const s = open(deps, flags);
      const data = new LocalData(flags, s.dataDir);
      const emit = (json: object, lines: string[]): void => {
        if (flags.json) writeJsonLine(deps.stdout, json);
        else deps.stdout.write(printable(`${lines.join('\n')}\n`, { keepNewlines: true }));
      };
      const send = (q: SiteCohortQuery, a: CohortAnswer, poolValues?: number[]) =>
        sendCohortAnswer({
          outbox: s.outbox,
          api: s.client,
          audit: s.audit,
          queryId: q.id,
          answer: a,
          poolValues,
          by: flags.by,
          now: () => new Date().toISOString(),
        });

      if (qid !== undefined) {
        const q = await queryById(s.client, qid);
        const verdict = cohortVerdict(s.policy, q.query);
        if (verdict.verdict === 'not-allowed')
          throw new TwinfedError(
            'COHORT_QUERY_NOT_ALLOWED',
            `The site policy does not allow query ${q.id}: ${verdict.reasons.join('; ')}. Refuse it with: twinfed-site stats refuse ${q.id} --reason NOT_ALLOWED_BY_POLICY`,
          );
        const staged = s.outbox.get(q.id);
        const prepared: Prepared = staged ? { answer: staged.answer } : await tableFor(q, data, s.policy);
        const a = prepared.answer;
        if (flags.dryRun) {
          return emit({ type: 'dry-run', queryId: q.id, answer: a }, [
            `Nothing sent (--dry-run). What would leave this site for ${q.id} ("${q.query.title}"):`,
            ...describeAnswer(q.query, a).map((l) => `  ${l}`),
          ]);
        }
        const sent = await send(q, a, prepared.poolValues);
        emit(
          { type: 'answer', queryId: q.id, status: sent.status, digest: sent.entry.digest, answer: sent.entry.answer },
          sentLines(q, sent),
        );
        if (sent.entry.pool) {
          const step = await poolStep(s, q.id);
          emit({ type: 'pool', queryId: q.id, ...step }, [poolLine(q.id, step)]);
        }
        return;
      }

      for (const q of await s.client.cohortQueries('pending')) {
        const verdict = cohortVerdict(s.policy, q.query);
        let a: CohortAnswer | null = null;
        let poolValues: number[] | undefined;
        let why = '';
        if (verdict.verdict === 'not-allowed') {
          a = { kind: 'refusal', reason: 'NOT_ALLOWED_BY_POLICY' };
          why = verdict.reasons.join('; ');
        } else if (verdict.verdict !== 'auto-answer') {
          why = `left for a person (${verdictLine(verdict)}): twinfed-site stats answer ${q.id}`;
        } else if (q.query.source.kind !== data.kind) {
          why = `skipped: it asks for ${q.query.source.kind}, this run answers from ${data.kind}`;
        } else {
          try {
            const staged = s.outbox.get(q.id);
            const prepared: Prepared = staged ? { answer: staged.answer } : await tableFor(q, data, s.policy);
            a = prepared.answer;
            poolValues = prepared.poolValues;
          } catch (e) {
            if (!(e instanceof TwinfedError) || e.code !== 'COHORT_QUERY_UNANSWERABLE') throw e;
            a = { kind: 'refusal', reason: 'NO_DATA' };
            why = e.message;
          }
        }
        if (flags.dryRun || a === null) {
          emit({ type: 'pending', queryId: q.id, verdict: verdict.verdict, would: a, why }, [
            `${q.id}: ${a === null ? why : `would send ${a.kind === 'table' ? 'a table' : `a refusal (${a.reason}): ${why}`} (--dry-run)`}`,
          ]);
          continue;
        }
        const sent = await send(q, a, poolValues);
        const e = sent.entry.answer;
        emit(
          { type: 'answer', queryId: q.id, status: sent.status, digest: sent.entry.digest, answer: e },
          e.kind === 'table'
            ? [
                `${q.id}: answered (k ${e.table.k}, ${e.table.epsilon === null ? 'exact counts' : `ε ${e.table.epsilon}`}, ${e.table.suppressedCells} of ${e.table.cells.length} cell(s) suppressed; digest ${sent.entry.digest.slice(0, 16)}…)`,
              ]
            : [`${q.id}: refused (${e.reason}: ${why})`],
        );
      }
      // Secure pools: every answered query whose masked vector is not acknowledged yet (a pool opens only once every
      // site has answered, often after this site did).
      if (!flags.dryRun)
        for (const entry of s.outbox.unpooled()) {
          const step = await poolStep(s, entry.queryId);
          emit({ type: 'pool', queryId: entry.queryId, ...step }, [poolLine(entry.queryId, step)]);
        }
    });

  connectionOptions(
    stats
      .command('pool')
      .description(
        'Send this site\u2019s masked n, \u03a3x, \u03a3x\u00b2 to the secure pool of a query with summaries.pooled "secure", ' +
          'once every site has answered (the values were kept when it answered; they leave only masked). ' +
          '`stats answer` does this too when the pool is open. Recorded in the site audit chain.',
      )
      .argument('<qid>', 'the cohort query id'),
  ).action(async (qid: string, _opts: unknown, cmd: Command) => {
    const flags = cmd.optsWithGlobals<ConnectFlags>();
    const s = open(deps, flags);
    const step = await poolStep(s, qid);
    if (flags.json) return writeJsonLine(deps.stdout, { type: 'pool', queryId: qid, ...step });
    deps.stdout.write(printable(`${poolLine(qid, step)}\n`, { keepNewlines: true }));
  });

  connectionOptions(
    stats
      .command('refuse')
      .description('Refuse a query: only the reason code is sent. Recorded in the site audit chain.')
      .argument('<qid>', 'the cohort query id'),
  )
    .addOption(
      new Option('--reason <code>', 'why: the policy does not allow it, the site rejects it, or it has no such data')
        .choices([...COHORT_REFUSALS])
        .default('REJECTED_BY_SITE'),
    )
    .option('--by <name>', 'who at this site decided (kept in the site audit chain only, never sent)')
    .action(async (qid: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<ConnectFlags & { reason: CohortRefusalReason; by?: string }>();
      const s = open(deps, flags);
      const q = await queryById(s.client, qid);
      const sent = await sendCohortAnswer({
        outbox: s.outbox,
        api: s.client,
        audit: s.audit,
        queryId: q.id,
        answer: { kind: 'refusal', reason: flags.reason },
        by: flags.by,
        now: () => new Date().toISOString(),
      });
      if (flags.json)
        return writeJsonLine(deps.stdout, {
          type: 'answer',
          queryId: q.id,
          status: sent.status,
          digest: sent.entry.digest,
          answer: sent.entry.answer,
        });
      deps.stdout.write(printable(`${sentLines(q, sent).join('\n')}\n`, { keepNewlines: true }));
    });
}
