import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DEFAULT_SECAGG_GRAPH,
  fromB64,
  recoverMaskSecretKey,
  recoverSelfMaskSeed,
  silentLogger,
  type WeightSet,
} from '@twinfed/shared';
import { testEnrollment } from '../__tests__/fake-coordinator';
import { LyingCoordinator, secureHeader } from '../__tests__/lying-coordinator';
import type { Enrollment } from '../identity/load';
import { Journal } from './journal';
import { SecureRound } from './secure-round';

const R = { round: 1, baseVersionId: 'v0' };
const weights: WeightSet = {
  layout: [{ name: 'w', shape: [2], dtype: 'float32' }],
  data: Float32Array.from([0.5, -1]),
};
const NAMES = ['site-a', 'site-b', 'site-c', 'site-d']; // t = 3

/** Four sites in front of the lying coordinator's double, each with one SecureRound for the whole round. */
function setup() {
  const holder = new LyingCoordinator([], { threshold: 3 });
  const sites = NAMES.map((n) => testEnrollment(holder.identity, n));
  const c = new LyingCoordinator(sites, { threshold: 3, models: holder.models });
  const round = (e: Enrollment) =>
    new SecureRound({
      api: c.apiFor(e.state.siteId),
      enrollment: e,
      journal: Journal.open(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-secure-reads-'))),
      federationId: c.federationId,
      minSites: 2,
      graph: DEFAULT_SECAGG_GRAPH,
      logger: silentLogger(),
      signal: new AbortController().signal,
      pollMs: 1,
    });
  return { c, sites, rounds: sites.map(round) };
}

/** Shares and masks (all but site-d, who drops), up to the unmasking phase with U3 = {a, b, c}. */
async function shareAndMask(c: LyingCoordinator, rounds: SecureRound[]) {
  for (const r of rounds) await r.share(R);
  c.u2 = [...NAMES];
  c.phase = 'masking';
  for (const [i, r] of rounds.slice(0, 3).entries()) {
    const envelope = await r.sealMasked({ header: secureHeader(c.federationId, NAMES[i]!, 10), weights });
    await c.apiFor(NAMES[i]!).uploadUpdate({ federationId: c.federationId, round: 1, envelope });
  }
  c.u3 = NAMES.slice(0, 3);
  c.phase = 'unmasking';
}

/** Shares, masks (all but site-d, who drops) and reveals; returns what each site named in `have`, read by read. */
async function playRound(c: LyingCoordinator, sites: Enrollment[], rounds: SecureRound[]) {
  await shareAndMask(c, rounds);
  await Promise.all(rounds.map((r) => r.reveal(R)));
  return sites.map((s) => c.asked.get(s.state.siteId) ?? []);
}

/** The survivors' seeds and the dropped site's mask key recombine from what was revealed (else these throw). */
async function unmasks(c: LyingCoordinator): Promise<void> {
  const shares = (of: string, kind: 'seedShares' | 'maskKeyShares') =>
    c.reveals.flatMap((r) => r.body[kind].filter((x) => x.of === of).map((x) => fromB64(x.share)));
  for (const v of NAMES.slice(0, 3))
    await recoverSelfMaskSeed({
      ...c.rd,
      shares: shares(v, 'seedShares'),
      commitment: c.maskedVector(v).commitment,
      siteId: v,
    });
  await recoverMaskSecretKey({
    shares: shares('site-d', 'maskKeyShares'),
    publicKey: fromB64(c.shares.get('site-d')!.maskPublicKey),
    siteId: 'site-d',
  });
}

describe('SecureRound state reads without what the site holds', () => {
  test('later reads name the directory, U2 and U3 once checked; the round completes on the answers without them', async () => {
    const { c, sites, rounds } = setup();
    const asked = await playRound(c, sites, rounds);
    // Site a: its first read asks for everything; the masking read names the directory it checked when sharing; the
    // reveal's first read the directory and U2 (opened boxes kept), the reads after it U3 too.
    const a = asked[0]!;
    expect(a[0]).toEqual([]);
    expect(a[1]).toEqual(['directory']);
    expect(a[2]).toEqual(['directory', 'survivors']);
    for (const later of a.slice(3)) expect(later).toEqual(['directory', 'survivors', 'maskedBy']);
    // Site d dropped (never masked): it never held U2.
    expect(asked[3]!.every((h) => !h.includes('survivors'))).toBe(true);
    expect(c.reveals).toHaveLength(3);
    for (const r of c.reveals) {
      expect(r.body.seedShares.map((s) => s.of)).toEqual(['site-a', 'site-b', 'site-c']);
      expect(r.body.maskKeyShares.map((s) => s.of)).toEqual(['site-d']);
    }
    await unmasks(c);
  });

  test('a coordinator from before `have` (refusing the query) is read in full from then on, and the round completes', async () => {
    const { c, sites, rounds } = setup();
    c.have = 'refuses';
    const asked = await playRound(c, sites, rounds);
    // Each site names what it holds once (refused), then never again.
    for (const reads of asked) expect(reads.filter((h) => h.length > 0)).toHaveLength(1);
    expect(c.reveals).toHaveLength(3);
    await unmasks(c);
  });

  test('a coordinator that ignores `have` and sends everything is checked as ever', async () => {
    const { c, sites, rounds } = setup();
    c.have = 'ignores';
    await playRound(c, sites, rounds);
    expect(c.reveals).toHaveLength(3);
    await unmasks(c);
  });

  test('a section left out that the site did not name is refused, before anything is sent', async () => {
    const { c, rounds } = setup();
    // The first read (nothing held): the coordinator leaves out the directory anyway.
    c.lie = (_, v) => ({ ...v, cohort: [], cohortIds: [], omitted: ['directory'] });
    await expect(rounds[0]!.share(R)).rejects.toMatchObject({ code: 'SECAGG_INCONSISTENT' });
    expect(c.shares.size).toBe(0);
    // Later: the site holds its directory, not U2 — a masking read without U2 is refused, nothing is sealed.
    c.lie = (_, v) => v;
    for (const r of rounds) await r.share(R);
    c.u2 = [...NAMES];
    c.phase = 'masking';
    c.lie = (_, v) => ({ ...v, cohort: [], survivors: [], sharesForMe: [], omitted: ['directory', 'survivors'] });
    await expect(
      rounds[0]!.sealMasked({ header: secureHeader(c.federationId, 'site-a', 10), weights }),
    ).rejects.toMatchObject({ code: 'SECAGG_INCONSISTENT' });
    expect(c.masked.size).toBe(0);
  });

  test('a coordinator asked for less that sends a changed section instead is checked on it: another U3 is refused', async () => {
    const { c, sites, rounds } = setup();
    await shareAndMask(c, rounds);
    // Site a signs U3 = {a, b, c} and waits for signatures; its later reads name U3 as held. The coordinator sends
    // another U3 all the same (site d added) — the site refuses it and reveals nothing.
    let reads = 0;
    c.lie = (id, v) => (id === 'site-a' && ++reads > 1 ? { ...v, maskedBy: [...NAMES] } : v);
    await expect(rounds[0]!.reveal(R)).rejects.toMatchObject({ code: 'SECAGG_INCONSISTENT' });
    expect(c.asked.get(sites[0]!.state.siteId)!.at(-1)).toEqual(['directory', 'survivors', 'maskedBy']);
    expect(c.reveals).toEqual([]);
  });
});
