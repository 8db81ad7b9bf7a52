/**
 * Secure pooling of a cohort query (`summaries.pooled: "secure"`): the coordinator never sees a site's n, Σx or Σx²,
 * only the masked vectors (crypto/secure-sum) and their sum, decoded into the pooled mean and variance per cell and
 * feature.
 *
 * The cohort is fixed once every asked site (every enrolled, unrevoked site) has answered or refused: the sites that
 * answered with a table, sorted by id. Fewer than {@link COHORT_POOL_MIN_SITES} → the pool is stored `failed` with
 * COHORT_TOO_SMALL (a sum of two gives each the other's numbers). As with federated normalisation statistics there is
 * no dropout recovery: a member that never contributes (or is revoked) leaves the pool open.
 */
import {
  COHORT_POOL_MIN_SITES,
  CohortQuerySchema,
  SECURE_SUM_FRACTION_BITS,
  TwinfedError,
  cohortGrid,
  cohortPoolLength,
  decodeSecureSum,
  poolTotals,
  poolsSecurely,
  sumMaskedContributions,
  type CohortPoolAck,
  type CohortPoolResult,
  type CohortPoolView,
  type CohortQuery,
  type CohortResult,
} from '@twinfed/shared';
import type { SiteDirectory } from '../registry/site-directory';
import type { CohortPoolRecord, Store } from '../store';
import { poolMoments } from './combine';

/** The query, parsed; NOT_FOUND when it does not exist or does not pool securely. */
async function secureQuery(store: Store, queryId: string): Promise<CohortQuery> {
  const q = await store.getCohortQuery(queryId);
  if (!q) throw new TwinfedError('NOT_FOUND', 'The cohort query does not exist.');
  const query = CohortQuerySchema.parse(q.query);
  if (!poolsSecurely(query))
    throw new TwinfedError('NOT_FOUND', 'This cohort query does not pool its summaries securely (no pool).');
  return query;
}

/**
 * The query's pool: the stored one, or — once every unrevoked enrolled site has answered or refused (and at least one
 * has) — the one fixed now (first writer wins across processes). Null while sites are still to answer.
 */
export async function ensureCohortPool(
  store: Store,
  queryId: string,
  query: CohortQuery,
  now: string,
): Promise<CohortPoolRecord | null> {
  const stored = await store.getCohortPool(queryId);
  if (stored) return stored;
  const answers = await store.listCohortAnswers(queryId);
  const active = (await store.listSites()).filter((s) => !s.revokedAt);
  const answered = new Set(answers.map((a) => a.siteId));
  if (answers.length === 0 || active.some((s) => !answered.has(s.id))) return null;
  const activeIds = new Set(active.map((s) => s.id));
  const siteIds = answers
    .filter((a) => (a.answer as { kind?: unknown }).kind === 'table' && activeIds.has(a.siteId))
    .map((a) => a.siteId)
    .sort();
  const tooSmall = siteIds.length < COHORT_POOL_MIN_SITES;
  return store.fixCohortPool({
    queryId,
    siteIds,
    length: cohortPoolLength(query),
    state: tooSmall ? 'failed' : 'open',
    result: tooSmall ? { code: 'COHORT_TOO_SMALL' } : null,
    createdAt: now,
  });
}

/** The pooled figures from the decoded sum of a complete pool: per cell and feature, from [N, ΣΣx, ΣΣx²]. */
export function pooledFromSum(query: CohortQuery, sum: ArrayLike<number>, cohortSize: number): CohortPoolResult {
  const features = query.summaries?.features ?? [];
  return {
    cells: cohortGrid(query).cells.map((_, i) => {
      const out: CohortPoolResult['cells'][number] = {};
      features.forEach((f, j) => {
        const p = poolMoments([poolTotals(sum, query, i, j)]);
        out[f] = p ? { ...p, sites: cohortSize, withheldSites: null } : null;
      });
      return out;
    }),
  };
}

/** Closes the pool as complete when every member has contributed (idempotent; the first close wins). */
async function completeIfFull(store: Store, query: CohortQuery, pool: CohortPoolRecord): Promise<CohortPoolRecord> {
  if (pool.state !== 'open') return pool;
  const members = new Set(pool.siteIds);
  const contributions = (await store.listCohortPoolContributions(pool.queryId)).filter((c) => members.has(c.siteId));
  if (contributions.length < pool.siteIds.length) return pool;
  const sum = decodeSecureSum(
    sumMaskedContributions(
      contributions.map((c) => c.masked),
      pool.length,
    ),
    { length: pool.length, fractionBits: SECURE_SUM_FRACTION_BITS },
  );
  return store.closeCohortPool(pool.queryId, 'complete', pooledFromSum(query, sum, pool.siteIds.length));
}

/** The pool's result as stored (complete pools only). */
function resultOf(pool: CohortPoolRecord | null): CohortPoolResult | null {
  return pool?.state === 'complete' ? (pool.result as unknown as CohortPoolResult) : null;
}

/** The pool's public state, for the query result: null for a query that does not pool securely. */
export async function poolSummary(
  store: Store,
  queryId: string,
  query: CohortQuery,
  now: string,
): Promise<{ pool: NonNullable<CohortResult['pool']>; result: CohortPoolResult | null } | null> {
  if (!poolsSecurely(query)) return null;
  const pool = await ensureCohortPool(store, queryId, query, now);
  const members = new Set(pool?.siteIds ?? []);
  const contributed = pool
    ? (await store.listCohortPoolContributions(queryId)).filter((c) => members.has(c.siteId)).length
    : 0;
  return {
    pool: {
      state: pool ? pool.state : 'waiting',
      cohort: pool?.siteIds.length ?? 0,
      contributed,
      code: pool?.state === 'failed' ? 'COHORT_TOO_SMALL' : null,
    },
    result: resultOf(pool),
  };
}

/**
 * GET /v1/cohort-queries/:qid/pool: the pool's state, its cohort as signed directory entries (the keys a member
 * masks with), who contributed and, once complete, the pooled figures. NOT_FOUND for a query without secure pooling.
 */
export async function cohortPoolView(
  store: Store,
  queryId: string,
  directory: SiteDirectory,
  now: string,
): Promise<CohortPoolView> {
  const query = await secureQuery(store, queryId);
  const pool = await ensureCohortPool(store, queryId, query, now);
  const members = new Set(pool?.siteIds ?? []);
  const sites = (await store.listSites()).filter((s) => members.has(s.id)).sort((a, b) => (a.id < b.id ? -1 : 1));
  const contributed = pool
    ? (await store.listCohortPoolContributions(queryId)).filter((c) => members.has(c.siteId)).map((c) => c.siteId)
    : [];
  return {
    queryId,
    state: pool ? pool.state : 'waiting',
    length: pool?.length ?? cohortPoolLength(query),
    fractionBits: SECURE_SUM_FRACTION_BITS,
    cohort: sites.map((s) => directory.entry(s)),
    contributed,
    code: pool?.state === 'failed' ? 'COHORT_TOO_SMALL' : null,
    result: resultOf(pool),
  };
}

/**
 * Stores a cohort member's masked vector once (the same bytes again: duplicate, in any state) and completes the pool
 * when it was the last. Throws NOT_FOUND (no such query, or no secure pooling), COHORT_POOL_NOT_OPEN (not every site
 * has answered yet, or the pool is complete), COHORT_TOO_SMALL (the pool failed), COHORT_POOL_NOT_MEMBER,
 * COHORT_POOL_BAD_LENGTH, ALREADY_EXISTS (other bytes are stored for this site).
 */
export async function contributeToCohortPool(opts: {
  store: Store;
  queryId: string;
  siteId: string;
  masked: Uint8Array;
  now: string;
}): Promise<CohortPoolAck> {
  const { store, queryId, siteId, masked, now } = opts;
  const query = await secureQuery(store, queryId);
  let pool = await ensureCohortPool(store, queryId, query, now);
  if (!pool)
    throw new TwinfedError('COHORT_POOL_NOT_OPEN', 'Not every site has answered this cohort query yet: no cohort.');
  if (!pool.siteIds.includes(siteId))
    throw new TwinfedError('COHORT_POOL_NOT_MEMBER', "This site is not in the query's secure pool.");
  if (masked.byteLength !== pool.length * 8)
    throw new TwinfedError(
      'COHORT_POOL_BAD_LENGTH',
      `The pool takes ${pool.length} ring elements (${pool.length * 8} bytes), not ${masked.byteLength} bytes.`,
    );
  const put = await store.putCohortPoolContribution({ queryId, siteId, masked, createdAt: now });
  if (put.status === 'conflict')
    throw new TwinfedError('ALREADY_EXISTS', 'A different masked vector from this site is already in the pool.');
  if (put.status === 'closed') {
    if (put.pool.state === 'failed')
      throw new TwinfedError('COHORT_TOO_SMALL', 'Fewer than 3 sites answered with a table: the pool failed.');
    throw new TwinfedError('COHORT_POOL_NOT_OPEN', 'The pool is complete.');
  }
  if (put.status === 'accepted') {
    await store.appendAudit({
      at: now,
      actor: `site:${siteId}`,
      action: 'cohort.pool.contribute',
      subject: queryId,
      detail: {},
    });
    pool = await completeIfFull(store, query, pool);
  }
  const members = new Set(pool.siteIds);
  const contributed = (await store.listCohortPoolContributions(queryId)).filter((c) => members.has(c.siteId)).length;
  return {
    queryId,
    siteId,
    status: put.status,
    contributed,
    cohort: pool.siteIds.length,
    state: pool.state,
  };
}
