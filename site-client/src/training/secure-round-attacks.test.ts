/**
 * Secure aggregation against a lying coordinator (issue 16, findings 1–4): each test plays one attack with the
 * malicious-coordinator double (it relays honestly, then lies per site, and tries to unmask an update from all it
 * was sent) and shows that the sites refuse, so no update can be unmasked.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  generateIdentity,
  maskKeyPair,
  planDigest,
  signSecaggKeys,
  toB64,
  fromB64,
  type SecaggState,
  type WeightSet,
  silentLogger,
  secaggGraph,
  signSecaggConsistency,
  DEFAULT_SECAGG_GRAPH,
  type SecaggGraphOptions,
} from '@twinfed/shared';
import { testEnrollment, testPlan } from '../__tests__/fake-coordinator';
import { fakeModelOps, syntheticDataset, syntheticSplit } from '../__tests__/fixtures';
import { LyingCoordinator, secureHeader } from '../__tests__/lying-coordinator';
import { SiteAuditLog } from '../audit/site-audit';
import type { Enrollment } from '../identity/load';
import { FederationSession } from './federation-session';
import { Journal } from './journal';
import { RoundWorker } from './round-worker';
import type { RunnerProgress } from './progress';
import { SecureRound } from './secure-round';

const weightsOf = (i: number): WeightSet => ({
  layout: [{ name: 'w', shape: [2], dtype: 'float32' }],
  data: Float32Array.from([0.25 * (i + 1), -0.5 * (i + 1)]),
});
const EXAMPLES = 10;
const R = { round: 1, baseVersionId: 'v0' };

function consortium(names: string[], threshold: number, graph: SecaggGraphOptions = DEFAULT_SECAGG_GRAPH) {
  const holder = new LyingCoordinator([], { threshold });
  const sites = names.map((n) => testEnrollment(holder.identity, n));
  const c = new LyingCoordinator(sites, { threshold, models: holder.models });
  const g = secaggGraph({ ...c.rd, cohort: sites.map((s) => s.state.siteId), minSites: 2, options: graph });
  if (g.kind === 'sparse') c.graph = g;
  const dirs = new Map(sites.map((s) => [s.state.siteId, fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-attack-'))]));
  /** A site's SecureRound over its data directory (a new one = the site restarted). */
  const round = (e: Enrollment) =>
    new SecureRound({
      api: c.apiFor(e.state.siteId),
      enrollment: e,
      journal: Journal.open(dirs.get(e.state.siteId)!),
      federationId: c.federationId,
      minSites: 2,
      graph,
      logger: silentLogger(),
      signal: new AbortController().signal,
      pollMs: 1,
    });
  return { c, sites, dirs, round };
}
type Consortium = ReturnType<typeof consortium>;

async function share(k: Consortium): Promise<void> {
  for (const s of k.sites) await k.round(s).share(R);
  k.c.u2 = k.sites.map((s) => s.state.siteId).sort();
  k.c.phase = 'masking';
}

async function mask(k: Consortium, sites = k.sites): Promise<void> {
  for (const s of sites) {
    const i = k.sites.indexOf(s);
    const envelope = await k
      .round(s)
      .sealMasked({ header: secureHeader(k.c.federationId, s.state.siteId, EXAMPLES), weights: weightsOf(i) });
    await k.c.apiFor(s.state.siteId).uploadUpdate({ federationId: k.c.federationId, round: 1, envelope });
  }
}

/** A consortium past masking: every site shared and uploaded, the coordinator announces U3 = all and unmasks. */
async function unmasking(
  names: string[],
  threshold: number,
  graph?: SecaggGraphOptions,
): Promise<{ k: Consortium; all: string[] }> {
  const k = consortium(names, threshold, graph);
  await share(k);
  await mask(k);
  const all = k.sites.map((s) => s.state.siteId).sort();
  k.c.u3 = all;
  k.c.phase = 'unmasking';
  return { k, all };
}

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'returned',
    (e: Error & { code?: string }) => e.code ?? e.toString(),
  );

/** True when `got` is site i's n · w (the attack worked). */
const isUpdateOf = (got: Float64Array | null, i: number): boolean =>
  got !== null && Array.from(weightsOf(i).data, (w) => w * EXAMPLES).every((w, k) => Math.abs(got[k]! - w) < 1e-3);

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!cond()) throw new Error('timed out');
}

describe('secure aggregation against a lying coordinator', () => {
  test("(a) after an honest reveal, a second one for a U3 without site-d is refused: site-d's seed and mask key never both leak", async () => {
    const { k, all } = await unmasking(['site-a', 'site-b', 'site-c', 'site-d'], 3);
    expect(await Promise.all(k.sites.map((s) => outcome(k.round(s).reveal(R))))).toEqual([
      'returned',
      'returned',
      'returned',
      'returned',
    ]);
    expect(k.c.reveals).toHaveLength(4);
    // The coordinator now claims that site-d's update never arrived and that nobody has revealed yet.
    k.c.forget = true;
    k.c.lie = (_, v) => ({ ...v, maskedBy: all.filter((id) => id !== 'site-d') });
    expect(await Promise.all(k.sites.slice(0, 3).map((s) => outcome(k.round(s).reveal(R))))).toEqual([
      'SECAGG_INCONSISTENT',
      'SECAGG_INCONSISTENT',
      'SECAGG_INCONSISTENT',
    ]);
    expect(k.c.reveals).toHaveLength(4);
    expect(k.c.reveals.every((r) => r.body.maskKeyShares.length === 0)).toBe(true);
    expect(isUpdateOf(await k.c.recover('site-d'), 3)).toBe(false);
    // Told again that nothing arrived, a site re-sends its recorded reveal verbatim, and nothing else.
    k.c.lie = (_, v) => v;
    await k.round(k.sites[0]!).reveal(R);
    expect(k.c.reveals[4]).toEqual({ siteId: 'site-a', body: k.c.reveals.find((r) => r.siteId === 'site-a')!.body });
  });

  test("(b) mask public keys the coordinator substituted for a site's peers are refused before the site masks", async () => {
    const k = consortium(['site-a', 'site-b', 'site-c', 'site-d'], 3);
    await share(k);
    const known = new Map<string, Uint8Array>();
    const fake = new Map(
      k.sites.slice(1).map((s) => {
        const identity = generateIdentity();
        const pair = maskKeyPair({ ...k.c.rd, boxSecretKey: identity.box.secretKey });
        known.set(toB64(pair.publicKey), pair.secretKey);
        return [s.state.siteId, { identity, maskPublicKey: toB64(pair.publicKey) }];
      }),
    );
    // 1. Only the mask keys replaced: their owners' signatures no longer verify.
    k.c.lie = (siteId, v) =>
      siteId !== 'site-a' || !v.survivors
        ? v
        : {
            ...v,
            survivors: v.survivors.map((m) =>
              fake.has(m.siteId) ? { ...m, maskPublicKey: fake.get(m.siteId)!.maskPublicKey } : m,
            ),
          };
    const refused = await k
      .round(k.sites[0]!)
      .sealMasked({ header: secureHeader(k.c.federationId, 'site-a', EXAMPLES), weights: weightsOf(0) })
      .then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
    expect(refused?.code).toBe('SECAGG_UNTRUSTED_KEY');
    // A peer on another secure-aggregation version signs another statement: the refusal names this one.
    expect(refused?.message).toContain('twinfed/secagg/v3');
    // 2. The peers' identities replaced too, with directory entries the coordinator signs and mask keys those fakes sign:
    //    site-a pinned the real keys when it shared, so the directory now contradicts its pins.
    k.c.lie = (siteId, v) => {
      if (siteId !== 'site-a' || !v.survivors) return v;
      return {
        ...v,
        cohort: v.cohort.map((m) =>
          fake.has(m.siteId) ? k.c.directoryEntry(m.siteId, fake.get(m.siteId)!.identity) : m,
        ),
        survivors: v.survivors.map((m) => {
          const f = fake.get(m.siteId);
          if (!f) return m;
          return {
            ...m,
            maskPublicKey: f.maskPublicKey,
            signature: signSecaggKeys(
              { ...k.c.rd, siteId: m.siteId, maskPublicKey: f.maskPublicKey, boxesSha256: m.boxesSha256 },
              f.identity.sign.secretKey,
            ),
          };
        }),
      };
    };
    expect(
      await outcome(
        k
          .round(k.sites[0]!)
          .sealMasked({ header: secureHeader(k.c.federationId, 'site-a', EXAMPLES), weights: weightsOf(0) }),
      ),
    ).toBe('SECAGG_UNTRUSTED_KEY');
    expect(k.c.masked.has('site-a')).toBe(false);
    // The honest rest of the round cannot give the coordinator site-a's update.
    await mask(k, k.sites.slice(1));
    k.c.lie = (_, v) => v;
    expect(await k.c.recover('site-a', { known })).toBeNull();
  });

  test("(b′) a neighbour's share box that does not open with the mask key listed for it (swapped, tampered, missing) is refused before the site masks", async () => {
    const k = consortium(['site-a', 'site-b', 'site-c', 'site-d'], 3);
    await share(k);
    const attempt = async (lie: (boxes: SecaggState['sharesForMe']) => SecaggState['sharesForMe']) => {
      k.c.lie = (siteId, v) => (siteId !== 'site-a' ? v : { ...v, sharesForMe: lie(v.sharesForMe) });
      return outcome(
        k
          .round(k.sites[0]!)
          .sealMasked({ header: secureHeader(k.c.federationId, 'site-a', EXAMPLES), weights: weightsOf(0) }),
      );
    };
    // The keys and their signatures are genuine; only the boxes relayed with them do not match them.
    const swap: Record<string, string> = { 'site-b': 'site-c', 'site-c': 'site-b' };
    expect(await attempt((boxes) => boxes.map((b) => ({ ...b, from: swap[b.from] ?? b.from })))).toBe(
      'SECAGG_UNTRUSTED_KEY',
    );
    const flip = (c: string) => toB64(fromB64(c).map((x, i) => (i === 0 ? x ^ 1 : x)));
    expect(
      await attempt((boxes) => boxes.map((b) => (b.from === 'site-d' ? { ...b, ciphertext: flip(b.ciphertext) } : b))),
    ).toBe('SECAGG_UNTRUSTED_KEY');
    expect(await attempt((boxes) => boxes.filter((b) => b.from !== 'site-b'))).toBe('SECAGG_UNTRUSTED_KEY');
    expect(k.c.masked.has('site-a')).toBe(false);
    // Shown the boxes as they were sealed, the same site masks.
    expect(await attempt((boxes) => boxes)).toBe('returned');
  });

  test('(c) different U3 to different sites, with a Sybil: neither group reaches t = 4 signatures, nobody reveals, site-d stays masked', async () => {
    // Four hospitals and one Sybil (site-e) the coordinator enrolled itself and holds the keys of; t = ⌊10/3⌋ + 1 = 4.
    const { k, all } = await unmasking(['site-a', 'site-b', 'site-c', 'site-d', 'site-e'], 4);
    const sybil = k.sites[4]!;
    const honest = k.sites.slice(0, 4);
    const withoutD = all.filter((id) => id !== 'site-d');
    // Group A (site-d itself and site-a) is told site-d's update arrived; group B (site-b, site-c) that it did not. Each
    // group is shown only the signatures over its own U3, plus the Sybil's over the same.
    const groupB = new Set(['site-b', 'site-c']);
    const u3Of = (siteId: string) => (groupB.has(siteId) ? withoutD : all);
    k.c.lie = (siteId, v) => ({
      ...v,
      maskedBy: u3Of(siteId),
      consistency: [
        ...k.c.consistency.filter((c) => groupB.has(c.siteId) === groupB.has(siteId)),
        k.c.sybilConsistency(sybil, u3Of(siteId)),
      ],
    });
    const outcomes = Promise.all(honest.map((s) => outcome(k.round(s).reveal(R))));
    await until(() => k.c.consistency.length === 4); // every honest site signed its view, and waits for t signatures
    k.c.phase = 'closed';
    expect(await outcomes).toEqual(['returned', 'returned', 'returned', 'returned']);
    expect(k.c.reveals).toEqual([]);
    expect(await k.c.recover('site-d', { sybils: [sybil] })).toBeNull();
  });

  test('(c″) signatures over another U3 than the one a site signed are refused at once; the consistent majority may reveal, site-d stays masked', async () => {
    const { k, all } = await unmasking(['site-a', 'site-b', 'site-c', 'site-d'], 3);
    k.c.lie = (siteId, v) => (siteId === 'site-b' ? { ...v, maskedBy: all.filter((id) => id !== 'site-d') } : v);
    const outcomes = await Promise.all(k.sites.map((s) => outcome(k.round(s).reveal(R))));
    // site-b sees the others' signatures over U3 = all: it refuses. The others either reach t = 3 signatures over the
    // U3 they signed (and reveal seeds only) or see site-b's and refuse — depending on arrival order.
    expect(outcomes[1]).toBe('SECAGG_INCONSISTENT');
    for (const o of outcomes) expect(['returned', 'SECAGG_INCONSISTENT']).toContain(o);
    expect(k.c.reveals.filter((r) => r.siteId === 'site-b' || r.body.maskKeyShares.length > 0)).toEqual([]);
    expect(await k.c.recover('site-d')).toBeNull();
  });

  test('(c′) a threshold other than the one the site computes from the plan and the cohort (t > 2n/3) is refused before sharing', async () => {
    const k = consortium(['site-a', 'site-b', 'site-c', 'site-d'], 2);
    expect(await outcome(k.round(k.sites[0]!).share(R))).toBe('SECAGG_INCONSISTENT');
    expect(k.c.shares.size).toBe(0);
    const two = consortium(['site-a', 'site-b'], 2);
    expect(await outcome(two.round(two.sites[0]!).share(R))).toBe('SECAGG_COHORT_TOO_SMALL');
  });

  test('(d) a restarted site never masks a second vector for the same round, whatever the coordinator says', async () => {
    const k = consortium(['site-a', 'site-b', 'site-c'], 3);
    await share(k);
    const a = k.sites[0]!;
    const first = await k
      .round(a)
      .sealMasked({ header: secureHeader(k.c.federationId, 'site-a', EXAMPLES), weights: weightsOf(0) });
    await k.c.apiFor('site-a').uploadUpdate({ federationId: k.c.federationId, round: 1, envelope: first });
    // Restarted (a new SecureRound over the same data directory), told it has not submitted, retrained on new data.
    expect(
      await outcome(
        k
          .round(a)
          .sealMasked({ header: secureHeader(k.c.federationId, 'site-a', EXAMPLES + 1), weights: weightsOf(5) }),
      ),
    ).toBe('SECAGG_MASK_REUSE');
    expect(k.round(a).storedEnvelope(1)).toEqual(first);
    expect(k.c.masked.get('site-a')).toHaveLength(1);
  });

  test('(d′) a site restarted after its upload landed but before the acknowledgement re-sends the stored bytes without retraining', async () => {
    const k = consortium(['site-a', 'site-b', 'site-c'], 3);
    k.c.elements = 4;
    const plan = testPlan({ privacy: { secureAggregation: true }, minSites: 2 });
    const a = k.sites[0]!;
    const worker = async (dataset: ReturnType<typeof syntheticDataset>) => {
      const ops = fakeModelOps();
      const events: RunnerProgress[] = [];
      const session = await FederationSession.create({ plan, dataset, siteId: 'site-a', ops });
      const w = new RoundWorker({
        session,
        api: k.c.apiFor('site-a'),
        enrollment: a,
        journal: Journal.open(k.dirs.get('site-a')!),
        federationId: k.c.federationId,
        logger: silentLogger(),
        planSha256: planDigest(plan),
        signal: new AbortController().signal,
        emit: (e) => events.push(e),
        status: () => undefined,
      });
      return { w, ops, events };
    };
    const current = await k.c.models.currentRound(k.c.federationId);
    k.c.dropAcks = 1; // the first upload lands, its acknowledgement is lost
    const first = await worker(syntheticDataset());
    const training = outcome(first.w.maybeTrain(current));
    await until(() => k.c.shares.has('site-a'));
    for (const s of k.sites.slice(1)) await k.round(s).share(R);
    k.c.u2 = k.sites.map((s) => s.state.siteId).sort();
    k.c.phase = 'masking';
    expect(await training).toBe('NETWORK');
    expect(first.ops.trainCalls).toBe(1);
    // Restart with one more patient; the coordinator says "not submitted".
    k.c.onUpload = () => (k.c.phase = 'closed');
    const second = await worker({ ...syntheticDataset(), train: syntheticSplit(41, 1) });
    await second.w.maybeTrain(current);
    expect(second.ops.trainCalls).toBe(0);
    const sent = k.c.masked.get('site-a')!;
    expect(sent).toHaveLength(2);
    expect(sent[1]!.envelope).toEqual(sent[0]!.envelope);
    expect(second.events).toContainEqual(expect.objectContaining({ type: 'uploaded', round: 1 }));
  });

  describe('SecAgg+ (a sparse graph): neighbour-only consistency', () => {
    // Ten sites over the Harary graph of degree k = 4 with t = 3 (δ = 0.1, γ = 0): each site signs its closed
    // neighbourhood (V3) and takes signatures from its neighbours only; the global threshold t = 7 of the plan stays.
    const SPARSE: SecaggGraphOptions = { graph: 'sparse', dropoutFraction: 0.1, corruptFraction: 0 };
    const names = Array.from({ length: 10 }, (_, i) => `site-${String.fromCharCode(97 + i)}`);
    const sparse = () => unmasking(names, 7, SPARSE);
    const graphOf = (k: Consortium) => {
      expect(k.c.graph?.kind).toBe('sparse');
      expect([k.c.graph!.degree, k.c.graph!.threshold]).toEqual([4, 3]);
      return k.c.graph!;
    };
    const maskKeySharesOf = (k: Consortium, v: string) =>
      new Set(k.c.reveals.flatMap((r) => r.body.maskKeyShares.filter((x) => x.of === v).map((x) => x.share))).size;

    test('honestly relayed, every site reveals after t of its neighbourhood signed, with k + 1 signature checks at most', async () => {
      const { k } = await sparse();
      const g = graphOf(k);
      expect(await Promise.all(k.sites.map((s) => outcome(k.round(s).reveal(R))))).toEqual(names.map(() => 'returned'));
      expect(k.c.reveals).toHaveLength(10);
      for (const r of k.c.reveals) {
        // Seed shares of itself and its neighbours only, no mask key: nobody dropped.
        expect(r.body.seedShares.map((x) => x.of).sort()).toEqual([r.siteId, ...g.neighbours(r.siteId)].sort());
        expect(r.body.maskKeyShares).toEqual([]);
      }
      // What each site was shown: only its closed neighbourhood's signatures.
      for (const s of k.sites) {
        const id = s.state.siteId;
        for (const c of k.c.views.get(id)!.consistency) expect([id, ...g.neighbours(id)]).toContain(c.siteId);
      }
    });

    test('the neighbourhood view: each site reads only its closed neighbourhood’s keys, and a view without a neighbour’s cohort entry or mask key is refused', async () => {
      const { k } = await sparse();
      const g = graphOf(k);
      for (const s of k.sites) {
        const view = k.c.views.get(s.state.siteId)!;
        const near = [s.state.siteId, ...g.neighbours(s.state.siteId)].sort();
        expect(view.view).toBe('neighbourhood');
        expect(view.cohort.map((m) => m.siteId).sort()).toEqual(near);
        expect(view.survivors!.map((m) => m.siteId).sort()).toEqual(near);
        expect([view.cohortIds!.length, view.survivorIds!.length]).toEqual([10, 10]);
      }
      // A neighbour's cohort entry left out (S itself unchanged): refused before the site shares. (Each consortium
      // has its own coordinator key, so its own graph: the neighbour is looked up in it.)
      const a = k.sites[0]!.state.siteId;
      const fresh = consortium(names, 7, SPARSE);
      const b = graphOf(fresh).neighbours(a)[0]!;
      fresh.c.lie = (id, v) => (id === a ? { ...v, cohort: v.cohort.filter((m) => m.siteId !== b) } : v);
      await expect(fresh.round(fresh.sites[0]!).share(R)).rejects.toMatchObject({
        code: 'SECAGG_INCONSISTENT',
        message: expect.stringContaining(`no keys of site ${b}`),
      });
      expect(fresh.c.shares.size).toBe(0);
      // A neighbour's mask key left out of U2 (its id still listed): refused before the site masks.
      const later = consortium(names, 7, SPARSE);
      const b2 = graphOf(later).neighbours(a)[0]!;
      await share(later);
      later.c.lie = (id, v) => (id === a ? { ...v, survivors: v.survivors!.filter((m) => m.siteId !== b2) } : v);
      await expect(
        later
          .round(later.sites[0]!)
          .sealMasked({ header: secureHeader(later.c.federationId, a, EXAMPLES), weights: weightsOf(0) }),
      ).rejects.toMatchObject({
        code: 'SECAGG_INCONSISTENT',
        message: expect.stringContaining(`no mask key of survivor ${b2}`),
      });
      expect(later.c.masked.size).toBe(0);
    });

    test("U3 without site v shown to two of v's neighbours: every site next to them refuses, v's mask key never leaks", async () => {
      const { k, all } = await sparse();
      const g = graphOf(k);
      const v = all[0]!;
      const liars = g.neighbours(v).slice(0, 2);
      k.c.lie = (siteId, view) => (liars.includes(siteId) ? { ...view, maskedBy: all.filter((id) => id !== v) } : view);
      // The two sign their view first; every other site then finds a liar's signature in its neighbourhood at once.
      const first = liars.map((id) => outcome(k.round(k.sites.find((s) => s.state.siteId === id)!).reveal(R)));
      await until(() => k.c.consistency.length === 2);
      const rest = k.sites.filter((s) => !liars.includes(s.state.siteId));
      const outcomes = await Promise.all(rest.map((s) => outcome(k.round(s).reveal(R))));
      rest.forEach((s, i) => {
        const next = g.neighbours(s.state.siteId).some((id) => liars.includes(id));
        if (next) expect(outcomes[i]).toBe('SECAGG_INCONSISTENT');
      });
      k.c.phase = 'closed';
      for (const o of await Promise.all(first)) expect(['returned', 'SECAGG_INCONSISTENT']).toContain(o);
      // At most the two shown the lie reveal v's mask-key share: fewer than t = 3, while 2t > k + 1.
      expect(maskKeySharesOf(k, v)).toBeLessThan(g.threshold);
      expect(await k.c.recover(v)).toBeNull();
    });

    test("a forged, a foreign, a non-neighbour or a V2 signature relayed as a neighbour's is refused before anything is revealed", async () => {
      const { k, all } = await sparse();
      const g = graphOf(k);
      const a = k.sites[0]!;
      const me = a.state.siteId;
      const nb = g.neighbours(me);
      const far = all.find((id) => id !== me && !nb.includes(id))!;
      const farSite = k.sites.find((s) => s.state.siteId === far)!;
      // Every other site signs honestly first.
      const others = k.sites.slice(1).map((s) => outcome(k.round(s).reveal(R)));
      await until(() => k.c.consistency.length === 9);
      k.c.phase = 'closed';
      await Promise.all(others);
      k.c.phase = 'unmasking';
      const honest = k.c.consistency.filter((c) => nb.includes(c.siteId));
      const v2 = signSecaggConsistency(
        { ...k.c.rd, threshold: 7, cohort: all, u2: all, u3: all },
        k.sites.find((s) => s.state.siteId === nb[0])!.identity.sign.secretKey,
      );
      const attempts: Array<Array<{ siteId: string; signature: string }>> = [
        // forged: another neighbour's signature under nb[0]'s name
        [{ siteId: nb[0]!, signature: honest.find((c) => c.siteId === nb[1])!.signature }, ...honest.slice(1)],
        // signed by a site that is not a neighbour, over its own (honest) neighbourhood
        [...honest, k.c.consistency.find((c) => c.siteId === far)!],
        // a non-neighbour's key over this site's statement (a Sybil would need a neighbour's key)
        [{ siteId: nb[0]!, signature: k.c.sybilConsistency(farSite, all).signature }, ...honest.slice(1)],
        // the complete graph's statement (V2) from a real neighbour
        [{ siteId: nb[0]!, signature: v2 }, ...honest.slice(1)],
      ];
      for (const consistency of attempts) {
        k.c.lie = (_, view) => ({ ...view, consistency });
        expect(await outcome(k.round(a).reveal(R))).toBe('SECAGG_INCONSISTENT');
      }
      expect(k.c.reveals.filter((r) => r.siteId === me)).toEqual([]);
    });

    test('only the first t distinct signers are checked: a forged signature relayed after them is not (the coordinator could have withheld it), and the site reveals', async () => {
      const { k } = await sparse();
      const g = graphOf(k);
      const a = k.sites[0]!;
      const me = a.state.siteId;
      const nb = g.neighbours(me);
      const others = k.sites.slice(1).map((s) => outcome(k.round(s).reveal(R)));
      await until(() => k.c.consistency.length === 9);
      k.c.phase = 'closed';
      await Promise.all(others);
      k.c.phase = 'unmasking';
      const valid = k.c.consistency.filter((c) => nb.includes(c.siteId) && c.siteId !== nb[3]);
      expect(valid).toHaveLength(g.threshold);
      const forged = { siteId: nb[3]!, signature: valid[0]!.signature };
      k.c.lie = (_, view) => ({ ...view, consistency: [...valid, forged] });
      expect(await outcome(k.round(a).reveal(R))).toBe('returned');
      expect(k.c.reveals.filter((r) => r.siteId === me)).toHaveLength(1);
    });

    /** Every site but site-a signed (and revealed or gave up); site-a has not signed yet. */
    async function othersSigned(k: Consortium): Promise<void> {
      const others = k.sites.slice(1).map((s) => outcome(k.round(s).reveal(R)));
      await until(() => k.c.consistency.length === k.sites.length - 1);
      k.c.phase = 'closed';
      await Promise.all(others);
      k.c.phase = 'unmasking';
    }
    type Relayed = SecaggState['consistency'];
    const flip = (mac: string) => toB64(fromB64(mac).map((b, i) => (i === 0 ? b ^ 1 : b)));
    const revealsOf = (k: Consortium, id: string) => k.c.reveals.filter((r) => r.siteId === id).length;

    test("neighbours are counted by their MACs for this site, not their signatures: garbage signatures beside valid MACs still reveal; a neighbour's MAC for another site does not count", async () => {
      const { k } = await sparse();
      const g = graphOf(k);
      const a = k.sites[0]!;
      const me = a.state.siteId;
      const nb = g.neighbours(me);
      await othersSigned(k);
      // Every neighbour's relayed MAC is there, addressed to site-a; its signature is another site's (no Ed25519
      // check would pass): the site reveals on the MACs.
      const garbage = k.c.consistency.find((c) => !nb.includes(c.siteId) && c.siteId !== me)!.signature;
      k.c.lie = (id, view) =>
        id === me
          ? { ...view, consistency: view.consistency.map((c) => (c.siteId === me ? c : { ...c, signature: garbage })) }
          : view;
      expect(await outcome(k.round(a).reveal(R))).toBe('returned');
      expect(revealsOf(k, me)).toBe(1);
      const relayed = k.c.views.get(me)!.consistency.filter((c) => c.siteId !== me);
      expect(relayed.length).toBeGreaterThanOrEqual(g.threshold - 1);
      for (const c of relayed) expect(c.mac).toBe(k.c.macs.get(c.siteId)!.find((m) => m.to === me)!.mac);

      // Another consortium: nb[0]'s MAC for nb[1] (or for another site) relayed to site-a as nb[0]'s for it. The
      // graph tolerates c = 0 bad MACs here (γ = 0), so one is a refusal, before anything is revealed.
      const { k: k2 } = await sparse();
      const g2 = graphOf(k2);
      const a2 = k2.sites[0]!;
      const me2 = a2.state.siteId;
      expect(g2.corruptNeighbours).toBe(0);
      await othersSigned(k2);
      const n0 = g2.neighbours(me2)[0]!;
      const elsewhere = k2.c.macs.get(n0)!.find((m) => m.to !== me2)!.mac;
      k2.c.lie = (id, view) =>
        id === me2
          ? { ...view, consistency: view.consistency.map((c) => (c.siteId === n0 ? { ...c, mac: elsewhere } : c)) }
          : view;
      expect(await outcome(k2.round(a2).reveal(R))).toBe('SECAGG_INCONSISTENT');
      expect(revealsOf(k2, me2)).toBe(0);
    });

    test('a coordinator from before the MACs (its schema refuses them) gets the signature alone; the neighbours check it, and every site reveals', async () => {
      const { k } = await sparse();
      k.c.takesMacs = false;
      expect(await Promise.all(k.sites.map((s) => outcome(k.round(s).reveal(R))))).toEqual(names.map(() => 'returned'));
      expect(k.c.consistency).toHaveLength(10);
      expect(k.c.macs.size).toBe(0);
      expect(k.c.reveals).toHaveLength(10);
    });

    describe('with a corrupt-neighbour bound c = 1 (γ = 0.05: k = 6, t = 5)', () => {
      const SPARSE_C: SecaggGraphOptions = { graph: 'sparse', dropoutFraction: 0.1, corruptFraction: 0.05 };
      /** A consortium of ten over that graph where every site but site-a signed, and site-a's relay rewritten. */
      async function lieTo(rewrite: (relayed: Relayed, me: string, nb: string[]) => Relayed) {
        const { k } = await unmasking(names, 7, SPARSE_C);
        const g = k.c.graph!;
        expect([g.degree, g.threshold, g.corruptNeighbours]).toEqual([6, 5, 1]);
        const a = k.sites[0]!;
        const me = a.state.siteId;
        await othersSigned(k);
        const nb = g.neighbours(me);
        k.c.lie = (id, view) => (id === me ? { ...view, consistency: rewrite(view.consistency, me, nb) } : view);
        return { k, a, me };
      }
      const others = (relayed: Relayed, me: string) => relayed.filter((c) => c.siteId !== me);

      test('one MAC that does not verify (a corrupt neighbour may send garbage) is not counted, and the other six suffice', async () => {
        const { k, a, me } = await lieTo((relayed, me) => {
          const bad = others(relayed, me)[0]!.siteId;
          return relayed.map((c) => (c.siteId === bad ? { ...c, mac: flip(c.mac!) } : c));
        });
        expect(await outcome(k.round(a).reveal(R))).toBe('returned');
        expect(revealsOf(k, me)).toBe(1);
      });

      test('more bad MACs than c: the coordinator shows the neighbours different views, and the site refuses before revealing', async () => {
        const { k, a, me } = await lieTo((relayed, me) => {
          const [b1, b2] = others(relayed, me);
          const bad = [b1!.siteId, b2!.siteId];
          // The bad ones first: a site stops checking once t counted (the coordinator could withhold the rest).
          const rewritten = relayed.map((c) => (bad.includes(c.siteId) ? { ...c, mac: flip(c.mac!) } : c));
          return [
            ...rewritten.filter((c) => bad.includes(c.siteId)),
            ...rewritten.filter((c) => !bad.includes(c.siteId)),
          ];
        });
        expect(await outcome(k.round(a).reveal(R))).toBe('SECAGG_INCONSISTENT');
        expect(revealsOf(k, me)).toBe(0);
      });

      test('fewer than t valid (two withheld, one bad): the site waits and never reveals', async () => {
        const { k, a, me } = await lieTo((relayed, me) => {
          const [w1, w2, b] = others(relayed, me);
          return relayed
            .filter((c) => c.siteId !== w1!.siteId && c.siteId !== w2!.siteId)
            .map((c) => (c.siteId === b!.siteId ? { ...c, mac: flip(c.mac!) } : c));
        });
        const waiting = outcome(k.round(a).reveal(R));
        await new Promise((r) => setTimeout(r, 50));
        expect(revealsOf(k, me)).toBe(0);
        k.c.phase = 'closed';
        expect(await waiting).toBe('returned');
        expect(revealsOf(k, me)).toBe(0);
      });

      test('a neighbour relayed without a MAC (a site from before them, or one withheld) is checked by its signature, as before', async () => {
        const { k, a, me } = await lieTo((relayed) => relayed.map(({ siteId, signature }) => ({ siteId, signature })));
        expect(await outcome(k.round(a).reveal(R))).toBe('returned');
        expect(revealsOf(k, me)).toBe(1);
        const forged = await lieTo((relayed, me) => {
          const [b1, b2] = others(relayed, me);
          return relayed.map((c) => (c.siteId === b1!.siteId ? { siteId: c.siteId, signature: b2!.signature } : c));
        });
        expect(await outcome(forged.k.round(forged.a).reveal(R))).toBe('SECAGG_INCONSISTENT');
      });
    });

    test('fewer than t neighbour signatures: the site waits and never reveals; asked later for the mask key of a neighbour whose seed it revealed, it refuses', async () => {
      const { k, all } = await sparse();
      const g = graphOf(k);
      const a = k.sites[0]!;
      const me = a.state.siteId;
      // Only one neighbour's signature ever reaches site-a (with its own, 2 < t = 3).
      k.c.lie = (siteId, view) =>
        siteId === me
          ? {
              ...view,
              consistency: view.consistency.filter((c) => c.siteId === me || c.siteId === g.neighbours(me)[0]),
            }
          : view;
      const waiting = outcome(k.round(a).reveal(R));
      const others = await Promise.all(k.sites.slice(1).map((s) => outcome(k.round(s).reveal(R))));
      expect(others).toEqual(names.slice(1).map(() => 'returned'));
      await new Promise((r) => setTimeout(r, 50));
      expect(k.c.reveals.some((r) => r.siteId === me)).toBe(false);
      k.c.phase = 'closed';
      expect(await waiting).toBe('returned');
      expect(k.c.reveals.some((r) => r.siteId === me)).toBe(false);
      // The others revealed seed shares of their neighbours; told now that one of them dropped, none of them gives
      // its mask-key share (the U3 differs from the one it signed).
      const v = g.neighbours(k.sites[1]!.state.siteId)[0]!;
      k.c.phase = 'unmasking';
      k.c.forget = true;
      k.c.lie = (_, view) => ({ ...view, maskedBy: all.filter((id) => id !== v) });
      for (const s of k.sites.slice(1).filter((x) => g.neighbours(x.state.siteId).includes(v)))
        expect(await outcome(k.round(s).reveal(R))).toBe('SECAGG_INCONSISTENT');
      expect(maskKeySharesOf(k, v)).toBe(0);
      expect(await k.c.recover(v)).toBeNull();
    });
  });

  test('a refusal ends the round for the site: no training, a `secagg-refused` skip, an audit entry', async () => {
    const k = consortium(['site-a', 'site-b', 'site-c', 'site-d'], 2); // the coordinator announces t = 2; the site computes 3
    const plan = testPlan({ privacy: { secureAggregation: true }, minSites: 2 });
    const ops = fakeModelOps();
    const events: RunnerProgress[] = [];
    const dir = k.dirs.get('site-a')!;
    const audit = new SiteAuditLog(dir);
    const w = new RoundWorker({
      session: await FederationSession.create({ plan, dataset: syntheticDataset(), siteId: 'site-a', ops }),
      api: k.c.apiFor('site-a'),
      enrollment: k.sites[0]!,
      journal: Journal.open(dir),
      audit,
      federationId: k.c.federationId,
      planSha256: planDigest(plan),
      logger: silentLogger(),
      signal: new AbortController().signal,
      emit: (e) => events.push(e),
      status: () => undefined,
    });
    await w.maybeTrain(await k.c.models.currentRound(k.c.federationId));
    expect(ops.trainCalls).toBe(0);
    expect(k.c.shares.size).toBe(0);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'skipped',
        round: 1,
        reason: 'secagg-refused',
        message: expect.stringMatching(/threshold/),
      }),
    );
    expect(audit.list().map((e) => [e.action, (e.detail as { code?: string }).code])).toEqual([
      ['secagg.refused', 'SECAGG_INCONSISTENT'],
    ]);
  });
});
