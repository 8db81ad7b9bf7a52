import { sha256Hex } from '@twinfed/shared';
import type { Store } from '../../../store';

/**
 * Everything a request could change in the coordinator's store, serialised deterministically: tokens, invitations,
 * sites, federations with their rounds, updates, secure-aggregation messages and cohorts, statistics contributions, sites' plan decisions,
 * versions with their weights' digest, evaluations, population reports, the whole audit chain and its signed heads.
 * Left out, on purpose: a site's `lastSeenAt` (every authenticated request records it, whether or not the route then
 * refuses), and the replay nonces (every authenticated signed request consumes one).
 */
export async function snapshotStore(store: Store): Promise<string> {
  const federations = await store.listFederations();
  const perFederation = await Promise.all(
    federations.map(async (f) => {
      const rounds = await store.listRounds(f.id);
      const perRound = await Promise.all(
        rounds.map(async (r) => ({
          round: r,
          updates: await store.listUpdateSummaries(f.id, r.round),
          shares: await store.listSecaggMessages(f.id, r.round, 'shares'),
          reveals: await store.listSecaggMessages(f.id, r.round, 'reveal'),
          cohort: await store.getSecaggCohort(f.id, r.round),
        })),
      );
      const strategy = await store.getStrategyState(f.id);
      return {
        federation: f,
        rounds: perRound,
        stats: await store.listStatsContributions(f.id),
        decisions: await store.listSiteDecisions(f.id),
        strategyState: strategy ? sha256Hex(strategy) : null,
      };
    }),
  );
  const versions = await store.listVersions();
  const perVersion = await Promise.all(
    versions.map(async (v) => {
      const weights = await store.getVersionWeights(v.id);
      return {
        version: v,
        weights: weights ? sha256Hex(weights) : null,
        evaluations: await store.listEvaluations(v.id),
      };
    }),
  );
  const sites = (await store.listSites()).map(({ lastSeenAt: _seen, ...rest }) => rest);
  return stableJson({
    tokens: await store.listApiTokens(),
    invitations: await store.listInvitations(),
    sites,
    federations: perFederation,
    versions: perVersion,
    populationReports: await store.listPopulationReports(),
    cohortQueries: await store.listCohortQueries(),
    cohortAnswers: await Promise.all((await store.listSites()).map(async (s) => store.listSiteCohortAnswers(s.id))),
    cohortPools: await Promise.all(
      (await store.listCohortQueries()).map(async (q) => ({
        pool: await store.getCohortPool(q.id),
        contributions: await store.listCohortPoolContributions(q.id),
      })),
    ),
    audit: await store.listAudit({ limit: 1_000_000 }),
    auditHeads: await store.listAuditHeads(),
    auditSequenceEnd: await store.auditSequenceEnd(),
  });
}

/** JSON with object keys sorted, Uint8Arrays as hex digests: equal state gives byte-identical text. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return `bytes:${sha256Hex(v)}`;
    if (v && typeof v === 'object' && !Array.isArray(v))
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    return v;
  });
}
