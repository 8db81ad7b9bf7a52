/** SQLite: model registry (versions, weights, strategy state) and evaluations. */
import { alreadyExists, unknownFederation, unknownVersion } from '../errors';
import type { Evaluation, FederationPatch, ModelVersion, NewEvaluation } from '../records';
import type { VersionStore } from '../types';
import { applyPatch, jsonOrNull } from '../util';
import { appendAudit, signHead } from './audit';
import { fromBlob, toBlob, type SqlContext, type SqliteContext } from './context';
import { casRound, getFederation, getRound, patchFederation } from './federations';
import { checkFence } from './leases';
import { VersionCache } from '../version-cache';

interface VersionRow extends Omit<ModelVersion, 'meta'> {
  meta: string;
}
interface EvaluationRow extends Omit<Evaluation, 'metrics' | 'calibration'> {
  metrics: string;
  calibration: string | null;
}

const VERSIONS = `SELECT id, federation_id AS federationId, parent_version_id AS parentVersionId, round, meta,
  signature, weights_sha256 AS weightsSha256, created_at AS createdAt FROM model_versions`;
const EVALUATIONS = `SELECT version_id AS versionId, site_id AS siteId, metrics, calibration, n,
  created_at AS createdAt FROM evaluations`;

function toVersion(row: VersionRow): ModelVersion {
  return { ...row, meta: JSON.parse(row.meta) as ModelVersion['meta'] };
}

function toEvaluation(row: EvaluationRow): Evaluation {
  return {
    ...row,
    metrics: JSON.parse(row.metrics) as Evaluation['metrics'],
    calibration: row.calibration === null ? null : (JSON.parse(row.calibration) as Evaluation['metrics']),
  };
}

function getVersion(c: SqlContext, id: string): ModelVersion | null {
  const row = c.stmt(`${VERSIONS} WHERE id = ?`).get(id) as VersionRow | undefined;
  return row ? toVersion(row) : null;
}

/** Whether version `id` exists, without reading (or parsing) its metadata. */
export function hasVersion(c: SqlContext, id: string): boolean {
  return c.stmt('SELECT 1 FROM model_versions WHERE id = ?').pluck().get(id) !== undefined;
}

/** Inserts or replaces the site's evaluation of a version (within the caller's transaction); UNKNOWN_MODEL_VERSION when there is no such version. */
export function upsertEvaluation(c: SqlContext, e: NewEvaluation): void {
  if (!hasVersion(c, e.versionId)) throw unknownVersion();
  c.stmt(
    `INSERT INTO evaluations (version_id, site_id, metrics, calibration, n, created_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (version_id, site_id) DO UPDATE SET metrics = excluded.metrics,
       calibration = excluded.calibration, n = excluded.n, created_at = excluded.created_at`,
  ).run(e.versionId, e.siteId, JSON.stringify(e.metrics), jsonOrNull(e.calibration), e.n, e.createdAt);
}

/** The one blob column `sql` selects for `key`, copied; null when no row. */
function readBlob(c: SqlContext, sql: string, key: string): Uint8Array | null {
  const blob = c.stmt(sql).pluck().get(key) as Buffer | undefined;
  return blob ? fromBlob(blob) : null;
}

export function versions(x: SqliteContext): VersionStore {
  const cache = new VersionCache();
  const committed = (row: VersionRow | undefined) => (row ? cache.of(row, toVersion) : null);
  return {
    async publishVersion(input) {
      const { version: v } = input;
      const c = x.c;
      return c.tx(() => {
        checkFence(c, input.fence);
        const federation = getFederation(c, v.federationId);
        if (!federation) throw unknownFederation();
        if (hasVersion(c, v.id)) throw alreadyExists('Model version');
        if (input.round) {
          const current = getRound(c, input.round.federationId, input.round.round);
          const patch = { versionId: v.id, closedAt: current?.closedAt ?? v.createdAt };
          if (!casRound(c, { ...input.round, to: 'published', patch })) return null; // nothing written yet
        }
        c.stmt(
          `INSERT INTO model_versions (id, federation_id, parent_version_id, round, meta, signature, weights_sha256,
             created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          v.id,
          v.federationId,
          v.parentVersionId,
          v.round,
          JSON.stringify(v.meta),
          v.signature,
          v.weightsSha256,
          v.createdAt,
        );
        c.stmt('INSERT INTO version_weights (version_id, weights) VALUES (?, ?)').run(v.id, toBlob(input.weights));
        if (input.strategyState === null) {
          c.stmt('DELETE FROM strategy_states WHERE federation_id = ?').run(v.federationId);
        } else if (input.strategyState !== undefined) {
          c.stmt(
            `INSERT INTO strategy_states (federation_id, state) VALUES (?, ?)
             ON CONFLICT (federation_id) DO UPDATE SET state = excluded.state`,
          ).run(v.federationId, toBlob(input.strategyState));
        }
        const defaults: FederationPatch = { latestVersionId: v.id, updatedAt: v.createdAt };
        patchFederation(c, federation, applyPatch(defaults, input.federationPatch));
        if (input.audit) {
          const appended = appendAudit(c, input.audit);
          if (input.signAuditHead)
            signHead(c, { seq: appended.seq, hash: appended.hash, at: appended.at }, input.signAuditHead);
        }
        return getVersion(c, v.id);
      });
    },

    async getVersion(id) {
      return cache.get(id) ?? committed(x.c.stmt(`${VERSIONS} WHERE id = ?`).get(id) as VersionRow | undefined);
    },

    async getVersionWeights(id) {
      return readBlob(x.c, 'SELECT weights FROM version_weights WHERE version_id = ?', id);
    },

    async listVersions(filter) {
      const c = x.c;
      const rows =
        filter?.federationId === undefined
          ? c.stmt(`${VERSIONS} ORDER BY seq`).all()
          : c.stmt(`${VERSIONS} WHERE federation_id = ? ORDER BY seq`).all(filter.federationId);
      return (rows as VersionRow[]).map((row) => cache.of(row, toVersion));
    },

    async latestVersion(federationId) {
      const row = x.c.stmt(`${VERSIONS} WHERE federation_id = ? ORDER BY seq DESC LIMIT 1`).get(federationId) as
        VersionRow | undefined;
      return committed(row);
    },

    async getStrategyState(federationId) {
      return readBlob(x.c, 'SELECT state FROM strategy_states WHERE federation_id = ?', federationId);
    },

    async putEvaluation(e) {
      return x.batch.run((c) =>
        c.tx(() => {
          upsertEvaluation(c, e);
          return toEvaluation(
            c.stmt(`${EVALUATIONS} WHERE version_id = ? AND site_id = ?`).get(e.versionId, e.siteId) as EvaluationRow,
          );
        }),
      );
    },

    async listEvaluations(versionId) {
      const rows = x.c.stmt(`${EVALUATIONS} WHERE version_id = ? ORDER BY site_id`).all(versionId) as EvaluationRow[];
      return rows.map(toEvaluation);
    },

    async listFederationEvaluations(federationId) {
      const rows = x.c
        .stmt(
          `SELECT e.version_id AS versionId, e.site_id AS siteId, e.metrics, e.calibration, e.n,
             e.created_at AS createdAt
           FROM evaluations e JOIN model_versions v ON v.id = e.version_id
           WHERE v.federation_id = ? ORDER BY v.seq, e.site_id`,
        )
        .all(federationId) as EvaluationRow[];
      return rows.map(toEvaluation);
    },
  };
}
