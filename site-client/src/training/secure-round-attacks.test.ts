/**
 * Secure aggregation against a lying coordinator (issue 16, findings 1–4): each test plays one attack with the
 * malicious-coordinator double and shows that the sites refuse, so the coordinator cannot unmask any update.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateIdentity, maskKeyPair, toB64, type WeightSet } from '@twinfed/shared';
import { testEnrollment } from '../__tests__/fake-coordinator';
import { LyingCoordinator, secureHeader } from '../__tests__/lying-coordinator';
import type { Enrollment } from '../identity/load';
import { silentLogger } from '../logger';
import { SecureRound } from './secure-round';

const weightsOf = (i: number): WeightSet => ({ layout: [{ name: 'w', shape: [2], dtype: 'float32' }], data: Float32Array.from([0.25 * (i + 1), -0.5 * (i + 1)]) });
const EXAMPLES = 10;

function consortium(names: string[], threshold: number) {
  const coordinatorHolder = new LyingCoordinator([], { threshold });
  const sites = names.map((n) => testEnrollment(coordinatorHolder.identity, n));
  const c = new LyingCoordinator(sites, { threshold, models: coordinatorHolder.models });
  const dirs = new Map(sites.map((s) => [s.state.siteId, fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-attack-'))]));
  const round = (e: Enrollment) => new SecureRound({ api: c.apiFor(e.state.siteId), enrollment: e, federationId: c.federationId, logger: silentLogger(), signal: new AbortController().signal, pollMs: 1 });
  return { c, sites, dirs, round };
}

/** Runs the honest steps up to the masked uploads: every site shares, U2 = all, every site masks and uploads. */
async function throughMasking(k: ReturnType<typeof consortium>, uploaders = k.sites) {
  for (const s of k.sites) await k.round(s).share(1);
  k.c.u2 = k.sites.map((s) => s.state.siteId).sort();
  k.c.phase = 'masking';
  for (const [i, s] of uploaders.entries()) {
    const envelope = await k.round(s).sealMasked({ header: secureHeader(k.c.federationId, s.state.siteId, EXAMPLES), weights: weightsOf(i) });
    await k.c.apiFor(s.state.siteId).uploadUpdate({ federationId: k.c.federationId, round: 1, envelope });
  }
}

const expectNotRecovered = (got: Float64Array | null, i: number) => {
  const want = Array.from(weightsOf(i).data, (w) => w * EXAMPLES);
  if (got) expect(Array.from(got)).not.toEqual(want.map((w) => expect.closeTo(w, 4)));
  expect(got === null || got.some((x, k) => Math.abs(x - want[k]!) > 1e-3)).toBe(true);
};

describe('secure aggregation against a lying coordinator', () => {
  test('(a) a second reveal for a U3 without v: the sites refuse, so v\'s seed and mask key never both leak', async () => {
    const k = consortium(['site-a', 'site-b', 'site-c', 'site-d'], 3);
    await throughMasking(k);
    const all = k.sites.map((s) => s.state.siteId).sort();
    k.c.u3 = all;
    k.c.phase = 'unmasking';
    for (const s of k.sites) await k.round(s).reveal(1);
    // The coordinator now claims that site-d's update never arrived and that nobody has revealed yet.
    k.c.forget = true;
    k.c.lie = (_, v) => ({ ...v, maskedBy: all.filter((id) => id !== 'site-d') });
    const refusals: unknown[] = [];
    for (const s of k.sites.slice(0, 3)) await k.round(s).reveal(1).catch((e: unknown) => refusals.push(e));
    expectNotRecovered(await k.c.recover('site-d'), 3);
    expect(refusals).toHaveLength(3);
    for (const e of refusals) expect(e).toMatchObject({ code: 'SECAGG_INCONSISTENT' });
  });

  test('(b) mask public keys the coordinator substituted for a site\'s peers are refused before the site masks', async () => {
    const k = consortium(['site-a', 'site-b', 'site-c', 'site-d'], 3);
    for (const s of k.sites) await k.round(s).share(1);
    k.c.u2 = k.sites.map((s) => s.state.siteId).sort();
    k.c.phase = 'masking';
    // Fake mask key pairs the coordinator knows the secrets of, shown to site-a in place of its peers' keys.
    const known = new Map<string, Uint8Array>();
    const fakes = new Map(k.sites.slice(1).map((s) => {
      const pair = maskKeyPair({ boxSecretKey: generateIdentity().box.secretKey, federationId: k.c.federationId, round: 1 });
      known.set(toB64(pair.publicKey), pair.secretKey);
      return [s.state.siteId, toB64(pair.publicKey)];
    }));
    k.c.lie = (siteId, v) => (siteId !== 'site-a' || !v.survivors ? v : { ...v, survivors: v.survivors.map((m) => (fakes.has(m.siteId) ? { ...m, maskPublicKey: fakes.get(m.siteId)! } : m)) });
    const refused = await k.round(k.sites[0]!).sealMasked({ header: secureHeader(k.c.federationId, 'site-a', EXAMPLES), weights: weightsOf(0) }).then(
      async (envelope) => {
        await k.c.apiFor('site-a').uploadUpdate({ federationId: k.c.federationId, round: 1, envelope });
        return null;
      },
      (e: unknown) => e,
    );
    // Had it masked, the honest reveals of the round would give the coordinator site-a's seed: the update in clear.
    if (!refused) {
      for (const [i, s] of k.sites.slice(1).entries()) {
        const envelope = await k.round(s).sealMasked({ header: secureHeader(k.c.federationId, s.state.siteId, EXAMPLES), weights: weightsOf(i + 1) });
        await k.c.apiFor(s.state.siteId).uploadUpdate({ federationId: k.c.federationId, round: 1, envelope });
      }
      k.c.u3 = k.c.u2;
      k.c.phase = 'unmasking';
      k.c.lie = (_, v) => v;
      for (const s of k.sites.slice(1)) await k.round(s).reveal(1);
      expectNotRecovered(await k.c.recover('site-a', { known }), 0);
    }
    expect(refused).toMatchObject({ code: 'SECAGG_UNTRUSTED_KEY' });
  });

  test('(c) different U3 to different sites, with a Sybil: neither group reveals, so v cannot be unmasked', async () => {
    // Four hospitals and one Sybil (site-e) the coordinator enrolled itself and holds the keys of.
    const k = consortium(['site-a', 'site-b', 'site-c', 'site-d', 'site-e'], 3);
    const sybil = k.sites[4]!;
    const honest = k.sites.slice(0, 4);
    await throughMasking(k, k.sites);
    const all = k.sites.map((s) => s.state.siteId).sort();
    k.c.u3 = all;
    k.c.phase = 'unmasking';
    // Group A (site-d itself and site-a) is told site-d's update arrived; group B (site-b, site-c) that it did not.
    const groupB = new Set(['site-b', 'site-c']);
    k.c.lie = (siteId, v) => (groupB.has(siteId) ? { ...v, maskedBy: all.filter((id) => id !== 'site-d') } : v);
    const outcomes = await Promise.all(honest.map((s) => k.round(s).reveal(1).then(() => 'returned', (e: { code?: string }) => e.code ?? 'error')));
    expectNotRecovered(await k.c.recover('site-d', { sybils: [sybil] }), 3);
    expect(k.c.reveals.filter((r) => r.siteId !== 'site-e')).toEqual([]);
    expect(outcomes).toBeDefined();
  });

  test('(c′) a threshold lower than the one the site computes from the plan and the cohort is refused before sharing', async () => {
    const k = consortium(['site-a', 'site-b', 'site-c', 'site-d'], 2);
    await expect(k.round(k.sites[0]!).share(1)).rejects.toMatchObject({ code: 'SECAGG_INCONSISTENT' });
    expect(k.c.shares.size).toBe(0);
  });

  test('(d) after a restart the site never masks a second vector for the same round, whatever the coordinator says', async () => {
    const k = consortium(['site-a', 'site-b', 'site-c'], 2);
    for (const s of k.sites) await k.round(s).share(1);
    k.c.u2 = k.sites.map((s) => s.state.siteId).sort();
    k.c.phase = 'masking';
    const a = k.sites[0]!;
    const first = await k.round(a).sealMasked({ header: secureHeader(k.c.federationId, 'site-a', EXAMPLES), weights: weightsOf(0) });
    await k.c.apiFor('site-a').uploadUpdate({ federationId: k.c.federationId, round: 1, envelope: first });
    // Restarted (a new SecureRound over the same data directory), told it has not submitted, retrained on new data.
    const second = await k.round(a).sealMasked({ header: secureHeader(k.c.federationId, 'site-a', EXAMPLES + 1), weights: weightsOf(5) }).then(
      (envelope) => envelope,
      (e: unknown) => e,
    );
    if (second instanceof Uint8Array) {
      await k.c.apiFor('site-a').uploadUpdate({ federationId: k.c.federationId, round: 1, envelope: second });
      // y − y′ = x − x′: the masks cancel and the coordinator learns the difference of the two updates exactly.
      const y1 = k.c.maskedVector('site-a', 0).y;
      const y2 = k.c.maskedVector('site-a', 1).y.slice();
      const { subRing64, decodeRing64 } = await import('@twinfed/shared');
      const d = y1.slice();
      subRing64(d, y2);
      const diff = decodeRing64(d, 20);
      const want = Array.from(weightsOf(0).data, (w, i) => w * EXAMPLES - weightsOf(5).data[i]! * (EXAMPLES + 1));
      expect(Array.from(diff).every((x, i) => Math.abs(x - want[i]!) < 1e-4)).toBe(false);
    }
    expect(second).toMatchObject({ code: 'SECAGG_MASK_REUSE' });
  });
});
