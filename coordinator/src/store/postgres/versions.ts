/** PostgreSQL: model registry (versions, weights, strategy state) and evaluations. */
import { alreadyExists, unknownFederation, unknownVersion } from '../errors';
import type { Evaluation, FederationPatch, ModelVersion, NewEvaluation } from '../records';
import type { VersionStore } from '../types';
import { applyPatch, jsonOrNull } from '../util';
import { appendAudit, signHead } from './audit';
import { fromBytea, insertUnique, parseJson, toBytea, type PgContext } from './context';
import { FOREIGN_KEY_VIOLATION, pgCode, type Sql } from './db';
import { checkFence } from './leases';
import { casRound, getFederation, getRound, patchFederation } from './federations';
import { VersionCache, WeightsCache } from '../version-cache';

interface VersionRow extends Omit<ModelVersion, 'meta'> {
  meta: string;
}
interface EvaluationRow extends Omit<Evaluation, 'metrics' | 'calibration'> {
  metrics: string;
  calibration: string | null;
}

const VERSIONS = `SELECT id, federation_id AS "federationId", parent_version_id AS "parentVersionId", round, meta,
  signature, weights_sha256 AS "weightsSha256", created_at AS "createdAt" FROM model_versions`;
const EVALUATION_COLUMNS = `version_id AS "versionId", site_id AS "siteId", metrics, calibration, n,
  created_at AS "createdAt"`;
const EVALUATIONS = `SELECT ${EVALUATION_COLUMNS} FROM evaluations`;

/** The columns a new evaluation is inserted into, in the order of {@link evaluationValues}. */
export const EVALUATION_INSERT_COLUMNS = 'version_id, site_id, metrics, calibration, n, created_at';
/** The tail of an evaluation insert: a site's later report of a version replaces its earlier one. */
export const EVALUATION_UPSERT = `ON CONFLICT (version_id, site_id) DO UPDATE SET metrics = EXCLUDED.metrics,
  calibration = EXCLUDED.calibration, n = EXCLUDED.n, created_at = EXCLUDED.created_at`;
/** A new evaluation's values for {@link EVALUATION_INSERT_COLUMNS}. */
export const evaluationValues = (e: NewEvaluation): unknown[] => [
  e.versionId,
  e.siteId,
  JSON.stringify(e.metrics),
  jsonOrNull(e.calibration),
  e.n,
  e.createdAt,
];

const toVersion = (row: VersionRow): ModelVersion => ({ ...row, meta: parseJson<ModelVersion['meta']>(row.meta) });
const toEvaluation = (row: EvaluationRow): Evaluation => ({
  ...row,
  metrics: parseJson<Evaluation['metrics']>(row.metrics),
  calibration: row.calibration === null ? null : parseJson<Evaluation['metrics']>(row.calibration),
});

async function getVersion(sql: Sql, id: string): Promise<ModelVersion | null> {
  const row = await sql.one<VersionRow>(`${VERSIONS} WHERE id = $1`, [id]);
  return row ? toVersion(row) : null;
}

/** Whether version `id` exists, without reading (or parsing) its metadata. */
export async function hasVersion(sql: Sql, id: string): Promise<boolean> {
  return (await sql.one('SELECT 1 FROM model_versions WHERE id = $1', [id])) !== undefined;
}

/** The one bytea column `text` selects for `key`, copied; null when no row. */
async function readBytes(sql: Sql, text: string, key: string): Promise<Uint8Array | null> {
  const row = await sql.one<{ b: Buffer }>(text, [key]);
  return row ? fromBytea(row.b) : null;
}

export function versions(x: PgContext): VersionStore {
  const cache = new VersionCache();
  const weights = new WeightsCache();
  const committed = (row: VersionRow | null | undefined) => (row ? cache.of(row, toVersion) : null);
  return {
    async publishVersion(input) {
      const { version: v } = input;
      return x.tx(async (sql) => {
        await checkFence(sql, input.fence);
        // The federation row is locked: publishes of one federation (from any replica) run one after the other.
        const federation = await getFederation(sql, v.federationId, true);
        if (!federation) throw unknownFederation();
        if (await hasVersion(sql, v.id)) throw alreadyExists('Model version');
        if (input.round) {
          const current = await getRound(sql, input.round.federationId, input.round.round);
          const patch = { versionId: v.id, closedAt: current?.closedAt ?? v.createdAt };
          if (!(await casRound(sql, { ...input.round, to: 'published', patch }))) return null; // nothing written
        }
        await insertUnique('Model version', () =>
          sql.count(
            `INSERT INTO model_versions (id, federation_id, parent_version_id, round, meta, signature, weights_sha256,
               created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
            [
              v.id,
              v.federationId,
              v.parentVersionId,
              v.round,
              JSON.stringify(v.meta),
              v.signature,
              v.weightsSha256,
              v.createdAt,
            ],
          ),
        );
        await sql.count('INSERT INTO version_weights (version_id, weights) VALUES ($1, $2)', [
          v.id,
          toBytea(input.weights),
        ]);
        if (input.strategyState === null) {
          await sql.count('DELETE FROM strategy_states WHERE federation_id = $1', [v.federationId]);
        } else if (input.strategyState !== undefined) {
          await sql.count(
            `INSERT INTO strategy_states (federation_id, state) VALUES ($1, $2)
             ON CONFLICT (federation_id) DO UPDATE SET state = EXCLUDED.state`,
            [v.federationId, toBytea(input.strategyState)],
          );
        }
        const defaults: FederationPatch = { latestVersionId: v.id, updatedAt: v.createdAt };
        await patchFederation(sql, federation, applyPatch(defaults, input.federationPatch));
        if (input.audit) {
          const appended = await appendAudit(sql, input.audit);
          if (input.signAuditHead)
            await signHead(sql, { seq: appended.seq, hash: appended.hash, at: appended.at }, input.signAuditHead);
        }
        return getVersion(sql, v.id);
      });
    },

    async getVersion(id) {
      return cache.get(id) ?? committed(await x.sql.one<VersionRow>(`${VERSIONS} WHERE id = $1`, [id]));
    },

    async getVersionWeights(id) {
      const cached = weights.get(id);
      if (cached) return cached;
      const bytes = await readBytes(x.sql, 'SELECT weights AS b FROM version_weights WHERE version_id = $1', id);
      if (bytes) weights.put(id, bytes);
      return bytes;
    },

    async listVersions(filter) {
      const rows =
        filter?.federationId === undefined
          ? await x.sql.rows<VersionRow>(`${VERSIONS} ORDER BY seq`)
          : await x.sql.rows<VersionRow>(`${VERSIONS} WHERE federation_id = $1 ORDER BY seq`, [filter.federationId]);
      return rows.map((row) => cache.of(row, toVersion));
    },

    async latestVersion(federationId) {
      const row = await x.sql.one<VersionRow>(`${VERSIONS} WHERE federation_id = $1 ORDER BY seq DESC LIMIT 1`, [
        federationId,
      ]);
      return committed(row);
    },

    async getStrategyState(federationId) {
      return readBytes(x.sql, 'SELECT state AS b FROM strategy_states WHERE federation_id = $1', federationId);
    },

    async putEvaluation(e) {
      // One autocommit statement: the foreign key on version_id is the existence check (a version is never deleted).
      try {
        const row = await x.sql.one<EvaluationRow>(
          `INSERT INTO evaluations (${EVALUATION_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ${EVALUATION_UPSERT}
           RETURNING ${EVALUATION_COLUMNS}`,
          evaluationValues(e),
        );
        return toEvaluation(row as EvaluationRow);
      } catch (err) {
        if (pgCode(err) === FOREIGN_KEY_VIOLATION) throw unknownVersion();
        throw err;
      }
    },

    async listEvaluations(versionId) {
      return (
        await x.sql.rows<EvaluationRow>(`${EVALUATIONS} WHERE version_id = $1 ORDER BY site_id`, [versionId])
      ).map(toEvaluation);
    },

    async listFederationEvaluations(federationId) {
      const rows = await x.sql.rows<EvaluationRow>(
        `SELECT e.version_id AS "versionId", e.site_id AS "siteId", e.metrics, e.calibration, e.n,
           e.created_at AS "createdAt"
         FROM evaluations e JOIN model_versions v ON v.id = e.version_id
         WHERE v.federation_id = $1 ORDER BY v.seq, e.site_id`,
        [federationId],
      );
      return rows.map(toEvaluation);
    },
  };
}
