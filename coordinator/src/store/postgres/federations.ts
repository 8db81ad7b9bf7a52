/** PostgreSQL: federations and rounds. */
import { DEFAULT_STUDY_ID } from '@twinfed/shared';
import { unknownFederation, unknownStudy } from '../errors';
import type { AmendPlanResult, Federation, FederationPatch, Round } from '../records';
import type { FederationStore, TransitionRoundInput } from '../types';
import { applyPatch } from '../util';
import { insertUnique, parseJson, type PgContext } from './context';
import { checkFence } from './leases';
import type { Sql } from './db';
import { getStudy } from './studies';

interface FederationRow extends Omit<Federation, 'plan'> {
  plan: string;
}
interface RoundRow extends Omit<Round, 'selectedSiteIds' | 'clientConfig'> {
  selectedSiteIds: string;
  clientConfig: string;
}

const FEDERATIONS = `SELECT id, name, study_id AS "studyId", plan, state, created_at AS "createdAt",
  updated_at AS "updatedAt", current_round AS "currentRound", latest_version_id AS "latestVersionId" FROM federations`;
const ROUNDS = `SELECT federation_id AS "federationId", round, state, base_version_id AS "baseVersionId",
  selected_site_ids AS "selectedSiteIds", client_config AS "clientConfig", opened_at AS "openedAt",
  deadline_at AS "deadlineAt", closed_at AS "closedAt", failure_reason AS "failureReason", version_id AS "versionId"
  FROM rounds`;

const toFederation = (row: FederationRow): Federation => ({ ...row, plan: parseJson<Federation['plan']>(row.plan) });

const toRound = (row: RoundRow): Round => ({
  ...row,
  selectedSiteIds: parseJson<string[]>(row.selectedSiteIds),
  clientConfig: parseJson<Round['clientConfig']>(row.clientConfig),
});

/** The federation; with `lock`, its row stays locked (FOR UPDATE) until the transaction ends. */
export async function getFederation(sql: Sql, id: string, lock = false): Promise<Federation | null> {
  const row = await sql.one<FederationRow>(`${FEDERATIONS} WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return row ? toFederation(row) : null;
}

/** Read-modify-write of the patchable columns; call inside a transaction with `current` read under lock. */
export async function patchFederation(sql: Sql, current: Federation, patch: FederationPatch): Promise<Federation> {
  const next = applyPatch(applyPatch(current, { updatedAt: new Date().toISOString() }), patch);
  await sql.count(
    'UPDATE federations SET state = $1, current_round = $2, latest_version_id = $3, updated_at = $4 WHERE id = $5',
    [next.state, next.currentRound, next.latestVersionId, next.updatedAt, current.id],
  );
  return next;
}

/** The round; `lock`: 'update' (it will change) or 'share' (it must not change until commit). */
export async function getRound(
  sql: Sql,
  federationId: string,
  round: number,
  lock?: 'update' | 'share',
): Promise<Round | null> {
  const suffix = lock === 'update' ? ' FOR UPDATE' : lock === 'share' ? ' FOR SHARE' : '';
  const row = await sql.one<RoundRow>(`${ROUNDS} WHERE federation_id = $1 AND round = $2${suffix}`, [
    federationId,
    round,
  ]);
  return row ? toRound(row) : null;
}

/** The CAS, inside a transaction: the round row is locked, so the state it checks is the state it replaces. */
export async function casRound(sql: Sql, input: TransitionRoundInput): Promise<Round | null> {
  const current = await getRound(sql, input.federationId, input.round, 'update');
  if (!current || !input.from.includes(current.state)) return null;
  const next: Round = { ...applyPatch(current, input.patch), state: input.to };
  await sql.count(
    `UPDATE rounds SET state = $1, closed_at = $2, failure_reason = $3, version_id = $4, deadline_at = $5,
       selected_site_ids = $6, client_config = $7 WHERE federation_id = $8 AND round = $9`,
    [
      next.state,
      next.closedAt,
      next.failureReason,
      next.versionId,
      next.deadlineAt,
      JSON.stringify(next.selectedSiteIds),
      JSON.stringify(next.clientConfig),
      current.federationId,
      current.round,
    ],
  );
  return getRound(sql, current.federationId, current.round);
}

export function federations(x: PgContext): FederationStore {
  return {
    async createFederation(f, audit) {
      const studyId = f.studyId ?? DEFAULT_STUDY_ID;
      return x.audited(audit, async (sql) => {
        if (!(await getStudy(sql, studyId))) throw unknownStudy();
        await insertUnique('Federation', () =>
          sql.count(
            `INSERT INTO federations (id, name, study_id, plan, state, created_at, updated_at, current_round,
               latest_version_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
            [
              f.id,
              f.name,
              studyId,
              JSON.stringify(f.plan),
              f.state ?? 'running',
              f.createdAt,
              f.updatedAt ?? f.createdAt,
              f.currentRound ?? 0,
              f.latestVersionId ?? null,
            ],
          ),
        );
        return (await getFederation(sql, f.id)) as Federation;
      });
    },

    async getFederation(id) {
      return getFederation(x.sql, id);
    },

    async listFederations() {
      return (await x.sql.rows<FederationRow>(`${FEDERATIONS} ORDER BY created_at, id`)).map(toFederation);
    },

    async updateFederation(id, patch, fence) {
      return x.tx(async (sql) => {
        await checkFence(sql, fence);
        const current = await getFederation(sql, id, true);
        return current ? patchFederation(sql, current, patch) : null;
      });
    },

    async amendFederationPlan(input, audit) {
      return x.audited(
        audit,
        async (sql): Promise<AmendPlanResult> => {
          // FOR UPDATE also waits for (and then blocks) rounds and contributions being inserted for it (their FK locks).
          const current = await getFederation(sql, input.id, true);
          if (!current) return { status: 'unknown' };
          if (current.state !== 'running') return { status: 'not-running' };
          const started =
            current.currentRound !== 0 ||
            current.latestVersionId !== null ||
            (await sql.one('SELECT 1 FROM rounds WHERE federation_id = $1 LIMIT 1', [input.id])) !== undefined ||
            (await sql.one('SELECT 1 FROM stats_contributions WHERE federation_id = $1 LIMIT 1', [input.id])) !==
              undefined;
          if (started) return { status: 'started' };
          await sql.count('UPDATE federations SET name = $1, plan = $2, updated_at = $3 WHERE id = $4', [
            input.name,
            JSON.stringify(input.plan),
            input.updatedAt,
            input.id,
          ]);
          return { status: 'amended', federation: (await getFederation(sql, input.id)) as Federation };
        },
        (r) => r.status === 'amended',
      );
    },

    async createRound(r, audit, fence) {
      return x.audited(audit, async (sql) => {
        await checkFence(sql, fence);
        if (!(await getFederation(sql, r.federationId))) throw unknownFederation();
        await insertUnique('Round', () =>
          sql.count(
            `INSERT INTO rounds (federation_id, round, state, base_version_id, selected_site_ids, client_config,
               opened_at, deadline_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
            [
              r.federationId,
              r.round,
              r.state ?? 'open',
              r.baseVersionId,
              JSON.stringify(r.selectedSiteIds),
              JSON.stringify(r.clientConfig),
              r.openedAt,
              r.deadlineAt,
            ],
          ),
        );
        return (await getRound(sql, r.federationId, r.round)) as Round;
      });
    },

    async getRound(federationId, round) {
      return getRound(x.sql, federationId, round);
    },

    async listRounds(federationId) {
      return (await x.sql.rows<RoundRow>(`${ROUNDS} WHERE federation_id = $1 ORDER BY round`, [federationId])).map(
        toRound,
      );
    },

    async transitionRound(input) {
      return x.audited(
        input.audit,
        async (sql) => {
          await checkFence(sql, input.fence);
          return casRound(sql, input);
        },
        (r) => r !== null,
      );
    },
  };
}
