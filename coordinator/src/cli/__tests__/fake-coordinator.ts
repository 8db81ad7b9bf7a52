/**
 * A tiny express server on 127.0.0.1:0 that mimics the coordinator's operator routes (same paths, bodies,
 * wrapped lists, bearer auth, error bodies, ETag). Model versions are really signed with a fresh identity.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import {
  PROTOCOL_VERSION,
  PlanSchema,
  TwinfedError,
  fingerprint,
  generateIdentity,
  initialWeights,
  layoutOf,
  planDigest,
  publicPart,
  serializeWeights,
  sha256Hex,
  signModelVersion,
  type EvaluationView,
  type FederationView,
  type ModelSpec,
  type NormalizationView,
  type ModelVersionMeta,
  type RoundView,
  type SiteDecisionView,
  type SiteView,
} from '@twinfed/shared';

export const OPERATOR_TOKEN = 'tfo_test-operator-token-0123456789';

/** A request the fake saw. */
export interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

/** A canned answer for one `METHOD /path` (path without query). */
export interface Canned {
  status: number;
  body?: unknown;
}

export interface FakeCoordinator {
  url: string;
  seen: Seen[];
  sites: SiteView[];
  federations: FederationView[];
  rounds: RoundView[];
  versions: Array<{
    id: string;
    federationId: string;
    parentVersionId: string | null;
    round: number;
    weightsSha256: string;
    signature: string;
    createdAt: string;
    meta: ModelVersionMeta;
  }>;
  weights: Map<string, Uint8Array>;
  evaluations: EvaluationView[];
  /** Each site's decision on fed-1's plan (site-a approved it, site-b has not decided). */
  decisions: SiteDecisionView[];
  keys: { protocol: number; signPublicKey: string; boxPublicKey: string; fingerprint: string };
  /** The key pair behind `keys` (signs versions, and what a test wants signed as the coordinator). */
  identity: ReturnType<typeof generateIdentity>;
  /** Answer of `GET /v1/federations/:fid/normalization` (default: waiting). */
  normalization: NormalizationView;
  /** Replaces fed-1's plan and re-signs its versions with the new plan digest (as the real coordinator would have). */
  setPlan(plan: unknown): void;
  canned: Map<string, Canned>;
  close(): Promise<void>;
}

const SPEC: ModelSpec = { kind: 'logistic-regression', inputs: 2 };
const AT = '2025-01-02T03:04:05.000Z';

function fixtures(identity: ReturnType<typeof generateIdentity>) {
  const plan = PlanSchema.parse({
    name: 'heart-fedavg',
    model: SPEC,
    data: { features: ['age', 'chol'] },
    strategy: { name: 'fedavg' },
    training: { epochs: 1 },
    rounds: 5,
    minSites: 2,
  });
  const federation: FederationView = {
    id: 'fed-1',
    name: 'heart-fedavg',
    studyId: 'default',
    state: 'running',
    plan,
    currentRound: 2,
    latestVersionId: 'fed-1.v1',
    createdAt: AT,
    updatedAt: AT,
  };
  const versions: FakeCoordinator['versions'] = [];
  const weights = new Map<string, Uint8Array>();
  for (const round of [0, 1]) {
    const bytes = serializeWeights(initialWeights(SPEC, round + 7));
    const id = `fed-1.v${round}`;
    const meta: ModelVersionMeta = {
      protocol: PROTOCOL_VERSION,
      federationId: 'fed-1',
      versionId: id,
      parentVersionId: round === 0 ? null : `fed-1.v${round - 1}`,
      round,
      strategy: 'fedavg',
      layout: layoutOf(SPEC).map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype })),
      weightsSha256: sha256Hex(bytes),
      contributors:
        round === 0
          ? []
          : [
              { siteId: 'site-a', numExamples: 120 },
              { siteId: 'site-b', numExamples: 80 },
            ],
      metrics: round === 0 ? {} : { loss: 0.61234, accuracy: 0.7 },
      planSha256: planDigest(plan),
      createdAt: AT,
    };
    const signature = signModelVersion(meta, identity.sign.secretKey);
    versions.push({
      id,
      federationId: 'fed-1',
      parentVersionId: meta.parentVersionId,
      round,
      weightsSha256: meta.weightsSha256,
      signature,
      createdAt: AT,
      meta,
    });
    weights.set(id, bytes);
  }
  const rounds: RoundView[] = [
    {
      federationId: 'fed-1',
      round: 2,
      state: 'collecting',
      baseVersionId: 'fed-1.v1',
      selectedSiteIds: ['site-a', 'site-b'],
      selectedCount: 2,
      received: 1,
      openedAt: AT,
      deadlineAt: AT,
      closedAt: null,
      failureReason: null,
      versionId: null,
    },
    {
      federationId: 'fed-1',
      round: 1,
      state: 'published',
      baseVersionId: 'fed-1.v0',
      selectedSiteIds: ['site-a', 'site-b'],
      selectedCount: 2,
      received: 2,
      openedAt: AT,
      deadlineAt: AT,
      closedAt: AT,
      failureReason: null,
      versionId: 'fed-1.v1',
    },
  ];
  const sites: SiteView[] = [
    {
      id: 'site-a',
      name: 'St Mary Hospital',
      fingerprint: 'aaaa-bbbb-cccc-dddd',
      enrolledAt: AT,
      revokedAt: null,
      lastSeenAt: AT,
      missedRounds: 0,
    },
    {
      id: 'site-b',
      name: 'Charité',
      fingerprint: 'eeee-ffff-0000-1111',
      enrolledAt: AT,
      revokedAt: null,
      lastSeenAt: null,
      missedRounds: 3,
    },
  ];
  const evaluations: EvaluationView[] = [
    { versionId: 'fed-1.v1', siteId: 'site-a', n: 40, metrics: { auc: 0.81234, accuracy: 0.75 }, createdAt: AT },
  ];
  const decisions: SiteDecisionView[] = [
    {
      federationId: 'fed-1',
      siteId: 'site-a',
      siteName: 'St Mary Hospital',
      decision: 'approved',
      planSha256: planDigest(plan),
      decidedAt: AT,
    },
    {
      federationId: 'fed-1',
      siteId: 'site-b',
      siteName: 'Charité',
      decision: 'pending',
      planSha256: null,
      decidedAt: null,
    },
  ];
  return { federations: [federation], versions, weights, rounds, sites, evaluations, decisions };
}

const fail = (res: Response, e: TwinfedError): void => void res.status(e.status).json(e.toBody());

/** Starts the fake on an ephemeral port. */
export async function startFakeCoordinator(): Promise<FakeCoordinator> {
  const identity = generateIdentity();
  const pub = publicPart(identity);
  const fake: FakeCoordinator = {
    ...fixtures(identity),
    url: '',
    seen: [],
    keys: { protocol: PROTOCOL_VERSION, ...pub, fingerprint: fingerprint(pub) },
    identity,
    canned: new Map(),
    normalization: {
      federationId: 'fed-1',
      state: 'waiting',
      contributed: 1,
      cohort: 2,
      rows: null,
      mean: null,
      std: null,
    },
    setPlan(input: unknown) {
      const plan = PlanSchema.parse(input);
      fake.federations[0]!.plan = plan;
      for (const v of fake.versions) {
        v.meta = { ...v.meta, planSha256: planDigest(plan) };
        v.signature = signModelVersion(v.meta, identity.sign.secretKey);
      }
    },
    close: async () => undefined,
  };
  const app = express();
  app.use(express.json());
  app.use((req: Request, res: Response, next) => {
    fake.seen.push({
      method: req.method,
      path: req.originalUrl,
      authorization: req.header('authorization'),
      body: req.body,
    });
    const canned = fake.canned.get(`${req.method} ${req.path}`);
    if (canned) return void res.status(canned.status).json(canned.body ?? null);
    if (req.path === '/v1/coordinator') return next();
    const auth = req.header('authorization');
    if (!auth) return fail(res, new TwinfedError('UNAUTHENTICATED'));
    if (auth !== `Bearer ${OPERATOR_TOKEN}`) return fail(res, new TwinfedError('INVALID_TOKEN'));
    next();
  });
  app.get('/v1/coordinator', (_req, res) => void res.json(fake.keys));
  app.post('/v1/admin/invitations', (req, res) => {
    const { siteName, ttlSeconds } = req.body as { siteName: string; ttlSeconds: number };
    res.status(201).json({
      invitationId: 'inv-1',
      siteName,
      token: 'tfe_one-time-token-abcdef',
      expiresAt: new Date(Date.parse(AT) + ttlSeconds * 1000).toISOString(),
    });
  });
  app.get('/v1/admin/sites', (_req, res) => void res.json({ sites: fake.sites }));
  app.post('/v1/admin/sites/:id/revoke', (req, res) => {
    const site = fake.sites.find((s) => s.id === req.params.id);
    if (!site) return fail(res, new TwinfedError('NOT_FOUND', 'The site does not exist.'));
    site.revokedAt = AT;
    res.json({ site });
  });
  app.get('/v1/federations', (_req, res) => void res.json({ federations: fake.federations }));
  app.post('/v1/federations', (req, res) => {
    const body = req.body as { plan: unknown; study?: string };
    const plan = PlanSchema.parse(body.plan);
    const f: FederationView = {
      id: 'fed-2',
      name: plan.name,
      studyId: body.study ?? 'default',
      state: 'running',
      plan,
      currentRound: 0,
      latestVersionId: null,
      createdAt: AT,
      updatedAt: AT,
    };
    fake.federations.push(f);
    res.status(201).json(f);
  });
  app.get('/v1/federations/:fid', (req, res) => {
    const f = fake.federations.find((x) => x.id === req.params.fid);
    return f ? void res.json(f) : fail(res, new TwinfedError('UNKNOWN_FEDERATION'));
  });
  app.put('/v1/federations/:fid/plan', (req, res) => {
    const f = fake.federations.find((x) => x.id === req.params.fid);
    if (!f) return fail(res, new TwinfedError('UNKNOWN_FEDERATION'));
    if (f.currentRound > 0) return fail(res, new TwinfedError('FEDERATION_STARTED'));
    f.plan = PlanSchema.parse((req.body as { plan: unknown }).plan);
    f.name = f.plan.name;
    res.json(f);
  });
  app.get('/v1/federations/:fid/decisions', (req, res) => {
    if (!fake.federations.some((x) => x.id === req.params.fid))
      return fail(res, new TwinfedError('UNKNOWN_FEDERATION'));
    res.json({ decisions: fake.decisions.filter((d) => d.federationId === req.params.fid) });
  });
  app.get('/v1/federations/:fid/normalization', (_req, res) => void res.json(fake.normalization));
  app.get(
    '/v1/federations/:fid/rounds',
    (req, res) => void res.json({ rounds: fake.rounds.filter((r) => r.federationId === req.params.fid) }),
  );
  app.get('/v1/federations/:fid/evaluations', (req, res) => {
    const versions = fake.versions.filter((v) => v.federationId === req.params.fid);
    res.json({
      federationId: req.params.fid,
      versions: versions.map((v) => ({
        versionId: v.id,
        round: v.round,
        createdAt: v.createdAt,
        evaluations: fake.evaluations.filter((e) => e.versionId === v.id),
      })),
    });
  });
  app.get('/v1/models', (req, res) => {
    const fid = typeof req.query.federation === 'string' ? req.query.federation : undefined;
    res.json({ models: fake.versions.filter((v) => !fid || v.federationId === fid) });
  });
  const version = (req: Request) => fake.versions.find((v) => v.id === req.params.vid);
  app.get('/v1/models/:vid', (req, res) => {
    const v = version(req);
    return v ? void res.json(v) : fail(res, new TwinfedError('UNKNOWN_MODEL_VERSION'));
  });
  app.get('/v1/models/:vid/weights', (req, res) => {
    const v = version(req);
    const bytes = v && fake.weights.get(v.id);
    if (!v || !bytes) return fail(res, new TwinfedError('UNKNOWN_MODEL_VERSION'));
    res.setHeader('ETag', `"${v.weightsSha256}"`);
    res.type('application/octet-stream').send(Buffer.from(bytes));
  });
  app.get(
    '/v1/models/:vid/evaluations',
    (req, res) => void res.json({ evaluations: fake.evaluations.filter((e) => e.versionId === req.params.vid) }),
  );

  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((e) => (e ? reject(e) : resolve()));
    });
  return fake;
}
