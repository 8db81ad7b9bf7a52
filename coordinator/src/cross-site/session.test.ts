import {
  PlanSchema,
  generateIdentity,
  openCrossSiteModel,
  sealCrossSiteModel,
  toB64,
  verifyCrossSiteMatrix,
  type CrossSiteAnswer,
  type Identity,
} from '@twinfed/shared';
import { testPlan } from '../__tests__/harness';
import { MemoryStore } from '../store/memory-store';
import type { Store } from '../store';
import { SiteDirectory } from '../registry/site-directory';
import { answerCrossSite, crossSiteSessionFor, crossSiteView, currentCrossSite, reportCrossSite } from './session';

const FID = 'fed-x';
const SITES = ['site-a', 'site-b', 'site-c'];
const T0 = Date.UTC(2026, 0, 1);
const DEADLINE_S = 60;

interface World {
  store: Store;
  coordinator: Identity;
  sites: Map<string, Identity>;
  clock: { now: number };
  deps: { store: Store; identity: Identity; now: () => number };
}

async function world(planOverrides: Record<string, unknown> = {}): Promise<World> {
  const store = new MemoryStore();
  const coordinator = generateIdentity();
  const sites = new Map(SITES.map((id) => [id, generateIdentity()]));
  const clock = { now: T0 };
  for (const [id, identity] of sites) {
    await store.createInvitation({
      id: `inv-${id}`,
      siteName: id,
      tokenHash: `th-${id}`,
      createdAt: new Date(T0 - 9000).toISOString(),
      expiresAt: new Date(T0 + 9e6).toISOString(),
    });
    await store.enrollSite({
      tokenHash: `th-${id}`,
      now: new Date(T0 - 5000).toISOString(),
      site: {
        id,
        name: id,
        signPublicKey: toB64(identity.sign.publicKey),
        boxPublicKey: toB64(identity.box.publicKey),
        enrolledAt: new Date(T0 - 5000).toISOString(),
      },
    });
  }
  const plan = PlanSchema.parse(testPlan({ crossSiteEvaluation: { deadlineSeconds: DEADLINE_S }, ...planOverrides }));
  await store.createFederation({
    id: FID,
    name: 'x',
    plan: plan,
    createdAt: new Date(T0 - 4000).toISOString(),
  });
  await store.publishVersion({
    version: {
      id: `${FID}.v1`,
      federationId: FID,
      parentVersionId: null,
      round: 1,
      meta: { contributors: SITES.map((siteId) => ({ siteId, numExamples: 10 })) },
      signature: 'sig',
      weightsSha256: 'sha',
      createdAt: new Date(T0 - 1000).toISOString(),
    },
    weights: new Uint8Array(8),
  });
  await store.updateFederation(FID, { state: 'completed', updatedAt: new Date(T0 - 500).toISOString() });
  return { store, coordinator, sites, clock, deps: { store, identity: coordinator, now: () => clock.now } };
}

/** What a site's local model would be: a few bytes naming it. */
const weightsOf = (siteId: string) => new TextEncoder().encode(`local model of ${siteId}`);

function sealedAnswer(w: World, sender: string, recipients = SITES): CrossSiteAnswer {
  return {
    boxes: recipients.map((recipient) =>
      sealCrossSiteModel({
        federationId: FID,
        sender,
        recipient,
        weights: weightsOf(sender),
        senderBoxSecretKey: w.sites.get(sender)!.box.secretKey,
        recipientBoxPublicKey: w.sites.get(recipient)!.box.publicKey,
      }),
    ),
  };
}

const result = (participants: string[], global: number, n = 40) => ({
  n,
  global,
  local: Object.fromEntries(participants.map((p, i) => [p, 0.5 + i / 10])),
});

describe('cross-site evaluation (coordinator)', () => {
  test('nothing while the federation runs; a plan without crossSiteEvaluation is CROSS_SITE_NOT_PLANNED', async () => {
    const w = await world();
    await w.store.updateFederation(FID, { state: 'running' });
    expect((await currentCrossSite(w.deps, FID)).session).toBeNull();
    expect((await crossSiteView(w.deps, FID)).state).toBe('not-started');
    await expect(answerCrossSite(w.deps, FID, 'site-a', { refused: true })).rejects.toMatchObject({
      code: 'CROSS_SITE_PHASE',
    });
    const plain = await world({ crossSiteEvaluation: undefined });
    await expect(crossSiteView(plain.deps, FID)).rejects.toMatchObject({ code: 'CROSS_SITE_NOT_PLANNED' });
  });

  test('every site answers and reports: the matrix is assembled, signed by the coordinator, and every box deleted', async () => {
    const w = await world();
    const directory = new SiteDirectory(w.coordinator);
    for (const s of SITES) await answerCrossSite(w.deps, FID, s, sealedAnswer(w, s));
    // Everyone answered: the evaluating phase opened at once, and each site sees exactly the boxes addressed to it.
    const seen = await crossSiteSessionFor({ ...w.deps, directory }, FID, 'site-b');
    expect(seen).toMatchObject({ state: 'evaluating', participants: SITES, answered: true, reported: false });
    expect(seen.boxes.map((b) => b.sender)).toEqual(SITES);
    for (const b of seen.boxes) {
      const opened = openCrossSiteModel({
        federationId: FID,
        sender: b.sender,
        recipient: 'site-b',
        nonce: b.nonce,
        ciphertext: b.ciphertext,
        senderBoxPublicKey: w.sites.get(b.sender)!.box.publicKey,
        recipientBoxSecretKey: w.sites.get('site-b')!.box.secretKey,
      });
      expect(new TextDecoder().decode(opened)).toBe(`local model of ${b.sender}`);
    }
    await reportCrossSite(w.deps, FID, 'site-a', result(SITES, 0.8, 40));
    expect(await w.store.listCrossSiteBoxes(FID, 'site-a')).toEqual([]); // deleted once site-a reported
    expect(await w.store.listCrossSiteBoxes(FID, 'site-b')).toHaveLength(3);
    await reportCrossSite(w.deps, FID, 'site-b', result(SITES, 0.7, 50));
    await reportCrossSite(w.deps, FID, 'site-c', result(SITES, 0.6, 60));

    const view = await crossSiteView(w.deps, FID);
    expect(view.state).toBe('complete');
    const m = view.matrix!;
    expect(m).toMatchObject({
      federationId: FID,
      globalVersionId: `${FID}.v1`,
      metric: 'auc',
      participants: SITES,
      refused: [],
      silent: [],
      columns: [
        { siteId: 'site-a', status: 'reported', n: 40 },
        { siteId: 'site-b', status: 'reported', n: 50 },
        { siteId: 'site-c', status: 'reported', n: 60 },
      ],
    });
    expect(m.rows).toEqual([
      { model: 'global', siteId: null, values: [0.8, 0.7, 0.6] },
      { model: 'local', siteId: 'site-a', values: [0.5, 0.5, 0.5] },
      { model: 'local', siteId: 'site-b', values: [0.6, 0.6, 0.6] },
      { model: 'local', siteId: 'site-c', values: [0.7, 0.7, 0.7] },
    ]);
    expect(verifyCrossSiteMatrix(m, w.coordinator.sign.publicKey)).toBe(true);
    expect(verifyCrossSiteMatrix({ ...m, rows: [] }, w.coordinator.sign.publicKey)).toBe(false);
    expect(verifyCrossSiteMatrix(m, generateIdentity().sign.publicKey)).toBe(false);
    for (const s of SITES) expect(await w.store.listCrossSiteBoxes(FID, s)).toEqual([]);
    const audit = await w.store.listAudit({ limit: 1000 });
    expect(audit.filter((e) => e.action === 'federation.cross_site_evaluated')).toHaveLength(1);
    // A late repeat changes nothing: the phase is over.
    await expect(reportCrossSite(w.deps, FID, 'site-a', result(SITES, 0.1))).rejects.toMatchObject({
      code: 'CROSS_SITE_PHASE',
    });
  });

  test('requests that find the last result in the same millisecond close the evaluation, and audit it, once', async () => {
    // Found by an end-to-end run: two calls built the same matrix at the same time (Ed25519 signatures are
    // deterministic, so the two were identical), and each took the stored close for its own.
    const w = await world();
    for (const s of SITES) await answerCrossSite(w.deps, FID, s, sealedAnswer(w, s));
    await reportCrossSite(w.deps, FID, 'site-a', result(SITES, 0.8, 40));
    await reportCrossSite(w.deps, FID, 'site-b', result(SITES, 0.7, 50));
    const last = { federationId: FID, siteId: 'site-c', kind: 'result' as const, payload: result(SITES, 0.6, 60) };
    await w.store.putCrossSiteMessage({ ...last, createdAt: new Date(w.clock.now).toISOString() });
    const views = await Promise.all([1, 2, 3].map(() => crossSiteView(w.deps, FID)));
    expect(views.map((v) => v.state)).toEqual(['complete', 'complete', 'complete']);
    expect(new Set(views.map((v) => v.matrix!.signature)).size).toBe(1);
    const audit = await w.store.listAudit({ limit: 1000 });
    expect(audit.filter((e) => e.action === 'federation.cross_site_evaluated')).toHaveLength(1);
  });

  test('the coordinator relays only ciphertext it cannot open', async () => {
    const w = await world();
    await answerCrossSite(w.deps, FID, 'site-a', sealedAnswer(w, 'site-a'));
    const stored = await w.store.listCrossSiteBoxes(FID, 'site-b');
    expect(stored).toHaveLength(1);
    const plaintext = weightsOf('site-a');
    const box = stored[0]!;
    expect(Buffer.from(box.ciphertext).includes(Buffer.from(plaintext))).toBe(false);
    // With its own box key, as sender or recipient, the coordinator opens nothing.
    for (const attempt of [
      { senderBoxPublicKey: w.sites.get('site-a')!.box.publicKey, recipientBoxSecretKey: w.coordinator.box.secretKey },
      { senderBoxPublicKey: w.coordinator.box.publicKey, recipientBoxSecretKey: w.coordinator.box.secretKey },
    ]) {
      expect(() =>
        openCrossSiteModel({
          federationId: FID,
          sender: 'site-a',
          recipient: 'site-b',
          nonce: toB64(box.nonce),
          ciphertext: toB64(box.ciphertext),
          ...attempt,
        }),
      ).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }));
    }
    // Nor can it pass site-b's box off as addressed to site-c (the AAD names the recipient).
    expect(() =>
      openCrossSiteModel({
        federationId: FID,
        sender: 'site-a',
        recipient: 'site-c',
        nonce: toB64(box.nonce),
        ciphertext: toB64(box.ciphertext),
        senderBoxPublicKey: w.sites.get('site-a')!.box.publicKey,
        recipientBoxSecretKey: w.sites.get('site-c')!.box.secretKey,
      }),
    ).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }));
  });

  test('a site whose policy refuses is left out, and the boxes addressed to it are deleted', async () => {
    const w = await world();
    await answerCrossSite(w.deps, FID, 'site-a', sealedAnswer(w, 'site-a'));
    await answerCrossSite(w.deps, FID, 'site-b', sealedAnswer(w, 'site-b'));
    expect(await w.store.listCrossSiteBoxes(FID, 'site-c')).toHaveLength(2);
    await answerCrossSite(w.deps, FID, 'site-c', { refused: true });
    const s = (await currentCrossSite(w.deps, FID)).session!;
    expect(s).toMatchObject({ state: 'evaluating', participants: ['site-a', 'site-b'] });
    expect(await w.store.listCrossSiteBoxes(FID, 'site-c')).toEqual([]);
    await expect(reportCrossSite(w.deps, FID, 'site-c', result(['site-a', 'site-b'], 0.5))).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await reportCrossSite(w.deps, FID, 'site-a', result(['site-a', 'site-b'], 0.9));
    await reportCrossSite(w.deps, FID, 'site-b', { withheld: true });
    const m = (await crossSiteView(w.deps, FID)).matrix!;
    expect(m).toMatchObject({ participants: ['site-a', 'site-b'], refused: ['site-c'], silent: [] });
    expect(m.columns).toEqual([
      { siteId: 'site-a', status: 'reported', n: 40 },
      { siteId: 'site-b', status: 'withheld', n: null },
    ]);
    expect(m.rows.map((r) => r.values)).toEqual([
      [0.9, null],
      [0.5, null],
      [0.6, null],
    ]);
  });

  test('a site silent past a deadline cannot block: the models phase, then the results phase, end on time', async () => {
    const w = await world();
    await answerCrossSite(w.deps, FID, 'site-a', sealedAnswer(w, 'site-a'));
    await answerCrossSite(w.deps, FID, 'site-b', sealedAnswer(w, 'site-b'));
    w.clock.now = T0 + DEADLINE_S * 1000 - 1;
    expect((await crossSiteView(w.deps, FID)).state).toBe('models');
    w.clock.now = T0 + DEADLINE_S * 1000;
    expect((await crossSiteView(w.deps, FID)).state).toBe('evaluating');
    // Too late for site-c now; its boxes from the others are gone.
    await expect(answerCrossSite(w.deps, FID, 'site-c', sealedAnswer(w, 'site-c'))).rejects.toMatchObject({
      code: 'CROSS_SITE_PHASE',
    });
    expect(await w.store.listCrossSiteBoxes(FID, 'site-c')).toEqual([]);
    await reportCrossSite(w.deps, FID, 'site-a', result(['site-a', 'site-b'], 0.75));
    // site-b never reports: at the results deadline the matrix is signed with its column missing.
    w.clock.now += DEADLINE_S * 1000;
    const view = await crossSiteView(w.deps, FID);
    expect(view.state).toBe('complete');
    expect(view.matrix).toMatchObject({
      participants: ['site-a', 'site-b'],
      silent: ['site-c'],
      columns: [
        { siteId: 'site-a', status: 'reported', n: 40 },
        { siteId: 'site-b', status: 'missing', n: null },
      ],
    });
    for (const s of SITES) expect(await w.store.listCrossSiteBoxes(FID, s)).toEqual([]);
  });

  test('a Cox federation is compared by C-index', async () => {
    const w = await world({ model: { kind: 'cox', inputs: 3 } });
    const directory = new SiteDirectory(w.coordinator);
    expect((await crossSiteSessionFor({ ...w.deps, directory }, FID, 'site-a')).metric).toBe('cIndex');
    for (const s of SITES) await answerCrossSite(w.deps, FID, s, sealedAnswer(w, s));
    for (const s of SITES) await reportCrossSite(w.deps, FID, s, result(SITES, 0.66));
    expect((await crossSiteView(w.deps, FID)).matrix).toMatchObject({ metric: 'cIndex' });
  });

  test('a recalibrated version out before the evaluation opens changes neither its global model nor its candidates', async () => {
    const w = await world({ recalibration: { method: 'platt' } });
    // Published after completion as the new head; its contributors are the sites that sent histograms (site-d too).
    await w.store.publishVersion({
      version: {
        id: `${FID}.v1.recalibrated`,
        federationId: FID,
        parentVersionId: `${FID}.v1`,
        round: 1,
        meta: {
          contributors: [...SITES, 'site-d'].map((siteId) => ({ siteId })),
          recalibration: { method: 'platt', a: 0.8, b: -0.1, baseVersionId: `${FID}.v1`, rows: 120 },
        },
        signature: 'sig',
        weightsSha256: 'sha',
        createdAt: new Date(T0 - 100).toISOString(),
      },
      weights: new Uint8Array(8),
    });
    expect((await w.store.getFederation(FID))!.latestVersionId).toBe(`${FID}.v1.recalibrated`);
    const { session } = await currentCrossSite(w.deps, FID);
    expect(session).toMatchObject({ globalVersionId: `${FID}.v1`, candidates: SITES });
  });

  test('bad answers and results are refused with stable codes', async () => {
    const w = await world();
    await expect(
      answerCrossSite(w.deps, FID, 'site-a', sealedAnswer(w, 'site-a', ['site-a', 'site-b'])),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(answerCrossSite(w.deps, FID, 'site-z', { refused: true })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(reportCrossSite(w.deps, FID, 'site-a', { withheld: true })).rejects.toMatchObject({
      code: 'CROSS_SITE_PHASE',
    });
    await answerCrossSite(w.deps, FID, 'site-a', sealedAnswer(w, 'site-a'));
    expect((await answerCrossSite(w.deps, FID, 'site-a', sealedAnswer(w, 'site-a'))).status).toBe('duplicate');
    await expect(answerCrossSite(w.deps, FID, 'site-a', { refused: true })).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    for (const s of ['site-b', 'site-c']) await answerCrossSite(w.deps, FID, s, sealedAnswer(w, s));
    await expect(reportCrossSite(w.deps, FID, 'site-a', result(['site-a'], 0.5))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});
