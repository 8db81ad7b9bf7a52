import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import {
  PROTOCOL_VERSION,
  deserializeWeights,
  generateIdentity,
  publicPart,
  routes,
  signEnrollProof,
  type CurrentRound,
  type Identity,
  type WeightSet,
  createLogger,
} from '@twinfed/shared';
import { loadConfig } from '../../../config';
import { startCoordinator, type RunningCoordinator } from '../../../main';
import { enrollTestSite, operator, testPlan, type TestSite } from '../../../__tests__/harness';

/** A signer the fuzz may present: an enrolled site (member, outsider, revoked) or a stranger nobody enrolled. */
export interface Signer {
  label: 'member' | 'member2' | 'outsider' | 'revoked' | 'stranger';
  siteId: string;
  identity: Identity;
}

/** The coordinator's public keys as `GET /v1/coordinator` gives them. */
export interface CoordinatorKeys {
  signPublicKey: string;
  boxPublicKey: string;
}

/** Everything the generators draw real identifiers and credentials from. */
export interface World {
  c: RunningCoordinator;
  operatorToken: string;
  coordinatorKeys: CoordinatorKeys;
  researcherToken: string;
  researcherTokenId: string;
  revokedToken: string;
  /** Token ids that exist (one revoked). */
  tokenIds: string[];
  /** An invitation token that was already spent (enrollment with it can never succeed). */
  spentInvitation: string;
  signers: Signer[];
  /** Plain FedAvg federation: round 1 published (v0, v1), round 2 open. */
  plain: { id: string; versions: string[]; openRound: number; plan: Record<string, unknown> };
  /** Secure aggregation + federated normalisation: round 1 open, sharing phase. */
  secure: { id: string; versions: string[]; openRound: number };
  /** A one-round Cox federation, completed: its baseline phase ended at once (a cohort of two is too small). */
  cox: { id: string };
  /** Valid weights for the plain federation's open round (to seal hostile envelopes around). */
  baseWeights: WeightSet;
  coordinatorBoxPublicKey: Uint8Array;
  /** The envelopes the two members uploaded in round 1, by site id (sent again: an idempotent 200 "duplicate"). */
  roundOneEnvelopes: Record<string, Uint8Array>;
  /** A cohort statistics query nobody has answered (one cell, counts, age pooled securely: its pool can be read). */
  cohortQueryId: string;
  close(): Promise<void>;
}

const json = async <T>(res: Promise<Response>): Promise<T> => {
  const r = await res;
  if (r.status >= 300) throw new Error(`world setup: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
};

/**
 * A coordinator in the state the fuzz attacks: three enrolled sites (two members of both federations, one outsider
 * enrolled after them), one revoked site (enrolled after them too), researcher and revoked tokens, a plain federation with a published round
 * and an open one, and a secure-aggregation federation in its sharing phase. Built through the real REST API.
 * Limits as shipped, except: the failure limiter is off (it would answer most of the fuzz 429 within a second and
 * hide the paths behind it) and the body-rate grace is short, so a declared-but-never-sent body is cut in 100 ms.
 */
export async function buildWorld(opts: {
  onError: (line: { msg: string; code?: string; err?: unknown }) => void;
}): Promise<World> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-fuzz-'));
  const config = loadConfig(
    {},
    { dataDir, port: 0, store: 'memory', logLevel: 'error', maxAuthFailuresPerMinute: 0, bodyRateGraceMs: 100 },
  );
  // Every line the coordinator logs at error level or above (an internal error, even one the client never saw as a 5xx).
  const errors = new Writable({
    write: (chunk: Buffer, _enc, cb) => {
      for (const l of chunk.toString('utf8').split('\n')) if (l) opts.onError(JSON.parse(l) as { msg: string });
      cb();
    },
  });
  const c = await startCoordinator(config, {
    logger: createLogger({ level: 'error', bindings: { name: 'twinfed-coordinator' }, destination: errors }),
  });
  try {
    return await populate(c);
  } catch (e) {
    await c.close();
    throw e;
  }
}

async function populate(c: RunningCoordinator): Promise<World> {
  const operatorToken = fs.readFileSync(c.operatorTokenFile, 'utf8').trim();
  const api = { url: c.url, operatorToken };
  const a = await enrollTestSite(api, 'Fuzz North');
  const b = await enrollTestSite(api, 'Fuzz South');
  const plainPlan = testPlan({ rounds: 3, roundDeadlineSeconds: 3600 });
  const plainFed = await json<{ id: string; latestVersionId: string }>(
    operator(api, 'POST', routes.federations, { plan: plainPlan }),
  );
  const secureFed = await json<{ id: string; latestVersionId: string }>(
    operator(api, 'POST', routes.federations, {
      plan: testPlan({
        roundDeadlineSeconds: 3600,
        data: { features: ['a', 'b', 'c'], normalization: 'federated' },
        privacy: { secureAggregation: true },
        // Its recalibration view answers (waiting) while it runs.
        recalibration: { method: 'platt' },
      }),
    }),
  );
  const coxFed = await json<{ id: string }>(
    operator(api, 'POST', routes.federations, {
      plan: testPlan({
        model: { kind: 'cox', inputs: 3, horizonDays: 30 },
        data: { features: ['a', 'b', 'c'], label: 'event' },
        rounds: 1,
        roundDeadlineSeconds: 3600,
        // Its cross-site evaluation opens once it completes (below), in a models phase that outlasts the run.
        crossSiteEvaluation: { deadlineSeconds: 3600 },
      }),
    }),
  );
  const outsider = await enrollTestSite(api, 'Fuzz Outside');
  const revoked = await enrollTestSite(api, 'Fuzz Gone');
  await json(operator(api, 'POST', routes.revokeSite(revoked.siteId)));

  // Round 1 of the plain federation, completed by both members: v1 published, round 2 open.
  const roundOneEnvelopes = await completeRound(c, [a, b], plainFed.id, 1);
  await completeRound(c, [a, b], coxFed.id, 1, 'ended');
  // The first read opens the cross-site evaluation (a write): done here, before the store snapshot the fuzz compares.
  await json(operator(api, 'GET', routes.crossSite(coxFed.id)));
  const plainVersions = (
    await json<{ models: Array<{ id: string }> }>(operator(api, 'GET', `${routes.models}?federation=${plainFed.id}`))
  ).models.map((m) => m.id);

  const researcher = await json<{ id: string; token: string }>(
    operator(api, 'POST', routes.tokens, { name: 'fuzz researcher', role: 'researcher', studies: ['default'] }),
  );
  const gone = await json<{ id: string; token: string }>(
    operator(api, 'POST', routes.tokens, { name: 'fuzz revoked', role: 'researcher', studies: ['default'] }),
  );
  await json(operator(api, 'POST', routes.revokeToken(gone.id)));
  const coordinatorKeys = await json<{ signPublicKey: string; boxPublicKey: string }>(
    fetch(c.url + routes.coordinatorKeys),
  );
  const spentInvitation = await spentInvitationToken(api, coordinatorKeys);
  const tokens = await json<{ tokens: Array<{ id: string }> }>(operator(api, 'GET', routes.tokens));
  const cohortQuery = await json<{ id: string }>(
    operator(api, 'POST', routes.cohortQueries, {
      studyId: 'default',
      query: { title: 'fuzz', source: { kind: 'csv' }, summaries: { features: ['age'], pooled: 'secure' } },
    }),
  );

  const stranger = generateIdentity();
  return {
    c,
    operatorToken,
    coordinatorKeys,
    researcherToken: researcher.token,
    researcherTokenId: researcher.id,
    revokedToken: gone.token,
    tokenIds: tokens.tokens.map((t) => t.id),
    spentInvitation,
    signers: [
      { label: 'member', siteId: a.siteId, identity: a.identity },
      { label: 'member2', siteId: b.siteId, identity: b.identity },
      { label: 'outsider', siteId: outsider.siteId, identity: outsider.identity },
      { label: 'revoked', siteId: revoked.siteId, identity: revoked.identity },
      { label: 'stranger', siteId: 'site-stranger-000000', identity: stranger },
    ],
    plain: { id: plainFed.id, versions: plainVersions, openRound: 2, plan: plainPlan },
    secure: { id: secureFed.id, versions: [secureFed.latestVersionId], openRound: 1 },
    cox: { id: coxFed.id },
    baseWeights: await weightsOf(a, plainVersions.at(-1)!),
    coordinatorBoxPublicKey: a.coordinatorBoxPublicKey,
    roundOneEnvelopes,
    cohortQueryId: cohortQuery.id,
    close: () => c.close(),
  };
}

/** Both sites upload round `round`; resolves once the next round is open (or the federation ended), with the envelopes by site id. */
async function completeRound(
  c: RunningCoordinator,
  sites: TestSite[],
  fid: string,
  round: number,
  until: 'next-round' | 'ended' = 'next-round',
): Promise<Record<string, Uint8Array>> {
  const sent: Record<string, Uint8Array> = {};
  for (const s of sites) {
    const cur = (await (await s.request('GET', routes.currentRound(fid))).json()) as CurrentRound;
    if (cur.round?.round !== round)
      throw new Error(`world setup: expected round ${round}, got ${JSON.stringify(cur.round)}`);
    const base = await weightsOf(s, cur.round.baseVersionId);
    const sealed = s.seal({
      federationId: fid,
      round,
      baseVersionId: cur.round.baseVersionId,
      weights: { layout: base.layout, data: base.data.map((x) => x + 0.05) },
      numExamples: 20,
    });
    sent[s.siteId] = sealed;
    const up = await s.request('POST', routes.updates(fid, round), sealed);
    if (up.status !== 201) throw new Error(`world setup: upload ${up.status} ${await up.text()}`);
  }
  const deadline = Date.now() + 20_000;
  for (;;) {
    const f = await json<{ currentRound: number; state: string }>(
      operator(
        { url: c.url, operatorToken: fs.readFileSync(c.operatorTokenFile, 'utf8').trim() },
        'GET',
        routes.federation(fid),
      ),
    );
    if (until === 'next-round' ? f.currentRound === round + 1 : f.state !== 'running') return sent;
    if (Date.now() > deadline) throw new Error('world setup: the round did not publish');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function weightsOf(s: TestSite, versionId: string): Promise<WeightSet> {
  return deserializeWeights(
    new Uint8Array(await (await s.request('GET', routes.modelWeights(versionId))).arrayBuffer()),
  );
}

/** An enrollment request with a valid proof of key possession for `token`. */
export function enrollBody(coordinator: CoordinatorKeys, token: string, identity: Identity): Record<string, unknown> {
  return {
    protocol: PROTOCOL_VERSION,
    token,
    ...publicPart(identity),
    proof: signEnrollProof({ token, coordinator, identity }),
  };
}

/** Invites a site and enrolls it, returning the (now spent) invitation token; the site itself is never used. */
async function spentInvitationToken(
  api: { url: string; operatorToken: string },
  coordinator: CoordinatorKeys,
): Promise<string> {
  const inv = await json<{ token: string }>(operator(api, 'POST', routes.invitations, { siteName: 'Fuzz Spent' }));
  await json(
    fetch(api.url + routes.enroll, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(enrollBody(coordinator, inv.token, generateIdentity())),
    }),
  );
  return inv.token;
}
