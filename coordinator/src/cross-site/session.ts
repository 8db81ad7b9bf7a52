/**
 * The cross-site evaluation of a completed federation (plan `crossSiteEvaluation`; protocol in shared
 * schemas/cross-site). Everything is derived from the store and the clock, so any request (a site's poll, its answer or
 * result, a reader's view) moves it on and every replica agrees: the session is opened on first access after the
 * federation completed, a phase ends when every site it waits for has answered or at its deadline (compare-and-set in
 * the store, so concurrent requests cannot fix two outcomes), and the coordinator only ever holds ciphertext it
 * cannot open (boxes sealed site to site) until the evaluation deletes it, and the sites' metrics.
 */
import {
  CrossSiteResultSchema,
  PlanSchema,
  TwinfedError,
  fromB64,
  isCoxModel,
  signCrossSiteMatrix,
  type CrossSiteAck,
  type CrossSiteAnswer,
  type CrossSiteResult,
  type CrossSiteSession,
  type CrossSiteView,
  type Identity,
  type Plan,
  type SignedCrossSiteMatrix,
} from '@twinfed/shared';
import { modelSenders } from '../store/cross-site-rules';
import type { CrossSiteMessageRecord, CrossSiteRecord, Federation, Store } from '../store';
import type { SiteDirectory } from '../registry/site-directory';
import { assembleCrossSiteMatrix } from './matrix';

/** What the cross-site evaluation needs from the coordinator. */
interface CrossSiteDeps {
  store: Store;
  identity: Identity;
  now: () => number;
}

const BOX_NONCE_BYTES = 24;
const iso = (ms: number): string => new Date(ms).toISOString();

async function planOf(store: Store, federationId: string): Promise<{ federation: Federation; plan: Plan }> {
  const federation = await store.getFederation(federationId);
  if (!federation) throw new TwinfedError('UNKNOWN_FEDERATION');
  const plan = PlanSchema.parse(federation.plan);
  if (!plan.crossSiteEvaluation) throw new TwinfedError('CROSS_SITE_NOT_PLANNED');
  return { federation, plan };
}

/**
 * A recalibrated version (plan `recalibration`) is published after the federation completed, at a time that races the
 * opening of this evaluation, and rescales the final version's scores monotonically (AUC unchanged): the evaluation
 * always takes the trained versions, so neither its global model nor its candidates depend on which came first.
 */
const isRecalibrated = (v: { meta: Record<string, unknown> }): boolean => v.meta.recalibration !== undefined;

/** The global model evaluated: the federation's final version as it completed (not its later recalibrated one). */
async function globalVersionOf(store: Store, latestVersionId: string): Promise<string> {
  const latest = await store.getVersion(latestVersionId);
  const base = (latest?.meta.recalibration as { baseVersionId?: string } | undefined)?.baseVersionId;
  return base ?? latestVersionId;
}

/** The federation's contributors (every trained version's), not revoked, sorted: the sites asked to take part. */
async function candidatesOf(store: Store, federationId: string): Promise<string[]> {
  const ids = new Set<string>();
  for (const v of await store.listVersions({ federationId })) {
    if (isRecalibrated(v)) continue;
    const contributors = (v.meta as { contributors?: { siteId: string }[] }).contributors ?? [];
    for (const c of contributors) ids.add(c.siteId);
  }
  const revoked = new Set((await store.listSites()).filter((s) => s.revokedAt !== null).map((s) => s.id));
  return [...ids].filter((id) => !revoked.has(id)).sort();
}

const metricOf = (plan: Plan) => (isCoxModel(plan.model) ? 'cIndex' : 'auc');

/**
 * The federation's cross-site evaluation as stored now, moved on as far as the answers, results and clock allow; null
 * while the federation has not completed (a failed federation has none). Throws UNKNOWN_FEDERATION, or
 * CROSS_SITE_NOT_PLANNED when its plan does not ask for one.
 */
export async function currentCrossSite(
  deps: CrossSiteDeps,
  federationId: string,
): Promise<{ plan: Plan; session: CrossSiteRecord | null }> {
  const { federation, plan } = await planOf(deps.store, federationId);
  if (federation.state !== 'completed' || federation.latestVersionId === null) return { plan, session: null };
  const now = deps.now();
  const session =
    (await deps.store.getCrossSite(federationId)) ??
    (await deps.store.openCrossSite({
      federationId,
      globalVersionId: await globalVersionOf(deps.store, federation.latestVersionId),
      candidates: await candidatesOf(deps.store, federationId),
      state: 'models',
      openedAt: iso(now),
      modelsDeadlineAt: iso(now + plan.crossSiteEvaluation!.deadlineSeconds * 1000),
      participants: null,
      resultsDeadlineAt: null,
      matrix: null,
      closedAt: null,
    }));
  return { plan, session: await advance(deps, plan, session) };
}

/** Moves the session on: ends the models phase, then the evaluating phase, when their condition holds. */
async function advance(deps: CrossSiteDeps, plan: Plan, first: CrossSiteRecord): Promise<CrossSiteRecord> {
  let s = first;
  // Each pass either moves the session on or finds it waiting; a lost compare-and-set reads it again.
  for (let pass = 0; pass < 4; pass++) {
    const now = deps.now();
    if (s.state === 'models') {
      const answers = await deps.store.listCrossSiteMessages(s.federationId, 'answer');
      const answered = new Set(answers.map((a) => a.siteId));
      if (!s.candidates.every((c) => answered.has(c)) && now < Date.parse(s.modelsDeadlineAt)) return s;
      const deadline = iso(now + plan.crossSiteEvaluation!.deadlineSeconds * 1000);
      s = await deps.store.fixCrossSiteParticipants(s.federationId, modelSenders(answers), deadline);
    } else if (s.state === 'evaluating') {
      const results = await deps.store.listCrossSiteMessages(s.federationId, 'result');
      const reported = results.map((r) => r.siteId);
      const participants = s.participants ?? [];
      if (!participants.every((p) => reported.includes(p)) && now < Date.parse(s.resultsDeadlineAt!)) return s;
      const matrix = await signedMatrix(deps, plan, s, results);
      // Concurrent calls may build the same matrix in the same millisecond: the store's compare-and-set says which one
      // closed the evaluation, and appends the audit with that close.
      const { session: closed } = await deps.store.closeCrossSite(
        s.federationId,
        { matrix, closedAt: matrix.completedAt, reported },
        {
          at: matrix.completedAt,
          actor: 'system',
          action: 'federation.cross_site_evaluated',
          subject: s.federationId,
          detail: {
            globalVersionId: s.globalVersionId,
            participants: matrix.participants,
            refused: matrix.refused,
            silent: matrix.silent,
            signature: matrix.signature,
          },
        },
      );
      s = closed;
    } else return s;
  }
  return s;
}

async function signedMatrix(
  deps: CrossSiteDeps,
  plan: Plan,
  s: CrossSiteRecord,
  results: readonly CrossSiteMessageRecord[],
): Promise<SignedCrossSiteMatrix> {
  const answers = await deps.store.listCrossSiteMessages(s.federationId, 'answer');
  const matrix = assembleCrossSiteMatrix({
    federationId: s.federationId,
    globalVersionId: s.globalVersionId,
    metric: metricOf(plan),
    candidates: s.candidates,
    answers: new Map(answers.map((a) => [a.siteId, a.payload['status'] === 'model' ? 'model' : 'refused'])),
    participants: s.participants ?? [],
    results: new Map(results.map((r) => [r.siteId, CrossSiteResultSchema.parse(r.payload)])),
    completedAt: iso(deps.now()),
  });
  return signCrossSiteMatrix(matrix, deps.identity.sign.secretKey);
}

/** The session a site works from: its phase, the candidates' signed keys and the boxes addressed to it. */
export async function crossSiteSessionFor(
  deps: CrossSiteDeps & { directory: SiteDirectory },
  federationId: string,
  siteId: string,
): Promise<CrossSiteSession> {
  const { plan, session: s } = await currentCrossSite(deps, federationId);
  if (!s) throw new TwinfedError('CROSS_SITE_PHASE', 'The federation has not completed: no cross-site evaluation yet.');
  const sites = new Map((await deps.store.listSites()).map((x) => [x.id, x]));
  const answered = (await deps.store.listCrossSiteMessages(federationId, 'answer')).some((a) => a.siteId === siteId);
  const reported = (await deps.store.listCrossSiteMessages(federationId, 'result')).some((r) => r.siteId === siteId);
  const receives = s.state === 'evaluating' && !reported && (s.participants ?? []).includes(siteId);
  const boxes = receives ? await deps.store.listCrossSiteBoxes(federationId, siteId) : [];
  return {
    federationId,
    state: s.state,
    globalVersionId: s.globalVersionId,
    metric: metricOf(plan),
    candidates: s.candidates.flatMap((id) => {
      const site = sites.get(id);
      return site ? [deps.directory.entry(site)] : [];
    }),
    participants: s.participants,
    modelsDeadlineAt: s.modelsDeadlineAt,
    resultsDeadlineAt: s.resultsDeadlineAt,
    answered,
    reported,
    boxes: boxes.map((b) => ({
      sender: b.sender,
      nonce: Buffer.from(b.nonce).toString('base64'),
      ciphertext: Buffer.from(b.ciphertext).toString('base64'),
    })),
  };
}

/** The session in the phase `state`, else CROSS_SITE_PHASE. */
async function inPhase(
  deps: CrossSiteDeps,
  federationId: string,
  state: CrossSiteRecord['state'],
): Promise<CrossSiteRecord> {
  const { session } = await currentCrossSite(deps, federationId);
  if (!session || session.state !== state)
    throw new TwinfedError(
      'CROSS_SITE_PHASE',
      session ? `The cross-site evaluation is ${session.state}, not ${state}.` : 'The federation has not completed.',
    );
  return session;
}

function ack(
  put: Awaited<ReturnType<Store['putCrossSiteMessage']>>,
  federationId: string,
  siteId: string,
): CrossSiteAck {
  if (put.status === 'closed') throw new TwinfedError('CROSS_SITE_PHASE', 'That phase of the evaluation has ended.');
  if (put.status === 'conflict') throw new TwinfedError('ALREADY_EXISTS', 'This site already sent another one.');
  return { federationId, siteId, status: put.status };
}

/**
 * Stores a candidate's answer in the models phase: its local model sealed to every candidate (exactly one box each,
 * itself included; the coordinator checks only the addressing, it cannot open them), or its refusal. Throws FORBIDDEN
 * for a site that is not a candidate, VALIDATION_FAILED for wrong addressing, CROSS_SITE_PHASE outside the phase,
 * ALREADY_EXISTS when another answer is stored.
 */
export async function answerCrossSite(
  deps: CrossSiteDeps,
  federationId: string,
  siteId: string,
  answer: CrossSiteAnswer,
): Promise<CrossSiteAck> {
  const s = await inPhase(deps, federationId, 'models');
  if (!s.candidates.includes(siteId))
    throw new TwinfedError(
      'FORBIDDEN',
      'This site did not contribute to the federation: it is not asked to take part.',
    );
  const createdAt = iso(deps.now());
  let boxes: { recipient: string; nonce: Uint8Array; ciphertext: Uint8Array }[] = [];
  if ('boxes' in answer) {
    const recipients = answer.boxes.map((b) => b.recipient).sort();
    if (recipients.join('\n') !== s.candidates.join('\n'))
      throw new TwinfedError(
        'VALIDATION_FAILED',
        'Seal the local model once to every candidate site, this one included.',
        {
          details: { candidates: s.candidates },
        },
      );
    boxes = answer.boxes.map((b) => ({
      recipient: b.recipient,
      nonce: fromB64(b.nonce),
      ciphertext: fromB64(b.ciphertext),
    }));
    if (boxes.some((b) => b.nonce.byteLength !== BOX_NONCE_BYTES))
      throw new TwinfedError('VALIDATION_FAILED', `A box nonce must be ${BOX_NONCE_BYTES} bytes.`);
  }
  const put = await deps.store.putCrossSiteMessage(
    { federationId, siteId, kind: 'answer', payload: { status: 'boxes' in answer ? 'model' : 'refused' }, createdAt },
    boxes.map((b) => ({ federationId, sender: siteId, ...b })),
  );
  if (put.status === 'accepted')
    await deps.store.appendAudit({
      at: createdAt,
      actor: `site:${siteId}`,
      action: 'cross_site.answer',
      subject: federationId,
      detail: { status: 'boxes' in answer ? 'model' : 'refused' },
    });
  const out = ack(put, federationId, siteId);
  await currentCrossSite(deps, federationId);
  return out;
}

/**
 * Stores a participant's result in the evaluating phase (metrics only; the boxes addressed to it are deleted in the
 * same transaction). Throws FORBIDDEN for a non-participant, VALIDATION_FAILED unless it names exactly the
 * participants' local models, CROSS_SITE_PHASE outside the phase, ALREADY_EXISTS when another result is stored.
 */
export async function reportCrossSite(
  deps: CrossSiteDeps,
  federationId: string,
  siteId: string,
  result: CrossSiteResult,
): Promise<CrossSiteAck> {
  const s = await inPhase(deps, federationId, 'evaluating');
  const participants = s.participants ?? [];
  if (!participants.includes(siteId))
    throw new TwinfedError('FORBIDDEN', 'This site is not a participant of the cross-site evaluation.');
  if (!('withheld' in result) && Object.keys(result.local).sort().join('\n') !== participants.join('\n'))
    throw new TwinfedError('VALIDATION_FAILED', "A result names every participant's local model, and only those.", {
      details: { participants },
    });
  const createdAt = iso(deps.now());
  const put = await deps.store.putCrossSiteMessage({
    federationId,
    siteId,
    kind: 'result',
    payload: result,
    createdAt,
  });
  if (put.status === 'accepted')
    await deps.store.appendAudit({
      at: createdAt,
      actor: `site:${siteId}`,
      action: 'cross_site.result',
      subject: federationId,
      detail: { withheld: 'withheld' in result },
    });
  const out = ack(put, federationId, siteId);
  await currentCrossSite(deps, federationId);
  return out;
}

/** The readers' view: progress, and the signed matrix once complete. */
export async function crossSiteView(deps: CrossSiteDeps, federationId: string): Promise<CrossSiteView> {
  const { session: s } = await currentCrossSite(deps, federationId);
  if (!s)
    return {
      federationId,
      state: 'not-started',
      candidates: [],
      answered: [],
      reported: [],
      modelsDeadlineAt: null,
      resultsDeadlineAt: null,
      matrix: null,
    };
  const ids = (m: CrossSiteMessageRecord[]) => m.map((x) => x.siteId);
  return {
    federationId,
    state: s.state,
    candidates: s.candidates,
    answered: ids(await deps.store.listCrossSiteMessages(federationId, 'answer')),
    reported: ids(await deps.store.listCrossSiteMessages(federationId, 'result')),
    modelsDeadlineAt: s.modelsDeadlineAt,
    resultsDeadlineAt: s.resultsDeadlineAt,
    matrix: s.matrix as unknown as SignedCrossSiteMatrix | null,
  };
}
