import {
  PROTOCOL_VERSION,
  generateIdentity,
  maskKeyPair,
  parseUpdate,
  shareSecrets,
  toB64,
  type SecaggReveal,
  type SecaggShares,
  type SecaggState,
} from '@twinfed/shared';
import { testEnrollment } from '../__tests__/fake-coordinator';
import { silentLogger } from '../logger';
import type { SiteApi } from '../transport/coordinator-client';
import { SecureRound } from './secure-round';

const FID = 'fed-1';
const coordinator = generateIdentity();
const me = testEnrollment(coordinator, 'site-a');
const peers = ['site-b', 'site-c'].map((siteId) => ({ siteId, identity: generateIdentity() }));
const cohort = [
  { siteId: 'site-a', boxPublicKey: toB64(me.identity.box.publicKey) },
  ...peers.map((p) => ({ siteId: p.siteId, boxPublicKey: toB64(p.identity.box.publicKey) })),
];
const maskPk = (secret: Uint8Array, round: number) => toB64(maskKeyPair({ boxSecretKey: secret, federationId: FID, round }).publicKey);

function state(over: Partial<SecaggState>): SecaggState {
  return {
    federationId: FID, round: 1, phase: 'sharing', threshold: 2, cohort, shared: false, revealed: false, survivors: null, sharesForMe: [], maskedBy: null,
    sharesDeadlineAt: new Date().toISOString(), unmaskDeadlineAt: new Date().toISOString(), ...over,
  };
}

/** Boxes the peers sealed for site-a, as the coordinator would relay them. */
async function boxesForMe(round = 1) {
  const ids = cohort.map((c) => ({ siteId: c.siteId, boxPublicKey: c.siteId === 'site-a' ? me.identity.box.publicKey : peers.find((p) => p.siteId === c.siteId)!.identity.box.publicKey }));
  const out = [];
  for (const p of peers) {
    const boxes = await shareSecrets({ boxSecretKey: p.identity.box.secretKey, siteId: p.siteId, cohort: ids, threshold: 2, federationId: FID, round });
    const mine = boxes.find((b) => b.to === 'site-a')!;
    out.push({ from: p.siteId, nonce: mine.nonce, ciphertext: mine.ciphertext });
  }
  const own = (await shareSecrets({ boxSecretKey: me.identity.box.secretKey, siteId: 'site-a', cohort: ids, threshold: 2, federationId: FID, round })).find((b) => b.to === 'site-a')!;
  out.push({ from: 'site-a', nonce: own.nonce, ciphertext: own.ciphertext });
  return out;
}

function fakeApi(states: SecaggState[]) {
  const posted: { shares: SecaggShares[]; reveals: SecaggReveal[] } = { shares: [], reveals: [] };
  let i = 0;
  const api: Pick<SiteApi, 'secaggState' | 'secaggShares' | 'secaggReveal'> = {
    secaggState: async () => states[Math.min(i++, states.length - 1)]!,
    secaggShares: async (o) => (posted.shares.push(o.body), { status: 'accepted' }),
    secaggReveal: async (o) => (posted.reveals.push(o.body), { status: 'accepted' }),
  };
  const round = new SecureRound({ api: api as SiteApi, enrollment: me, federationId: FID, logger: silentLogger(), signal: new AbortController().signal, pollMs: 1 });
  return { round, posted };
}

const survivors = [
  { siteId: 'site-a', maskPublicKey: maskPk(me.identity.box.secretKey, 1) },
  ...peers.map((p) => ({ siteId: p.siteId, maskPublicKey: maskPk(p.identity.box.secretKey, 1) })),
];
const weights = { layout: [{ name: 'w', shape: [2], dtype: 'float32' as const }], data: Float32Array.from([0.5, -1]) };
const header = { protocol: PROTOCOL_VERSION, federationId: FID, round: 1, siteId: 'site-a', baseVersion: 'v0', numExamples: 10, metrics: {}, sentAt: new Date().toISOString() };

describe('SecureRound (site side of secure aggregation)', () => {
  it('shares once: a box for every cohort member and its mask public key; nothing again; too late means no training', async () => {
    const a = fakeApi([state({})]);
    await a.round.share(1);
    expect(a.posted.shares).toHaveLength(1);
    expect(a.posted.shares[0]!.shares.map((s) => s.to).sort()).toEqual(['site-a', 'site-b', 'site-c']);
    expect(a.posted.shares[0]!.maskPublicKey).toBe(maskPk(me.identity.box.secretKey, 1));
    const again = fakeApi([state({ shared: true, phase: 'masking', survivors })]);
    await again.round.share(1);
    expect(again.posted.shares).toHaveLength(0);
    const late = fakeApi([state({ phase: 'masking', survivors: survivors.slice(1) })]);
    await expect(late.round.share(1)).rejects.toMatchObject({ code: 'SITE_NOT_SELECTED' });
    expect(late.posted.shares).toHaveLength(0);
  });

  it('waits for the key shares to close, then seals a masked update with its commitment; refuses when left out or closed', async () => {
    const a = fakeApi([state({}), state({}), state({ phase: 'masking', survivors, shared: true })]);
    const envelope = await a.round.sealMasked({ header, weights });
    const parsed = parseUpdate(envelope);
    expect(parsed.header.secagg?.commitment).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(parsed.header.numExamples).toBe(10);
    const out = fakeApi([state({ phase: 'masking', survivors: survivors.slice(1) })]);
    await expect(out.round.sealMasked({ header, weights })).rejects.toMatchObject({ code: 'SITE_NOT_SELECTED' });
    const closed = fakeApi([state({ phase: 'closed' })]);
    await expect(closed.round.sealMasked({ header, weights })).rejects.toMatchObject({ code: 'ROUND_CLOSED' });
  });

  it('reveals seed shares of U3 and mask-key shares of the dropped, once, and only when it is a survivor among at least t', async () => {
    const sharesForMe = await boxesForMe();
    const unmasking = state({ phase: 'unmasking', survivors, sharesForMe, maskedBy: ['site-a', 'site-b'], shared: true });
    const a = fakeApi([state({ phase: 'masking', survivors }), unmasking]);
    await a.round.reveal(1);
    expect(a.posted.reveals).toHaveLength(1);
    expect(a.posted.reveals[0]!.seedShares.map((s) => s.of)).toEqual(['site-a', 'site-b']);
    expect(a.posted.reveals[0]!.maskKeyShares.map((s) => s.of)).toEqual(['site-c']);
    for (const s of [{ ...unmasking, revealed: true }, { ...unmasking, maskedBy: ['site-b', 'site-c'] }, { ...unmasking, maskedBy: ['site-a'] }, state({ phase: 'closed' })]) {
      const b = fakeApi([s]);
      await b.round.reveal(1);
      expect(b.posted.reveals).toHaveLength(0);
    }
    const liar = fakeApi([{ ...unmasking, maskedBy: ['site-a', 'site-z'] }]);
    await expect(liar.round.reveal(1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
