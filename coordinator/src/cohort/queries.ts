/**
 * Cohort statistics queries at the coordinator: store a study's query (audited), hand each site the queries it has
 * not answered, take one answer per query and site (idempotent, audited, checked against the query's grid), and show
 * each site's table as sent with the combined table. The coordinator never sees a row: only what the sites released.
 */
import { randomBytes } from 'node:crypto';
import {
  CohortAnswerSchema,
  CohortQuerySchema,
  TwinfedError,
  canonicalJson,
  cohortGrid,
  poolsSecurely,
  sha256Hex,
  type CohortAnswer,
  type CohortAnswerAck,
  type CohortPooled,
  type CohortPoolResult,
  type CohortQuery,
  type CohortQueryView,
  type CohortResult,
  type CohortTable,
  type CreateCohortQuery,
  type SiteCohortQuery,
} from '@twinfed/shared';
import type { CohortAnswerRecord, CohortQueryRecord, Site, Store } from '../store';
import { combineCounts, poolMoments, type Moments } from './combine';
import { checkTableFits } from './fit';
import { ensureCohortPool, poolSummary } from './pool';

/** A stored query, parsed (it was validated when stored). */
function parsed(q: CohortQueryRecord): CohortQuery {
  return CohortQuerySchema.parse(q.query);
}

function answerOf(a: CohortAnswerRecord): CohortAnswer {
  return CohortAnswerSchema.parse(a.answer);
}

function view(q: CohortQueryRecord, answers: readonly CohortAnswerRecord[]): CohortQueryView {
  const kinds = answers.map((a) => (a.answer as { kind?: unknown }).kind);
  return {
    id: q.id,
    studyId: q.studyId,
    query: parsed(q),
    createdBy: q.createdBy,
    createdAt: q.createdAt,
    answered: kinds.filter((k) => k === 'table').length,
    refused: kinds.filter((k) => k === 'refusal').length,
  };
}

/** Stores a new query for a study; the audit entry names the study and what is asked, never a value. */
export async function createCohortQuery(input: {
  store: Store;
  body: CreateCohortQuery;
  actor: string;
  now: string;
}): Promise<CohortQueryView> {
  const query = CohortQuerySchema.parse(input.body.query);
  const id = `cq-${randomBytes(6).toString('hex')}`;
  const record: CohortQueryRecord = {
    id,
    studyId: input.body.studyId,
    query,
    createdBy: input.actor,
    createdAt: input.now,
  };
  const stored = await input.store.createCohortQuery(record, {
    at: input.now,
    actor: input.actor,
    action: 'cohort.query',
    subject: id,
    detail: {
      studyId: record.studyId,
      source: query.source.kind,
      groupBy: query.groupBy.map((g) => g.feature),
      summaries: query.summaries?.features ?? [],
      k: query.k ?? null,
    },
  });
  return view(stored, []);
}

/** Views of `queries`, each with its answer counts. */
export async function listCohortQueries(
  store: Store,
  queries: readonly CohortQueryRecord[],
): Promise<CohortQueryView[]> {
  return Promise.all(queries.map(async (q) => view(q, await store.listCohortAnswers(q.id))));
}

/** The queries as one site sees them: pending ones (not answered by it) or all, with its own answer kind. */
export async function siteCohortQueries(
  store: Store,
  siteId: string,
  state: 'pending' | 'all',
): Promise<SiteCohortQuery[]> {
  const mine = new Map((await store.listSiteCohortAnswers(siteId)).map((a) => [a.queryId, answerOf(a).kind]));
  return (await store.listCohortQueries())
    .filter((q) => state === 'all' || !mine.has(q.id))
    .map((q) => ({
      id: q.id,
      studyId: q.studyId,
      query: parsed(q),
      createdAt: q.createdAt,
      answered: mine.get(q.id) ?? null,
    }));
}

/**
 * Stores a site's answer once: 'accepted' (201), the same answer again 'duplicate' (200), another answer
 * ALREADY_EXISTS (409: a site answers a query once). A table must fit the query ({@link checkTableFits}).
 */
export async function answerCohortQuery(input: {
  store: Store;
  queryId: string;
  siteId: string;
  answer: CohortAnswer;
  now: string;
}): Promise<CohortAnswerAck> {
  const { store, queryId, siteId, answer } = input;
  const q = await store.getCohortQuery(queryId);
  if (!q) throw new TwinfedError('NOT_FOUND', 'The cohort query does not exist.');
  if (answer.kind === 'table') checkTableFits(parsed(q), answer.table);
  const digest = sha256Hex(canonicalJson(answer));
  const result = await store.putCohortAnswer(
    {
      queryId,
      siteId,
      answer: answer,
      digest,
      createdAt: input.now,
    },
    {
      at: input.now,
      actor: `site:${siteId}`,
      action: answer.kind === 'table' ? 'cohort.answer' : 'cohort.refusal',
      subject: queryId,
      detail:
        answer.kind === 'table'
          ? { digest, k: answer.table.k, epsilon: answer.table.epsilon, suppressedCells: answer.table.suppressedCells }
          : { digest, reason: answer.reason },
    },
  );
  if (result.status === 'conflict')
    throw new TwinfedError('ALREADY_EXISTS', 'This site already answered this cohort query with another answer.');
  // The last answer fixes the secure pool's cohort (later reads would too; this opens it without waiting for one).
  if (poolsSecurely(parsed(q))) await ensureCohortPool(store, queryId, parsed(q), input.now);
  return { queryId, siteId, status: result.status, digest };
}

/**
 * The result of a query: each site's answer, the enrolled sites that have not answered (by name those of `visible`, the
 * sites the caller may see; the others counted), and the combined table of the released tables.
 */
export async function cohortResult(
  store: Store,
  queryId: string,
  visible: readonly Site[],
  now: string,
): Promise<CohortResult> {
  const q = await store.getCohortQuery(queryId);
  if (!q) throw new TwinfedError('NOT_FOUND', 'The cohort query does not exist.');
  const query = parsed(q);
  const answers = await store.listCohortAnswers(queryId);
  const sites = await store.listSites();
  const names = new Map(sites.map((s) => [s.id, s.name]));
  const answered = new Set(answers.map((a) => a.siteId));
  const rows: CohortResult['sites'] = answers.map((a) => {
    const answer = answerOf(a);
    return {
      siteId: a.siteId,
      name: names.get(a.siteId) ?? a.siteId,
      status: answer.kind === 'table' ? 'answered' : 'refused',
      at: a.createdAt,
      reason: answer.kind === 'refusal' ? answer.reason : null,
      table: answer.kind === 'table' ? answer.table : null,
    };
  });
  const named = new Set(visible.map((s) => s.id));
  let pendingUnnamed = 0;
  for (const s of sites) {
    if (s.revokedAt || answered.has(s.id)) continue;
    if (named.has(s.id))
      rows.push({ siteId: s.id, name: s.name, status: 'pending', at: null, reason: null, table: null });
    else pendingUnnamed++;
  }
  const tables = rows.flatMap((r) => (r.table ? [r.table] : []));
  const secure = await poolSummary(store, queryId, query, now);
  return {
    query: view(q, answers),
    pendingUnnamed,
    sites: rows,
    combined: combine(query, tables, secure?.result ?? null),
    pool: secure?.pool ?? null,
  };
}

/**
 * The combined table: released counts summed per cell; pooled moments from the released sums (clear pooling) or from
 * the complete secure pool (`securePool`; null figures until it completes).
 */
function combine(
  query: CohortQuery,
  tables: readonly CohortTable[],
  securePool: CohortPoolResult | null,
): CohortResult['combined'] {
  const grid = cohortGrid(query);
  const pooledFeatures = query.summaries?.pooled ? query.summaries.features : null;
  const secure = poolsSecurely(query);
  const cells = grid.cells.map((levels, i) => {
    const parts = tables.map((t) => t.cells[i]!);
    const count = query.counts ? combineCounts(parts.map((c) => c.count ?? null)) : null;
    let pooled: Record<string, CohortPooled | null> | null = null;
    if (pooledFeatures) {
      pooled = {};
      for (const f of pooledFeatures)
        pooled[f] = secure ? (securePool?.cells[i]?.[f] ?? null) : pooledOf(parts.map((c) => c.summaries?.[f] ?? null));
    }
    return { levels, count, pooled };
  });
  return {
    dimensions: grid.dimensions.map((d) => ({ feature: d.feature, levels: [...d.levels] })),
    cells,
    total: query.counts ? combineCounts(tables.map((t) => t.total ?? null)) : null,
  };
}

function pooledOf(summaries: ReadonlyArray<{ n: number; sum?: number; sumSq?: number } | null>) {
  const parts: Moments[] = summaries.flatMap((s) =>
    s && s.sum !== undefined && s.sumSq !== undefined ? [{ n: s.n, sum: s.sum, sumSq: s.sumSq }] : [],
  );
  const pooled = poolMoments(parts);
  return pooled ? { ...pooled, sites: parts.length, withheldSites: summaries.length - parts.length } : null;
}
