/** Test support: a FakeCoordinator served over a `fetch` function that records every request the site sends. */
import {
  PROTOCOL_VERSION,
  PopulationReportSchema,
  TwinfedError,
  fingerprint,
  publicPart,
  roundDownloadHead,
  routes,
  signedDownloadHead,
  type PlanDecision,
  type PopulationReport,
} from '@twinfed/shared';
import type { FetchLike } from '../transport/http';
import type { FakeCoordinator } from './fake-coordinator';

/** One request as the site sent it. */
export interface CapturedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The body as text (binary bodies as latin1, so any embedded ASCII shows). */
  body: string;
}

/** The fetch, the requests it saw and the population reports it accepted. */
export interface CoordinatorFetch {
  fetch: FetchLike;
  requests: CapturedRequest[];
  populationReports: PopulationReport[];
}

function bodyText(body: RequestInit['body']): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('latin1');
  throw new Error(`coordinatorFetch: unexpected request body type ${Object.prototype.toString.call(body)}`);
}

/** Serves `c` (enrollment + the site routes + population reports) and records each request. */
export function coordinatorFetch(c: FakeCoordinator): CoordinatorFetch {
  const keys = {
    protocol: PROTOCOL_VERSION,
    ...publicPart(c.identity),
    fingerprint: fingerprint(publicPart(c.identity)),
  };
  const fid = c.federationId;
  const requests: CapturedRequest[] = [];
  const populationReports: PopulationReport[] = [];
  const fetch: FetchLike = async (url, init) => {
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
    requests.push({ method: init.method ?? 'GET', url, headers, body: bodyText(init.body) });
    const p = new URL(url).pathname;
    try {
      if (p === routes.coordinatorKeys) return Response.json(keys);
      if (p === routes.enroll) {
        const body = JSON.parse(bodyText(init.body)) as { signPublicKey: string; boxPublicKey: string };
        c.siteSignPublicKey = Buffer.from(body.signPublicKey, 'base64');
        c.siteBoxPublicKey = Buffer.from(body.boxPublicKey, 'base64');
        return Response.json({ siteId: 'site-a', name: 'Site A', coordinator: keys });
      }
      if (p === routes.populationReports) {
        populationReports.push(PopulationReportSchema.parse(JSON.parse(bodyText(init.body))));
        return Response.json({}, { status: 201 });
      }
      if (p === routes.currentRound(fid)) return Response.json(await c.currentRound(fid));
      if (p === routes.currentRoundDownload(fid) && c.currentRoundWithVersion) {
        const have = new URL(url).searchParams.get('have') ?? undefined;
        const answer = await c.currentRoundWithVersion(fid, { have });
        return new Response(Buffer.concat([roundDownloadHead(answer.current), answer.version ?? new Uint8Array(0)]));
      }
      if (p === routes.federation(fid)) return Response.json(await c.federation());
      if (p === routes.siteFederations) return Response.json({ federations: await c.offered() });
      if (p === routes.sitePrivacy) return Response.json(c.privacyLedger());
      const decision = /^\/v1\/federations\/([^/]+)\/decision$/.exec(p);
      if (decision && init.method === 'PUT') {
        const body = JSON.parse(bodyText(init.body)) as { decision: PlanDecision; planSha256: string };
        const federationId = decodeURIComponent(decision[1]!);
        await c.report(federationId, body.decision, body.planSha256);
        const view = {
          federationId,
          siteId: 'site-a',
          siteName: 'Site A',
          ...body,
          decidedAt: new Date().toISOString(),
        };
        return Response.json(view);
      }
      const download = /^\/v1\/models\/([^/]+)\/download$/.exec(p);
      if (download && c.modelDownload) {
        const d = await c.modelDownload(download[1]!);
        return new Response(Buffer.concat([signedDownloadHead(d), d.weights]));
      }
      const weights = /^\/v1\/models\/([^/]+)\/weights$/.exec(p);
      if (weights) {
        const w = await c.modelWeights(weights[1]!);
        return new Response(w.bytes, { headers: { etag: `"${w.etag}"` } });
      }
      const evaluation = /^\/v1\/models\/([^/]+)\/evaluations$/.exec(p);
      if (evaluation) {
        await c.postEvaluation({ versionId: evaluation[1]!, report: JSON.parse(bodyText(init.body)) });
        return Response.json({}, { status: 201 });
      }
      const model = /^\/v1\/models\/([^/]+)$/.exec(p);
      if (model) return Response.json(await c.model(model[1]!));
      const upload = /\/rounds\/(\d+)\/updates$/.exec(p);
      if (upload)
        return Response.json(
          await c.uploadUpdate({ federationId: fid, round: Number(upload[1]), envelope: init.body as Uint8Array }),
        );
      return Response.json({ error: { code: 'NOT_FOUND', message: 'no' } }, { status: 404 });
    } catch (e) {
      if (e instanceof TwinfedError) return Response.json(e.toBody(), { status: e.status });
      throw e;
    }
  };
  return { fetch, requests, populationReports };
}
