import type { Request, Response } from 'express';
import {
  BINARY_MEDIA_TYPE,
  EvaluationReportSchema,
  TwinfedError,
  api,
  roundDownloadHead,
  signedDownloadHead,
  sharesContributorsWithSites,
} from '@twinfed/shared';
import type { Federation, ModelVersion } from '../../store';
import { answerBytes, answerJson } from '../answer';
import { idParam, jsonBody } from '../body';
import type { HttpDeps } from '../deps';
import { memberSite, requireSiteMember } from '../membership';
import { SiteVersionViews, evaluationView, versionView } from '../views';
import { checkEvaluationReport, evaluationRecord } from '../../registry/evaluation-limits';
import { visibleFederationIds } from '../study-scope';

const RoundDownloadQuery = api.currentRoundDownload.get.request.query;

/** Handlers for the model registry: versions, weights, evaluations; and the current round with the latest version. */
export function modelHandlers(deps: HttpDeps) {
  const siteViews = new SiteVersionViews(deps.identity);
  const getVersion = async (id: string) => {
    const v = await deps.store.getVersion(id);
    if (!v) throw new TwinfedError('UNKNOWN_MODEL_VERSION');
    return v;
  };
  /** The version, when the caller may see it: a site must belong to the version's federation. */
  const readableVersion = async (req: Request) => {
    const v = await getVersion(idParam(req, 'vid'));
    const siteId = await requireSiteMember(req, deps, v.federationId);
    return { v, siteId };
  };
  /** The version as a site of its federation may see it: count-only metadata unless the plan shares contributors. */
  const siteView = (v: ModelVersion, federation: Federation) =>
    sharesContributorsWithSites(deps.engine.parsed(federation).plan) ? versionView(v) : siteViews.of(v);
  /** The version as the caller may see it (operators and researchers: the full metadata). */
  const callerView = async (req: Request) => {
    const { v, siteId } = await readableVersion(req);
    if (siteId === null) return { v, view: versionView(v) };
    const federation = await deps.store.getFederation(v.federationId);
    if (!federation) throw new TwinfedError('UNKNOWN_FEDERATION');
    return { v, view: siteView(v, federation) };
  };
  /** The signed download of a version (signed-download.ts): the signed part as served, then the weights (not copied). */
  const readSignedDownload = async (v: ModelVersion, view: Parameters<typeof signedDownloadHead>[0]) => {
    const bytes = await deps.store.getVersionWeights(v.id);
    if (!bytes) throw new TwinfedError('UNKNOWN_MODEL_VERSION');
    return [signedDownloadHead(view), bytes];
  };
  /**
   * Kept by view for the last few views served: a site's view of a version is one object for every site
   * ({@link SiteVersionViews}), so after a publication the polls that carry the version serialise its head and read its
   * weights once. A version's weights never change (its signature covers their digest), and the view object changes
   * with the stored id, digest or signature; an operator's view is a new object each time (never served from here).
   */
  const downloads = new Map<object, Promise<Uint8Array[]>>();
  const signedDownload = (v: ModelVersion, view: Parameters<typeof signedDownloadHead>[0]) => {
    let parts = downloads.get(view);
    if (!parts) {
      parts = readSignedDownload(v, view);
      parts.catch(() => downloads.delete(view));
      if (downloads.size >= 4) downloads.delete(downloads.keys().next().value!);
      downloads.set(view, parts);
    }
    return parts;
  };
  return {
    list: async (req: Request, res: Response) => {
      const fid = typeof req.query.federation === 'string' ? req.query.federation : undefined;
      const visible = await visibleFederationIds(req, deps);
      const versions = await deps.store.listVersions(fid ? { federationId: fid } : {});
      res.json({ models: versions.filter((v) => !visible || visible.has(v.federationId)).map(versionView) });
    },
    get: async (req: Request, res: Response) => {
      res.json((await callerView(req)).view);
    },
    download: async (req: Request, res: Response) => {
      const { v, view } = await callerView(req);
      const parts = await signedDownload(v, view);
      res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
      answerBytes(res, BINARY_MEDIA_TYPE, parts);
    },
    /**
     * `rounds/current` and, unless the site holds it (`?have=`), the federation's latest version as `download` serves
     * it, in one answer. Membership first (the site was authenticated before the handler), then the query.
     */
    currentRoundDownload: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const { siteId, federation } = await memberSite(req, deps, fid);
      const query = RoundDownloadQuery.safeParse(req.query);
      if (!query.success) throw new TwinfedError('VALIDATION_FAILED', 'Use ?have=<version id>, or no query.');
      const current = await deps.engine.currentRoundFor(fid, siteId, federation);
      const latest = current.federation.latestVersionId;
      const parts: Uint8Array[] = [roundDownloadHead(current)];
      if (latest !== null && latest !== query.data.have) {
        const v = await getVersion(latest);
        parts.push(...(await signedDownload(v, siteView(v, federation))));
      }
      res.setHeader('Cache-Control', 'no-store');
      answerBytes(res, BINARY_MEDIA_TYPE, parts);
    },
    weights: async (req: Request, res: Response) => {
      const { v } = await readableVersion(req);
      const etag = `"${v.weightsSha256}"`;
      res.setHeader('ETag', etag);
      res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
      if (req.header('if-none-match') === etag) {
        res.status(304).end();
        return;
      }
      const bytes = await deps.store.getVersionWeights(v.id);
      if (!bytes) throw new TwinfedError('UNKNOWN_MODEL_VERSION');
      res.type(BINARY_MEDIA_TYPE).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
    evaluations: async (req: Request, res: Response) => {
      const v = await getVersion(idParam(req, 'vid'));
      res.json({ evaluations: (await deps.store.listEvaluations(v.id)).map(evaluationView) });
    },
    report: async (req: Request, res: Response) => {
      const v = await getVersion(idParam(req, 'vid'));
      const { siteId, federation } = await memberSite(req, deps, v.federationId);
      const report = jsonBody(req, EvaluationReportSchema);
      checkEvaluationReport(deps.engine.parsed(federation).plan, report);
      const stored = await deps.store.putEvaluation({
        ...evaluationRecord({ versionId: v.id, siteId, report }),
        createdAt: new Date(deps.now()).toISOString(),
      });
      answerJson(res, 201, evaluationView(stored));
    },
  };
}
