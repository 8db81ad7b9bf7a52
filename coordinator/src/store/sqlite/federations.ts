/** SQLite: federations and rounds. */
import { DEFAULT_STUDY_ID } from '@twinfed/shared';
import { unknownFederation, unknownStudy } from '../errors';
import type { AmendPlanResult, Federation, FederationPatch, Round } from '../records';
import type { FederationStore, TransitionRoundInput } from '../types';
import { FrozenJsonCache } from '../frozen-json-cache';
import { JsonArrayCache } from '../json-array-cache';
import { applyPatch } from '../util';
import { insertUnique, type SqlContext, type SqliteContext } from './context';
import { checkFence } from './leases';
import { readCache, roundKey, throughCache, type CachedRound } from './read-cache';
import { getStudy } from './studies';

interface FederationRow extends Omit<Federation, 'plan'> {
  plan: string;
}
interface RoundRow extends Omit<Round, 'selectedSiteIds' | 'clientConfig'> {
  selectedSiteIds: string;
  clientConfig: string;
}

const FEDERATIONS = `SELECT id, name, study_id AS studyId, plan, state, created_at AS createdAt, updated_at AS updatedAt,
  current_round AS currentRound, latest_version_id AS latestVersionId FROM federations`;
const ROUNDS = `SELECT federation_id AS federationId, round, state, base_version_id AS baseVersionId,
  selected_site_ids AS selectedSiteIds, client_config AS clientConfig, opened_at AS openedAt,
  deadline_at AS deadlineAt, closed_at AS closedAt, failure_reason AS failureReason, version_id AS versionId
  FROM rounds`;

/** Plans parsed lately, deep-frozen (every signed site request reads its federation; a plan changes only before round 1). */
const plans = new FrozenJsonCache<Federation['plan']>();

function toFederation(row: FederationRow): Federation {
  return { ...row, plan: plans.parse(row.plan) };
}

/** Selections parsed lately (a round's selection is read at every upload and `rounds/current`, and never changes). */
const selections = new JsonArrayCache<string>();

function toRound(row: RoundRow): Round {
  return {
    ...row,
    selectedSiteIds: selections.parse(row.selectedSiteIds),
    clientConfig: JSON.parse(row.clientConfig) as Round['clientConfig'],
  };
}

/** A federation, from the read cache when it may serve (a copy sharing the frozen plan). */
export function getFederation(c: SqlContext, id: string): Federation | null {
  const federation = throughCache(
    c,
    (cache) => cache.federations,
    id,
    () => {
      const row = c.stmt(`${FEDERATIONS} WHERE id = ?`).get(id) as FederationRow | undefined;
      return row && toFederation(row);
    },
  );
  return federation ? { ...federation } : null;
}

/** Read-modify-write of the patchable columns; call inside a transaction. */
export function patchFederation(c: SqlContext, current: Federation, patch: FederationPatch): Federation {
  const next = applyPatch(applyPatch(current, { updatedAt: new Date().toISOString() }), patch);
  c.stmt('UPDATE federations SET state = ?, current_round = ?, latest_version_id = ?, updated_at = ? WHERE id = ?').run(
    next.state,
    next.currentRound,
    next.latestVersionId,
    next.updatedAt,
    current.id,
  );
  readCache(c).federations.delete(current.id);
  return next;
}

/**
 * A round as handed out: a fresh record sharing the cached, frozen selection (up to 1,000 ids: a copy per read was
 * ≈ 8 kB of garbage at every poll and upload); its client configuration fresh.
 */
function fromCached(cached: CachedRound): Round {
  return {
    ...cached.round,
    selectedSiteIds: cached.selectedSiteIds,
    clientConfig: JSON.parse(cached.clientConfig) as Round['clientConfig'],
  };
}

/** A round, from the read cache when it may serve (its 30 kB selection is then neither read nor hashed again). */
export function getRound(c: SqlContext, federationId: string, round: number): Round | null {
  const cached = throughCache(
    c,
    (cache) => cache.rounds,
    roundKey(federationId, round),
    (): CachedRound | undefined => {
      const row = c.stmt(`${ROUNDS} WHERE federation_id = ? AND round = ?`).get(federationId, round) as
        RoundRow | undefined;
      if (!row) return undefined;
      const { selectedSiteIds, clientConfig, ...rest } = row;
      return { round: rest, selectedSiteIds: Object.freeze(selections.parse(selectedSiteIds)), clientConfig };
    },
  );
  return cached ? fromCached(cached) : null;
}

/** A round's state alone (not its 30 kB selection), for writes that only check it; undefined when there is no such round. */
export function roundState(c: SqlContext, federationId: string, round: number): Round['state'] | undefined {
  return c.stmt('SELECT state FROM rounds WHERE federation_id = ? AND round = ?').pluck().get(federationId, round) as
    Round['state'] | undefined;
}

/** The CAS, callable inside an outer transaction (publishVersion). */
export function casRound(c: SqlContext, input: TransitionRoundInput): Round | null {
  const current = getRound(c, input.federationId, input.round);
  if (!current || !input.from.includes(current.state)) return null;
  const next: Round = { ...applyPatch(current, input.patch), state: input.to };
  const result = c
    .stmt(
      `UPDATE rounds SET state = ?, closed_at = ?, failure_reason = ?, version_id = ?, deadline_at = ?,
         selected_site_ids = ?, client_config = ? WHERE federation_id = ? AND round = ? AND state = ?`,
    )
    .run(
      next.state,
      next.closedAt,
      next.failureReason,
      next.versionId,
      next.deadlineAt,
      JSON.stringify(next.selectedSiteIds),
      JSON.stringify(next.clientConfig),
      current.federationId,
      current.round,
      current.state,
    );
  readCache(c).rounds.delete(roundKey(current.federationId, current.round));
  return result.changes === 1 ? getRound(c, current.federationId, current.round) : null;
}

export function federations(x: SqliteContext): FederationStore {
  return {
    async createFederation(f, audit) {
      const studyId = f.studyId ?? DEFAULT_STUDY_ID;
      return x.audited(audit, (c) =>
        c.tx(() => {
          if (!getStudy(c, studyId)) throw unknownStudy();
          insertUnique('Federation', () =>
            c
              .stmt(
                `INSERT INTO federations (id, name, study_id, plan, state, created_at, updated_at, current_round,
                   latest_version_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
              )
              .run(
                f.id,
                f.name,
                studyId,
                JSON.stringify(f.plan),
                f.state ?? 'running',
                f.createdAt,
                f.updatedAt ?? f.createdAt,
                f.currentRound ?? 0,
                f.latestVersionId ?? null,
              ),
          );
          return getFederation(c, f.id) as Federation;
        }),
      );
    },

    async getFederation(id) {
      return getFederation(x.c, id);
    },

    async listFederations() {
      return (x.c.stmt(`${FEDERATIONS} ORDER BY created_at, id`).all() as FederationRow[]).map(toFederation);
    },

    async updateFederation(id, patch, fence) {
      const c = x.c;
      return c.tx(() => {
        checkFence(c, fence);
        const current = getFederation(c, id);
        return current ? patchFederation(c, current, patch) : null;
      });
    },

    async amendFederationPlan(input, audit) {
      return x.audited(
        audit,
        (c) =>
          c.tx((): AmendPlanResult => {
            const current = getFederation(c, input.id);
            if (!current) return { status: 'unknown' };
            if (current.state !== 'running') return { status: 'not-running' };
            const started =
              current.currentRound !== 0 ||
              current.latestVersionId !== null ||
              c.stmt('SELECT 1 FROM rounds WHERE federation_id = ? LIMIT 1').get(input.id) !== undefined ||
              c.stmt('SELECT 1 FROM stats_contributions WHERE federation_id = ? LIMIT 1').get(input.id) !== undefined;
            if (started) return { status: 'started' };
            c.stmt('UPDATE federations SET name = ?, plan = ?, updated_at = ? WHERE id = ?').run(
              input.name,
              JSON.stringify(input.plan),
              input.updatedAt,
              input.id,
            );
            readCache(c).federations.delete(input.id);
            return { status: 'amended', federation: getFederation(c, input.id) as Federation };
          }),
        (r) => r.status === 'amended',
      );
    },

    async createRound(r, audit, fence) {
      return x.audited(audit, (c) =>
        c.tx(() => {
          checkFence(c, fence);
          if (!getFederation(c, r.federationId)) throw unknownFederation();
          insertUnique('Round', () =>
            c
              .stmt(
                `INSERT INTO rounds (federation_id, round, state, base_version_id, selected_site_ids, client_config,
                   opened_at, deadline_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
              )
              .run(
                r.federationId,
                r.round,
                r.state ?? 'open',
                r.baseVersionId,
                JSON.stringify(r.selectedSiteIds),
                JSON.stringify(r.clientConfig),
                r.openedAt,
                r.deadlineAt,
              ),
          );
          return getRound(c, r.federationId, r.round) as Round;
        }),
      );
    },

    async getRound(federationId, round) {
      return getRound(x.c, federationId, round);
    },

    async listRounds(federationId) {
      return (x.c.stmt(`${ROUNDS} WHERE federation_id = ? ORDER BY round`).all(federationId) as RoundRow[]).map(
        toRound,
      );
    },

    async transitionRound(input) {
      return x.audited(
        input.audit,
        (c) =>
          c.tx(() => {
            checkFence(c, input.fence);
            return casRound(c, input);
          }),
        (r) => r !== null,
      );
    },
  };
}
