import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  PROTOCOL_VERSION,
  deserializeWeights,
  fromB64,
  generateIdentity,
  publicPart,
  routes,
  sealUpdate,
  signEnrollProof,
  signRequest,
  verifyModelVersion,
  type CurrentRound,
  type Identity,
  type WeightSet,
  silentLogger,
} from '@twinfed/shared';
import { loadConfig } from '../config';
import { startCoordinator, type RunningCoordinator } from '../main';

/**
 * A coordinator on 127.0.0.1:0 with a temp data dir, silent logs, for tests. `replicaOf`: a second instance of that
 * coordinator (its data dir: the same keys, operator token and SQLite store). `redis`: share push and failure counts
 * through that Redis under that prefix (see __tests__/redis.ts).
 */
export async function startTestCoordinator(
  opts: {
    /** `memory`, `sqlite` (in the data dir) or a `postgres://…?schema=…` URL. */
    store?: string;
    dataDir?: string;
    now?: () => number;
    maxAuthFailuresPerMinute?: number;
    /** PEM files: serve HTTPS + WSS. */
    tls?: { cert: string; key: string };
    trustProxy?: string[];
    redis?: { url: string; prefix: string };
    replicaOf?: { dataDir: string };
    /** TWINFED_CATCH_UP_POLL_MS (default 1 s). */
    catchUpPollMs?: number;
  } = {},
): Promise<RunningCoordinator & { dataDir: string; operatorToken: string }> {
  if (opts.replicaOf && opts.store === 'memory') throw new Error('a replica shares its store: not the memory store');
  const dataDir = opts.replicaOf?.dataDir ?? opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-coord-'));
  // Tests that walk refusals (the route × role matrix) fail on purpose: the failure limiter is off unless asked for.
  const config = loadConfig(
    {},
    {
      dataDir,
      port: 0,
      store: opts.store ?? (opts.replicaOf ? 'sqlite' : 'memory'),
      logLevel: 'silent',
      maxAuthFailuresPerMinute: opts.maxAuthFailuresPerMinute ?? 0,
      ...(opts.tls ? { tlsCert: opts.tls.cert, tlsKey: opts.tls.key } : {}),
      ...(opts.trustProxy ? { trustProxy: opts.trustProxy } : {}),
      ...(opts.redis ? { redisUrl: opts.redis.url, redisPrefix: opts.redis.prefix } : {}),
      ...(opts.catchUpPollMs ? { catchUpPollMs: opts.catchUpPollMs } : {}),
    },
  );
  const running = await startCoordinator(config, { logger: silentLogger(), ...(opts.now ? { now: opts.now } : {}) });
  const operatorToken = fs.readFileSync(running.operatorTokenFile, 'utf8').trim();
  return Object.assign(running, { dataDir, operatorToken });
}

/** A site identity enrolled with a coordinator, able to sign requests and seal updates. */
export interface TestSite {
  siteId: string;
  identity: Identity;
  coordinatorBoxPublicKey: Uint8Array;
  coordinatorSignPublicKey: Uint8Array;
  /** A signed request (returns the raw Response). */
  request(method: string, p: string, body?: Uint8Array | object): Promise<Response>;
  /** Seals an update for a round of a federation. */
  seal(opts: {
    federationId: string;
    round: number;
    baseVersionId: string;
    weights: WeightSet;
    numExamples: number;
    metrics?: Record<string, number>;
  }): Uint8Array;
}

/** A JSON request with a bearer token (an operator's or a researcher's). */
export async function bearerRequest(
  url: string,
  token: string,
  method: string,
  p: string,
  body?: unknown,
): Promise<Response> {
  return fetch(url + p, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Operator JSON request with the bearer token. */
export async function operator(
  c: { url: string; operatorToken: string },
  method: string,
  p: string,
  body?: unknown,
): Promise<Response> {
  return bearerRequest(c.url, c.operatorToken, method, p, body);
}

/** Signed requests of site `siteId` to the coordinator at `url` (a JSON object, raw bytes, or no body). */
export function signedRequests(url: string, siteId: string, signSecretKey: Uint8Array): TestSite['request'] {
  return async (method, p, b) => {
    const bytes =
      b === undefined ? new Uint8Array(0) : b instanceof Uint8Array ? b : new TextEncoder().encode(JSON.stringify(b));
    const headers: Record<string, string> = signRequest({ method, path: p, body: bytes, siteId, signSecretKey });
    if (b !== undefined)
      headers['content-type'] = b instanceof Uint8Array ? 'application/octet-stream' : 'application/json';
    return fetch(url + p, { method, headers, ...(b === undefined ? {} : { body: bytes }) });
  };
}

/** Invites and enrolls a new site through the real REST API. */
export async function enrollTestSite(c: { url: string; operatorToken: string }, name: string): Promise<TestSite> {
  const inv = (await (await operator(c, 'POST', routes.invitations, { siteName: name })).json()) as { token: string };
  const identity = generateIdentity();
  const coordinator = (await (await fetch(c.url + routes.coordinatorKeys)).json()) as {
    signPublicKey: string;
    boxPublicKey: string;
  };
  const res = await fetch(c.url + routes.enroll, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      protocol: PROTOCOL_VERSION,
      token: inv.token,
      ...publicPart(identity),
      proof: signEnrollProof({ token: inv.token, coordinator, identity }),
    }),
  });
  if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { siteId: string; coordinator: { boxPublicKey: string; signPublicKey: string } };
  const siteId = body.siteId;
  return {
    siteId,
    identity,
    coordinatorBoxPublicKey: fromB64(body.coordinator.boxPublicKey),
    coordinatorSignPublicKey: fromB64(body.coordinator.signPublicKey),
    // `c.url` read at each request: a test that restarts the coordinator points `c` at the new one (rounds/secagg.test.ts).
    request: (method, p, b) => signedRequests(c.url, siteId, identity.sign.secretKey)(method, p, b),
    seal: (o) =>
      sealUpdate({
        header: {
          protocol: PROTOCOL_VERSION,
          federationId: o.federationId,
          round: o.round,
          siteId,
          baseVersionId: o.baseVersionId,
          numExamples: o.numExamples,
          metrics: o.metrics ?? {},
          sentAt: new Date().toISOString(),
        },
        weights: o.weights,
        identity,
        coordinatorBoxPublicKey: body.coordinator.boxPublicKey
          ? fromB64(body.coordinator.boxPublicKey)
          : new Uint8Array(),
      }),
  };
}

/** A small federation plan (logistic regression over `inputs` features). */
export function testPlan(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const inputs = 3;
  return {
    name: 'test federation',
    model: { kind: 'logistic-regression', inputs },
    data: { features: ['a', 'b', 'c'].slice(0, inputs) },
    strategy: { name: 'fedavg' },
    training: { steps: 10, batchSize: 4, optimizer: 'sgd', lr: 0.1 },
    rounds: 2,
    minSites: 2,
    roundDeadlineSeconds: 60,
    ...overrides,
  };
}

/** A response's JSON body, typed by the caller (tests only: no validation). */
export async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

/**
 * The current round of `federationId` as `site` sees it, and `site`'s sealed update for it: its base model's layout
 * with every weight 0.5, from 10 examples.
 */
export async function sealedUpdate(
  site: TestSite,
  federationId: string,
): Promise<{ current: CurrentRound; sealed: Uint8Array }> {
  const current = await json<CurrentRound>(site.request('GET', routes.currentRound(federationId)));
  const baseVersionId = current.round!.baseVersionId;
  const base = await baseWeights(site, baseVersionId);
  const weights: WeightSet = { layout: base.layout, data: new Float32Array(base.data.length).fill(0.5) };
  const sealed = site.seal({ federationId, round: current.round!.round, baseVersionId, weights, numExamples: 10 });
  return { current, sealed };
}

/** A version's weights as `site` downloads them, checked against the coordinator-signed metadata. */
export async function baseWeights(site: TestSite, versionId: string): Promise<WeightSet> {
  const meta = await json<{ meta: unknown; signature: string }>(site.request('GET', routes.model(versionId)));
  const bytes = new Uint8Array(await (await site.request('GET', routes.modelWeights(versionId))).arrayBuffer());
  const verified = verifyModelVersion({
    meta: meta.meta,
    signature: meta.signature,
    weightsBytes: bytes,
    coordinatorSignPublicKey: site.coordinatorSignPublicKey,
  });
  return deserializeWeights(bytes, { expectedLayout: verified.layout });
}
