/**
 * The site's trust in its neighbours' keys with the neighbourhood view: one coordinator signature over the listed
 * closed neighbourhood (envelope/neighbourhood-directory) instead of one per entry, and today's per-entry checks when
 * the view carries none. Counts the checks (the shared functions wrapped).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as shared from '@twinfed/shared';
import {
  generateIdentity,
  secaggGraph,
  signNeighbourhoodDirectory,
  silentLogger,
  type SecaggGraphOptions,
  type WeightSet,
} from '@twinfed/shared';
import { testEnrollment } from '../__tests__/fake-coordinator';
import { LyingCoordinator, secureHeader } from '../__tests__/lying-coordinator';
import { Journal } from './journal';
import { SecureRound } from './secure-round';

jest.mock('@twinfed/shared', () => {
  const actual = jest.requireActual<typeof shared>('@twinfed/shared');
  return {
    ...actual,
    verifySiteDirectoryEntry: jest.fn(actual.verifySiteDirectoryEntry),
    verifyNeighbourhoodDirectory: jest.fn(actual.verifyNeighbourhoodDirectory),
  };
});

const entryChecks = jest.mocked(shared.verifySiteDirectoryEntry);
const listChecks = jest.mocked(shared.verifyNeighbourhoodDirectory);
const R = { round: 1, baseVersionId: 'v0' };
// Ten sites over a sparse graph of degree k = 4: each site's closed neighbourhood is 5 entries.
const SPARSE: SecaggGraphOptions = { graph: 'sparse', dropoutFraction: 0.1, corruptFraction: 0 };
const names = Array.from({ length: 10 }, (_, i) => `site-${String.fromCharCode(97 + i)}`);
const weights: WeightSet = { layout: [{ name: 'w', shape: [2], dtype: 'float32' }], data: Float32Array.from([1, 2]) };

function consortium() {
  const holder = new LyingCoordinator([], { threshold: 7 });
  const sites = names.map((n) => testEnrollment(holder.identity, n));
  const c = new LyingCoordinator(sites, { threshold: 7, models: holder.models });
  const g = secaggGraph({ ...c.rd, cohort: names, minSites: 2, options: SPARSE });
  expect([g.kind, g.degree]).toEqual(['sparse', 4]);
  c.graph = g;
  const journals = new Map(
    sites.map((s) => [s.state.siteId, Journal.open(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-dirsig-')))]),
  );
  const rounds = new Map(
    sites.map((e) => [
      e.state.siteId,
      new SecureRound({
        api: c.apiFor(e.state.siteId),
        enrollment: e,
        journal: journals.get(e.state.siteId)!,
        federationId: c.federationId,
        minSites: 2,
        graph: SPARSE,
        logger: silentLogger(),
        signal: new AbortController().signal,
        pollMs: 1,
      }),
    ]),
  );
  return { c, g, sites, journals, round: (id: string) => rounds.get(id)! };
}

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'returned',
    (e: Error & { code?: string }) => e.code ?? e.toString(),
  );

beforeEach(() => {
  entryChecks.mockClear();
  listChecks.mockClear();
});

describe('SecureRound: the neighbourhood directory signature', () => {
  test('carried by the view: one check per site and round, no entry checked one by one, the neighbours pinned', async () => {
    const k = consortium();
    await k.round('site-a').share(R);
    expect(k.c.views.get('site-a')!.neighbourhoodSignature).toBeDefined();
    expect([listChecks.mock.calls.length, entryChecks.mock.calls.length]).toEqual([1, 0]);
    for (const id of k.g.neighbours('site-a')) expect(k.journals.get('site-a')!.peer(id)).toBeDefined();
    for (const id of names.slice(1)) await k.round(id).share(R);
    k.c.u2 = [...names];
    k.c.phase = 'masking';
    listChecks.mockClear();
    // The round's later reads list the same neighbourhood under the same signature: not checked again.
    const sealed = await k
      .round('site-a')
      .sealMasked({ header: secureHeader(k.c.federationId, 'site-a', 10), weights });
    expect(sealed).toBeInstanceOf(Uint8Array);
    expect([listChecks.mock.calls.length, entryChecks.mock.calls.length]).toEqual([0, 0]);
  });

  test('absent (an older coordinator): each entry is checked against its own signature, as before', async () => {
    const k = consortium();
    k.c.signsNeighbourhoods = false;
    await k.round('site-a').share(R);
    expect(k.c.views.get('site-a')!.neighbourhoodSignature).toBeUndefined();
    expect([listChecks.mock.calls.length, entryChecks.mock.calls.length]).toEqual([0, 5]);
    // A forged entry is still refused then.
    const k2 = consortium();
    k2.c.signsNeighbourhoods = false;
    const b = k2.g.neighbours('site-a')[0]!;
    const forger = generateIdentity();
    const other = new LyingCoordinator([], { threshold: 7 });
    k2.c.lie = (_, v) => ({
      ...v,
      cohort: v.cohort.map((m) =>
        m.siteId === b ? { ...m, directorySignature: other.directoryEntry(b, forger).directorySignature } : m,
      ),
    });
    expect(await outcome(k2.round('site-a').share(R))).toBe('SECAGG_UNTRUSTED_KEY');
  });

  test('present but not the coordinator’s over this list for this site: SECAGG_UNTRUSTED_KEY, nothing sent or pinned', async () => {
    const k = consortium();
    const b = k.g.neighbours('site-a')[0]!;
    const key = k.c.identity.sign.secretKey;
    const lies: Array<(v: shared.SecaggState) => string> = [
      // Signed for another site.
      (v) => signNeighbourhoodDirectory({ ...k.c.rd, siteId: b, entries: v.cohort }, key),
      // Over a list without one of the entries served.
      (v) => signNeighbourhoodDirectory({ ...k.c.rd, siteId: 'site-a', entries: v.cohort.slice(1) }, key),
      // For another round.
      (v) => signNeighbourhoodDirectory({ ...k.c.rd, round: 2, siteId: 'site-a', entries: v.cohort }, key),
      // By another key.
      (v) =>
        signNeighbourhoodDirectory(
          { ...k.c.rd, siteId: 'site-a', entries: v.cohort },
          generateIdentity().sign.secretKey,
        ),
      // Not a signature at all.
      () => 'AAAA',
    ];
    for (const lie of lies) {
      k.c.lie = (_, v) => ({ ...v, neighbourhoodSignature: lie(v) });
      expect(await outcome(k.round('site-a').share(R))).toBe('SECAGG_UNTRUSTED_KEY');
    }
    expect(entryChecks).not.toHaveBeenCalled();
    expect(k.c.shares.has('site-a')).toBe(false);
    expect(k.journals.get('site-a')!.peer(b)).toBeUndefined();
  });

  test('vouched for but different from the keys pinned for that site: refused', async () => {
    const k = consortium();
    for (const id of names) await k.round(id).share(R);
    k.c.u2 = [...names];
    k.c.phase = 'masking';
    const b = k.g.neighbours('site-a')[0]!;
    const pinned = k.journals.get('site-a')!.peer(b);
    // The coordinator lists other keys for b and signs the neighbourhood as listed.
    k.c.lie = (id, v) =>
      id !== 'site-a'
        ? v
        : { ...v, cohort: v.cohort.map((m) => (m.siteId === b ? k.c.directoryEntry(b, generateIdentity()) : m)) };
    expect(
      await outcome(k.round('site-a').sealMasked({ header: secureHeader(k.c.federationId, 'site-a', 10), weights })),
    ).toBe('SECAGG_UNTRUSTED_KEY');
    expect(k.c.views.get('site-a')!.neighbourhoodSignature).toBeDefined();
    expect(k.journals.get('site-a')!.peer(b)).toEqual(pinned);
  });
});
