import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  SECAGG_HEADER_EXAMPLES,
  SECAGG_MAX_EXAMPLES,
  decodeRing64,
  maskKeyPair,
  parseUpdate,
  secaggVectorLength,
  toB64,
  type WeightSet,
  silentLogger,
  DEFAULT_SECAGG_GRAPH,
  type SecaggPhaseEvent,
} from '@twinfed/shared';
import { testEnrollment } from '../__tests__/fake-coordinator';
import { LyingCoordinator, secureHeader } from '../__tests__/lying-coordinator';
import type { Enrollment } from '../identity/load';
import { Journal } from './journal';
import type { PushSource } from './runner-options';
import { SecureRound } from './secure-round';

const R = { round: 1, baseVersionId: 'v0' };
const weights: WeightSet = {
  layout: [{ name: 'w', shape: [2], dtype: 'float32' }],
  data: Float32Array.from([0.5, -1]),
};

/** Three sites (t = 3) in front of an honest relay (the lying coordinator's double, not lying). */
function setup(names = ['site-a', 'site-b', 'site-c']) {
  const holder = new LyingCoordinator([], { threshold: 3 });
  const sites = names.map((n) => testEnrollment(holder.identity, n));
  const c = new LyingCoordinator(sites, { threshold: 3, models: holder.models });
  const dirs = new Map(
    sites.map((s) => [s.state.siteId, fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-secure-round-'))]),
  );
  const round = (e: Enrollment) =>
    new SecureRound({
      api: c.apiFor(e.state.siteId),
      enrollment: e,
      journal: Journal.open(dirs.get(e.state.siteId)!),
      federationId: c.federationId,
      minSites: 2,
      graph: DEFAULT_SECAGG_GRAPH,
      logger: silentLogger(),
      signal: new AbortController().signal,
      pollMs: 1,
    });
  return { c, sites, round, dirs };
}

/** A push source the test drives: `connected` as set, every `secagg:phase` handler called by `push`. */
function pushSource(connected: boolean) {
  const handlers = new Set<(e: SecaggPhaseEvent) => void>();
  return {
    connected,
    on: ((_event: 'secagg:phase', handler: (e: SecaggPhaseEvent) => void) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    }) as PushSource['on'],
    push: (e: SecaggPhaseEvent) => handlers.forEach((h) => h(e)),
    listening: () => handlers.size,
  };
}

/** Site a's SecureRound over `c`, with push events and its state reads counted. */
function withPush(
  c: LyingCoordinator,
  a: Enrollment,
  events: ReturnType<typeof pushSource>,
  pollMs: number,
): { round: SecureRound; reads: () => number } {
  let reads = 0;
  const api = c.apiFor(a.state.siteId);
  return {
    round: new SecureRound({
      api: { ...api, secaggState: (o) => (reads++, api.secaggState!(o)) },
      enrollment: a,
      journal: Journal.open(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-secure-push-'))),
      federationId: c.federationId,
      minSites: 2,
      graph: DEFAULT_SECAGG_GRAPH,
      logger: silentLogger(),
      signal: new AbortController().signal,
      events,
      pollMs,
    }),
    reads: () => reads,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SecureRound (site side of secure aggregation)', () => {
  test("with push up, a wait ends on its round's secagg:phase push and then reads the state once (polling only every 10 s)", async () => {
    const { c, sites, round } = setup();
    for (const s of sites.slice(1)) await round(s).share(R);
    const events = pushSource(true);
    const site = withPush(c, sites[0]!, events, 1);
    await site.round.share(R);
    const reads = site.reads();
    const sealing = site.round.sealMasked({ header: secureHeader(c.federationId, 'site-a', 10), weights });
    await sleep(100);
    expect(site.reads()).toBe(reads); // no poll every 1 ms, and no read before the awaited phase is pushed
    c.u2 = sites.map((s) => s.state.siteId).sort();
    c.phase = 'masking';
    events.push({ federationId: c.federationId, round: 2, phase: 'masking' }); // another round's: not a wake-up
    events.push({ federationId: 'other', round: 1, phase: 'masking' });
    await sleep(50);
    expect(site.reads()).toBe(reads);
    events.push({ federationId: c.federationId, round: 1, phase: 'masking' });
    expect(parseUpdate(await sealing).header.secagg?.commitment).toBeDefined(); // well before the 10 s safety poll
    expect(site.reads()).toBe(reads + 1);
    expect(events.listening()).toBe(1); // the wait unsubscribed; the round's own record of pushes stays
  });

  test('with push up, a phase pushed before the wait began is read at once', async () => {
    const { c, sites, round } = setup();
    for (const s of sites.slice(1)) await round(s).share(R);
    const events = pushSource(true);
    const site = withPush(c, sites[0]!, events, 1);
    await site.round.share(R);
    c.u2 = sites.map((s) => s.state.siteId).sort();
    c.phase = 'masking';
    events.push({ federationId: c.federationId, round: 1, phase: 'masking' }); // while the site was training
    const reads = site.reads();
    expect(
      parseUpdate(await site.round.sealMasked({ header: secureHeader(c.federationId, 'site-a', 10), weights })).header
        .secagg?.commitment,
    ).toBeDefined();
    expect(site.reads()).toBe(reads + 1);
  });

  test('with push down, a wait polls, backing off from pollMs up to 8 × pollMs', async () => {
    const { c, sites, round } = setup();
    for (const s of sites.slice(1)) await round(s).share(R);
    const events = pushSource(false);
    const site = withPush(c, sites[0]!, events, 20);
    await site.round.share(R);
    const reads = site.reads();
    const sealing = site.round.sealMasked({ header: secureHeader(c.federationId, 'site-a', 10), weights });
    await sleep(1000);
    // 20, 30, 45, 67.5, 101, 152, 160, 160 … ms: about 9 reads in a second (about 50 at a fixed 20 ms).
    const polled = site.reads() - reads;
    expect(polled).toBeGreaterThanOrEqual(2);
    expect(polled).toBeLessThanOrEqual(12);
    c.u2 = sites.map((s) => s.state.siteId).sort();
    c.phase = 'masking'; // no push: the next poll sees it
    expect(parseUpdate(await sealing).header.secagg?.commitment).toBeDefined();
  });

  test('shares once: a signed message with a box for every cohort member, recorded first and only ever re-sent verbatim; too late means no training', async () => {
    const { c, sites, round } = setup();
    const a = sites[0]!;
    await round(a).share(R);
    const sent = c.shares.get('site-a')!;
    expect(sent.shares.map((s) => s.to).sort()).toEqual(['site-a', 'site-b', 'site-c']);
    expect(sent.maskPublicKey).toBe(toB64(maskKeyPair({ ...c.rd, boxSecretKey: a.identity.box.secretKey }).publicKey));
    // The coordinator "lost" it: the restarted site re-sends the recorded message, not a new split.
    c.shares.delete('site-a');
    await round(a).share(R);
    expect(c.shares.get('site-a')).toEqual(sent);
    // Acknowledged: nothing again.
    const calls = c.shares.size;
    await round(a).share(R);
    expect(c.shares.size).toBe(calls);
    const late = setup();
    late.c.phase = 'masking';
    await expect(late.round(late.sites[0]!).share(R)).rejects.toMatchObject({ code: 'SITE_NOT_SELECTED' });
    expect(late.c.shares.size).toBe(0);
  });

  test("carries the base version's evaluation on the first key-share message, never records it nor re-sends it; a coordinator refusing it gets the shares alone", async () => {
    const report = { n: 12, metrics: { auc: 0.8 } };
    let asked = 0;
    const evaluate = async () => (asked++, report);
    const { c, sites, round } = setup();
    const [a, b, d] = sites as [Enrollment, Enrollment, Enrollment];
    expect(await round(a).share(R, evaluate)).toBe(true);
    expect(asked).toBe(1);
    expect(c.evaluations.get('site-a')).toEqual(report);
    expect(c.shares.get('site-a')).not.toHaveProperty('baseEvaluation');
    // Re-sent after a restart: the recorded message, without the evaluation (it goes on its own then).
    c.shares.delete('site-a');
    c.evaluations.clear();
    expect(await round(a).share(R, evaluate)).toBe(false);
    expect(c.shares.has('site-a')).toBe(true);
    expect(c.evaluations.size).toBe(0);
    expect(asked).toBe(1);
    // A coordinator that does not take it (from before the field, or refusing the report): the same shares without it.
    c.baseEvaluations = 'VALIDATION_FAILED';
    const older = round(b);
    expect(await older.share(R, evaluate)).toBe(false);
    expect(c.shares.get('site-b')?.shares).toHaveLength(3);
    c.baseEvaluations = 'INVALID_BASE_EVALUATION';
    expect(await round(d).share(R, evaluate)).toBe(false);
    expect(c.shares.get('site-c')?.shares).toHaveLength(3);
    expect(c.evaluations.size).toBe(0);
    // Too late for the round: nothing evaluated for the shares (nor sent).
    const late = setup();
    late.c.phase = 'masking';
    asked = 0;
    await expect(late.round(late.sites[0]!).share(R, evaluate)).rejects.toMatchObject({ code: 'SITE_NOT_SELECTED' });
    expect(asked).toBe(0);
  });

  test('waits for the key shares to close, then seals a masked update with its commitment and stores it; refuses when left out or closed', async () => {
    const { c, sites, round } = setup();
    for (const s of sites) await round(s).share(R);
    setTimeout(() => {
      c.u2 = sites.map((s) => s.state.siteId).sort();
      c.phase = 'masking';
    }, 20);
    const envelope = await round(sites[0]!).sealMasked({ header: secureHeader(c.federationId, 'site-a', 10), weights });
    expect(parseUpdate(envelope).header.secagg?.commitment).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(round(sites[0]!).storedEnvelope(1)).toEqual(envelope);
    round(sites[0]!).acknowledged(1);
    await expect(async () => round(sites[0]!).storedEnvelope(1)).rejects.toMatchObject({ code: 'SECAGG_MASK_REUSE' }); // spent: never masked again
    c.u2 = ['site-b', 'site-c', 'site-a'].filter((id) => id !== 'site-b').sort();
    await expect(
      round(sites[1]!).sealMasked({ header: secureHeader(c.federationId, 'site-b', 10), weights }),
    ).rejects.toMatchObject({ code: 'SITE_NOT_SELECTED' });
    c.phase = 'closed';
    await expect(
      round(sites[2]!).sealMasked({ header: secureHeader(c.federationId, 'site-c', 10), weights }),
    ).rejects.toMatchObject({ code: 'ROUND_CLOSED' });
  });

  test("keeps the site's example count and training loss out of the clear header: both travel inside the masked vector", async () => {
    const { c, sites, round } = setup();
    for (const s of sites) await round(s).share(R);
    c.u2 = sites.map((s) => s.state.siteId).sort();
    c.phase = 'masking';
    const header = { ...secureHeader(c.federationId, 'site-a', 37), metrics: { steps: 12, trainLoss: 0.625 } };
    const envelope = await round(sites[0]!).sealMasked({ header, weights });
    await c.apiFor('site-a').uploadUpdate({ federationId: c.federationId, round: 1, envelope });
    const clear = parseUpdate(envelope).header;
    expect(clear.numExamples).toBe(SECAGG_HEADER_EXAMPLES);
    expect(clear.metrics).toEqual({});
    // What the coordinator can open is masked: n = 37 is not in it (only the sum over U3 gives Σn).
    const { y } = c.maskedVector('site-a');
    expect(y.length).toBe(2 * secaggVectorLength(weights.data.length));
    expect(Array.from(decodeRing64(y, 0))).not.toContain(37);
    // A count that could wrap the sums is refused by the site itself.
    await expect(
      round(sites[1]!).sealMasked({ header: secureHeader(c.federationId, 'site-b', SECAGG_MAX_EXAMPLES + 1), weights }),
    ).rejects.toMatchObject({ code: 'EXAMPLES_OUT_OF_RANGE' });
  });

  test('signs the round, waits for t signatures, then reveals seeds of U3 and mask keys of the dropped; nothing when not a survivor or fewer than t', async () => {
    const { c, sites, round, dirs } = setup(['site-a', 'site-b', 'site-c', 'site-d']); // t = 3
    for (const s of sites) await round(s).share(R);
    c.u2 = sites.map((s) => s.state.siteId).sort();
    c.phase = 'masking';
    for (const s of sites.slice(0, 3)) {
      const envelope = await round(s).sealMasked({ header: secureHeader(c.federationId, s.state.siteId, 10), weights });
      await c.apiFor(s.state.siteId).uploadUpdate({ federationId: c.federationId, round: 1, envelope });
    }
    c.u3 = ['site-a', 'site-b', 'site-c'];
    c.phase = 'unmasking';
    // site-d (dropped) has nothing to do; the three survivors sign, see three signatures and reveal.
    await round(sites[3]!).reveal(R);
    await Promise.all(sites.slice(0, 3).map((s) => round(s).reveal(R)));
    expect(c.consistency.map((x) => x.siteId).sort()).toEqual(['site-a', 'site-b', 'site-c']);
    expect(c.reveals).toHaveLength(3);
    for (const r of c.reveals) {
      expect(r.body.seedShares.map((s) => s.of)).toEqual(['site-a', 'site-b', 'site-c']);
      expect(r.body.maskKeyShares.map((s) => s.of)).toEqual(['site-d']);
    }
    // Once the round closed, the bodies kept for re-sending are dropped; the record of what was revealed stays.
    c.phase = 'closed';
    await round(sites[0]!).reveal(R);
    const kept = Journal.open(dirs.get('site-a')!).secagg(c.federationId, 1)!;
    expect(kept).toMatchObject({
      closed: true,
      reveal: { seedOf: ['site-a', 'site-b', 'site-c'], maskKeyOf: ['site-d'] },
    });
    expect(kept.reveal!.body).toBeUndefined();
    expect(kept.shares).toBeUndefined();

    // Fewer than t survivors: nothing is signed or revealed.
    const few = setup(['site-a', 'site-b', 'site-c', 'site-d']);
    for (const s of few.sites) await few.round(s).share(R);
    few.c.u2 = few.sites.map((s) => s.state.siteId).sort();
    few.c.phase = 'masking';
    const envelope = await few
      .round(few.sites[0]!)
      .sealMasked({ header: secureHeader(few.c.federationId, 'site-a', 10), weights });
    await few.c.apiFor('site-a').uploadUpdate({ federationId: few.c.federationId, round: 1, envelope });
    few.c.u3 = ['site-a', 'site-b'];
    few.c.phase = 'unmasking';
    await few.round(few.sites[0]!).reveal(R);
    expect(few.c.consistency).toEqual([]);
    expect(few.c.reveals).toEqual([]);
    // A U3 member outside U2 is a lie.
    few.c.u3 = ['site-a', 'site-b', 'site-z'];
    await expect(few.round(few.sites[0]!).reveal(R)).rejects.toMatchObject({ code: 'SECAGG_INCONSISTENT' });
  });
});
