import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TwinfedError, silentLogger, type Logger } from '@twinfed/shared';
import { ingestStream } from '../stream/ingest';
import type { IngestQueue } from '../stream/ingest-queue';
import type { LiveScorer } from '../stream/live-scorer';
import { collectionBundle, riskAssessmentsFor } from '../scoring/risk-assessment';
import type { TwinScore } from '../scoring/score';
import type { TwinStore } from '../twins/store-types';
import { readJsonBody, sendError, sendJson } from './http-util';
import { bearerChecker } from './token';

/** Default port of `twinfed-site serve` (the coordinator's default is 8470). */
export const DEFAULT_LOCAL_API_PORT = 8471;

/** Options of {@link startLocalApi}. */
interface LocalApiOptions {
  /** Interface to bind (default 127.0.0.1: this machine only). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** The bearer token callers present (see `loadOrCreateLocalApiToken`). */
  token: string;
  store: TwinStore;
  queue: IngestQueue;
  scorer: LiveScorer;
  /** Largest request body in bytes (default 4 MiB). */
  maxBodyBytes?: number;
  /** Requests handled at once; more get 429 with Retry-After (default 64). */
  maxConcurrent?: number;
  /** Identifier system of the hospital id in FHIR subjects (e.g. the MRN system), when the site knows it. */
  patientIdentifierSystem?: string;
  /** Seconds in the Retry-After of 429 and 503 answers (default 1). */
  retryAfterSeconds?: number;
  logger?: Logger;
}

/** A running local API. */
export interface LocalApi {
  /** Base URL, e.g. `http://127.0.0.1:8471`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A score as the API serves it: pseudonymous id, never the hospital id. */
export function scoreView(s: TwinScore): Record<string, unknown> {
  return {
    pid: s.pid,
    score: s.score,
    tier: s.tier,
    versionId: s.versionId,
    at: new Date(s.at).toISOString(),
    explainedBy: s.explainedBy,
    contributions: s.contributions.map((c) => ({
      feature: c.feature,
      value: c.value,
      contribution: c.contribution,
      text: c.text,
    })),
  };
}

/**
 * The site's local, authenticated API (node:http, no framework): wearable gateways post observations, local
 * tools read the live scores. Every route but `GET /healthz` needs `Authorization: Bearer <token>`.
 * - `POST /v1/observations`: a wearable batch or FHIR Observation(s) → `{accepted, duplicates, rejected:[{index, reason}]}`;
 *   413 over the body or batch limit, 503 + Retry-After when the ingest queue is full.
 * - `GET /v1/scores?top=20`: the highest scores; `?hospitalId=<id>` looks one patient up (resolved locally, audited).
 * - `GET /v1/twins/:pid/score`: one twin's latest score (waits for a pending rescore of that twin, ≤ 1 s).
 * - `GET /v1/status`: model version, scored twins, pending changes, queue depth.
 * The two score routes answer FHIR R4 for the EHR with `?format=fhir` or `Accept: application/fhir+json`: a
 * RiskAssessment per score (a `collection` Bundle for `/v1/scores`) whose subject is the hospital's own patient id,
 * resolved here from the pseudonym and audited under the `X-Twinfed-Actor` header.
 */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const logger = options.logger ?? silentLogger();
  const authorized = bearerChecker(options.token);
  const retryAfter = options.retryAfterSeconds ?? 1;
  const maxConcurrent = options.maxConcurrent ?? 64;
  let inFlight = 0;
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') return sendJson(res, 200, { ok: true });
    if (!authorized(req.headers.authorization)) {
      req.resume();
      return sendError(
        res,
        new TwinfedError('UNAUTHENTICATED', 'Present the local API token: Authorization: Bearer <token>.'),
        retryAfter,
      );
    }
    if (inFlight >= maxConcurrent) {
      req.resume();
      return sendError(res, new TwinfedError('RATE_LIMITED', 'Too many requests at once; retry later.'), retryAfter);
    }
    inFlight++;
    route(req, res, options)
      .catch((e: unknown) => {
        if (!(e instanceof TwinfedError))
          logger.error(
            { err: e instanceof Error ? e.message : String(e), method: req.method },
            'local API request failed',
          );
        sendError(res, e, retryAfter);
      })
      .finally(() => inFlight--);
  });
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, o: LocalApiOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const path = url.pathname;
  if (path === '/v1/observations') {
    if (req.method !== 'POST') throw new TwinfedError('NOT_FOUND', 'Use POST /v1/observations.');
    const body = await readJsonBody(req, o.maxBodyBytes ?? 4 * 1024 * 1024);
    return sendJson(res, 200, await ingestStream(o.queue, body));
  }
  req.resume();
  if (req.method !== 'GET') throw new TwinfedError('NOT_FOUND');
  if (path === '/v1/status') return sendJson(res, 200, { ...o.scorer.status(), queueDepth: o.queue.depth });
  const fhir = wantsFhir(url, req);
  if (path === '/v1/scores') {
    const { versionId, scores: found } = await scores(url, req, o);
    if (!fhir) return sendJson(res, 200, { versionId, scores: found.map(scoreView) });
    return sendFhir(res, collectionBundle(await asFhir(found, req, o)));
  }
  const m = /^\/v1\/twins\/([0-9a-f]{64})\/score$/.exec(path);
  if (m) {
    const s = await twinScore(m[1]!, o);
    return fhir ? sendFhir(res, (await asFhir([s], req, o))[0]) : sendJson(res, 200, scoreView(s));
  }
  throw new TwinfedError('NOT_FOUND');
}

const FHIR_JSON = 'application/fhir+json';

/** FHIR asked for: `?format=fhir`, or an Accept header naming application/fhir+json. `?format=` else must be json. */
function wantsFhir(url: URL, req: IncomingMessage): boolean {
  const format = url.searchParams.get('format');
  if (format !== null && format !== 'fhir' && format !== 'json')
    throw new TwinfedError('BAD_REQUEST', 'format must be json or fhir.');
  return format === 'fhir' || (format === null && (req.headers.accept ?? '').toLowerCase().includes(FHIR_JSON));
}

function sendFhir(res: ServerResponse, body: unknown): void {
  sendJson(res, 200, body, { 'content-type': `${FHIR_JSON}; charset=utf-8` });
}

function actorOf(req: IncomingMessage): string {
  return String(req.headers['x-twinfed-actor'] ?? 'local-api').slice(0, 64);
}

/** RiskAssessments of scores with the model in use (the hospital ids resolved and audited). */
async function asFhir(found: readonly TwinScore[], req: IncomingMessage, o: LocalApiOptions) {
  const model = o.scorer.current()!;
  return riskAssessmentsFor({
    scores: found,
    store: o.store,
    actor: actorOf(req),
    reason: 'local API score as FHIR RiskAssessment',
    version: model.meta,
    plan: model.plan,
    ...(o.patientIdentifierSystem ? { identifierSystem: o.patientIdentifierSystem } : {}),
  });
}

function requireModel(o: LocalApiOptions): string {
  const model = o.scorer.current();
  if (!model)
    throw new TwinfedError('NOT_READY', 'No verified model yet: scores appear after the first published version.');
  return model.meta.versionId;
}

async function scores(
  url: URL,
  req: IncomingMessage,
  o: LocalApiOptions,
): Promise<{ versionId: string; scores: TwinScore[] }> {
  const versionId = requireModel(o);
  const hospitalId = url.searchParams.get('hospitalId');
  if (hospitalId !== null) {
    const pid = await o.store.resolvePatient({ hospitalId });
    if (pid === null) throw new TwinfedError('NOT_FOUND', 'No twin has this hospital id.');
    await o.store.resolveHospitalId(pid, { actor: actorOf(req), reason: 'local API score lookup by hospital id' });
    const s = await scoreOf(pid, o);
    return { versionId, scores: s ? [s] : [] };
  }
  const topText = url.searchParams.get('top') ?? '20';
  const top = Number(topText);
  if (!Number.isInteger(top) || top < 1 || top > 10_000)
    throw new TwinfedError('BAD_REQUEST', 'top must be an integer from 1 to 10000.');
  return { versionId, scores: o.scorer.top(top) };
}

async function scoreOf(pid: string, o: LocalApiOptions): Promise<TwinScore | undefined> {
  if (o.scorer.isPending(pid)) await o.scorer.settle(1000);
  return o.scorer.get(pid);
}

async function twinScore(pid: string, o: LocalApiOptions): Promise<TwinScore> {
  requireModel(o);
  const s = await scoreOf(pid, o);
  if (!s)
    throw new TwinfedError('NOT_FOUND', 'No score for this twin (unknown, not yet scored, or scoring consent denied).');
  return s;
}
