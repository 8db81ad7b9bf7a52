import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { concatSplits, fitStandardizer, type Split } from '@twinfed/models';
import {
  SECURE_SUM_FRACTION_BITS,
  TwinfedError,
  decodeSecureSum,
  fromB64,
  generateIdentity,
  maskContribution,
  normalizationStatsContext,
  normalizationStatsLength,
  signSiteDirectoryEntry,
  sumMaskedContributions,
  toB64,
  type Identity,
  type StatsAck,
  type StatsContribution,
  type StatsSession,
} from '@twinfed/shared';
import { FakeCoordinator, TEST_FEATURES, testEnrollment, testPlan } from '../__tests__/fake-coordinator';
import { APPROVE_EVERY_PLAN, fakeModelOps, siteRecords, syntheticDataset, syntheticSplit } from '../__tests__/fixtures';
import type { Enrollment } from '../identity/load';
import { federatedStandardizer, localStatsVector, standardizerFromSums, type StatsApi } from './federated-stats';
import { Journal } from './journal';
import type { RunnerProgress } from './progress';
import { SiteRunner } from './runner';

type Member = { siteId: string; boxPublicKey: Uint8Array; signPublicKey: Uint8Array };

/** A cohort member as the coordinator (`signer`) lists it: a signed site directory entry. */
function directoryEntry(m: Member, signer: Identity) {
  const entry = { siteId: m.siteId, boxPublicKey: toB64(m.boxPublicKey), signPublicKey: toB64(m.signPublicKey) };
  return { ...entry, directorySignature: signSiteDirectoryEntry(entry, signer.sign.secretKey) };
}

/** An in-memory stand-in for the coordinator's secure-sum session: it stores masked bytes and adds them up. */
class StatsHub implements StatsApi {
  readonly masked = new Map<string, Uint8Array>();
  constructor(
    readonly members: Member[],
    readonly d = 3,
    readonly signer: Identity = coordinatorIdentity,
  ) {}
  get length(): number {
    return normalizationStatsLength(this.d);
  }
  async statsSession(federationId: string): Promise<StatsSession> {
    const complete = this.members.every((m) => this.masked.has(m.siteId));
    return {
      federationId,
      length: this.length,
      fractionBits: SECURE_SUM_FRACTION_BITS,
      cohort: this.members.map((m) => directoryEntry(m, this.signer)),
      contributed: this.members.filter((m) => this.masked.has(m.siteId)).map((m) => m.siteId),
      sum: complete ? toB64(sumMaskedContributions([...this.masked.values()], this.length)) : null,
    };
  }
  async contributeStats(opts: { federationId: string; contribution: StatsContribution }): Promise<StatsAck> {
    const siteId = this.pending!;
    this.masked.set(siteId, fromB64(opts.contribution.masked));
    return {
      federationId: opts.federationId,
      siteId,
      status: 'accepted',
      contributed: this.masked.size,
      cohort: this.members.length,
    };
  }
  /** The site whose request comes next (the fake has no signatures to tell sites apart). */
  pending: string | undefined;
  as(siteId: string): StatsApi {
    return {
      statsSession: (f) => this.statsSession(f),
      contributeStats: (o) => ((this.pending = siteId), this.contributeStats(o)),
    };
  }
}

const coordinatorIdentity = generateIdentity();
const enrolled = (siteId: string): Enrollment => testEnrollment(coordinatorIdentity, siteId);
const member = (e: Enrollment): Member => ({
  siteId: e.state.siteId,
  boxPublicKey: e.identity.box.publicKey,
  signPublicKey: e.identity.sign.publicKey,
});
/** One journal per site (in a temp data directory), as a site keeps across calls. */
const journals = new Map<string, Journal>();
const journalOf = (e: Enrollment): Journal => {
  const k = `${e.state.siteId}:${e.state.fingerprint}`;
  if (!journals.has(k)) journals.set(k, Journal.open(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-stats-site-'))));
  return journals.get(k)!;
};

describe('federated normalisation statistics (site side)', () => {
  const splits: Split[] = [syntheticSplit(40, 1), syntheticSplit(25, 7), syntheticSplit(9, 3)];

  test('local [n, Σx, Σx²] of several sites add up to the pooled z-score statistics', () => {
    const sum = new Float64Array(7);
    for (const s of splits) localStatsVector(s).forEach((v, k) => (sum[k] = sum[k]! + v));
    expect(sum[0]).toBe(74);
    const got = standardizerFromSums(sum, 3);
    const want = fitStandardizer(splits);
    for (let j = 0; j < 3; j++) {
      expect(got.mean[j]).toBeCloseTo(want.mean[j]!, 8);
      expect(got.std[j]).toBeCloseTo(want.std[j]!, 6);
    }
    expect(() => standardizerFromSums([0, 0, 0, 0, 0, 0, 0], 3)).toThrow(TwinfedError);
    expect(() => standardizerFromSums([1, 2], 3)).toThrow(/need 7/);
  });

  test('three sites: waiting until the last masked contribution, then everyone gets the pooled statistics', async () => {
    const sites = ['site-a', 'site-b', 'site-c'].map(enrolled);
    const hub = new StatsHub(sites.map(member));
    const step = (i: number) =>
      federatedStandardizer({
        api: hub.as(sites[i]!.state.siteId),
        federationId: 'fed-1',
        enrollment: sites[i]!,
        train: splits[i]!,
        journal: journalOf(sites[i]!),
      });
    expect(await step(0)).toEqual({ state: 'waiting', contributed: 1, cohort: 3 });
    expect(await step(0)).toEqual({ state: 'waiting', contributed: 1, cohort: 3 }); // no second contribution
    expect(hub.masked.size).toBe(1);
    expect(await step(1)).toEqual({ state: 'waiting', contributed: 2, cohort: 3 });
    const last = await step(2);
    const first = await step(0);
    expect(last.state).toBe('ready');
    expect(first).toEqual(last);
    const want = fitStandardizer(concatSplits(splits));
    if (last.state !== 'ready') throw new Error('not ready');
    last.standardizer.mean.forEach((m, j) => expect(m).toBeCloseTo(want.mean[j]!, 4));
    last.standardizer.std.forEach((s, j) => expect(s).toBeCloseTo(want.std[j]!, 4));
  });

  test('a site outside the cohort only reads', async () => {
    const [a, b, c, late] = ['site-a', 'site-b', 'site-c', 'site-z'].map(enrolled);
    const hub = new StatsHub([member(a!), member(b!), member(c!)]);
    const lateStep = () =>
      federatedStandardizer({
        api: hub.as('site-z'),
        federationId: 'fed-1',
        enrollment: late!,
        train: splits[2]!,
        journal: journalOf(late!),
      });
    expect(await lateStep()).toEqual({ state: 'waiting', contributed: 0, cohort: 3 });
    for (const [i, s] of [a!, b!, c!].entries())
      await federatedStandardizer({
        api: hub.as(s.state.siteId),
        federationId: 'fed-1',
        enrollment: s,
        train: splits[i]!,
        journal: journalOf(s),
      });
    expect((await lateStep()).state).toBe('ready');
    expect(hub.masked.has('site-z')).toBe(false);
  });

  test("the cohort rule of secure aggregation: fewer than 3 sites, or than the plan's minSites, and the site sends nothing", async () => {
    const [a, b, c] = ['site-a', 'site-b', 'site-c'].map(enrolled);
    const refused = async (members: Enrollment[], minSites?: number) => {
      const hub = new StatsHub(members.map(member));
      const got = federatedStandardizer({
        api: hub.as('site-a'),
        federationId: 'fed-1',
        enrollment: a!,
        train: splits[0]!,
        journal: journalOf(a!),
        ...(minSites === undefined ? {} : { minSites }),
      });
      await expect(got).rejects.toMatchObject({ code: 'SECAGG_COHORT_TOO_SMALL' });
      expect(hub.masked.size).toBe(0);
    };
    await refused([a!]);
    await refused([a!, b!]); // a "sum" of two sites is the other site's numbers to each of them
    await refused([a!, b!, c!], 4); // the plan aggregates at least 4 sites
  });
});

/** The fake coordinator plus the secure-sum calls, with one peer site whose contribution can arrive later. */
class StatsCoordinator extends FakeCoordinator {
  hub: StatsHub | undefined;
  statsSession(federationId: string): Promise<StatsSession> {
    return this.hub!.statsSession(federationId);
  }
  contributeStats(opts: { federationId: string; contribution: StatsContribution }): Promise<StatsAck> {
    return this.hub!.as('site-a').contributeStats(opts);
  }
}

describe('SiteRunner with federated normalisation', () => {
  test('waits for the cohort, then trains and evaluates on data z-scored with the pooled statistics', async () => {
    const coordinator = new StatsCoordinator(
      testPlan({ data: { features: TEST_FEATURES, normalization: 'federated' } }),
    );
    const enrollment = testEnrollment(coordinator.identity, 'site-a');
    coordinator.trust(enrollment);
    const peer = testEnrollment(coordinator.identity, 'site-b');
    const peerTrain = syntheticSplit(30, 9);
    const third = testEnrollment(coordinator.identity, 'site-c');
    const thirdTrain = syntheticSplit(20, 4);
    coordinator.hub = new StatsHub([member(enrollment), member(peer), member(third)], 3, coordinator.identity);
    await federatedStandardizer({
      api: coordinator.hub.as('site-c'),
      federationId: 'fed-1',
      enrollment: third,
      train: thirdTrain,
      journal: journalOf(third),
    });
    const ops = fakeModelOps();
    const events: RunnerProgress[] = [];
    const dataset = syntheticDataset();
    const runner = new SiteRunner({
      federationId: coordinator.federationId,
      enrollment,
      api: coordinator,
      dataset,
      modelOps: ops,
      pollIntervalMs: 10,
      ...siteRecords(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-fedstats-'))),
      policy: APPROVE_EVERY_PLAN,
      onProgress: (e) => {
        events.push(e);
        // The peer contributes only after this site said it is waiting.
        if (e.type === 'stats' && e.state === 'waiting')
          void federatedStandardizer({
            api: coordinator.hub!.as('site-b'),
            federationId: 'fed-1',
            enrollment: peer,
            train: peerTrain,
            journal: journalOf(peer),
          });
      },
    });
    const summary = await runner.run();
    expect(summary.state).toBe('completed');
    const stats = events.filter((e) => e.type === 'stats');
    expect(stats).toEqual([
      { type: 'stats', state: 'waiting', contributed: 2, cohort: 3 },
      { type: 'stats', state: 'ready', cohort: 3 },
    ]);
    expect(events.findIndex((e) => e.type === 'training')).toBeGreaterThan(
      events.findIndex((e) => e.type === 'stats' && e.state === 'ready'),
    );
    // Training rows are z-scored with the pooled statistics of the three sites' train rows, not this site's own.
    const pooled = fitStandardizer(concatSplits([dataset.train, peerTrain, thirdTrain]));
    const row0 = ops.trainData[0]!.x.slice(0, 3);
    for (let j = 0; j < 3; j++)
      expect(row0[j]).toBeCloseTo((dataset.train.x[j]! - pooled.mean[j]!) / pooled.std[j]!, 3);
    expect(events.some((e) => e.type === 'warning')).toBe(false);
  });

  test('without the secure-sum calls the site falls back to per-site statistics and warns', async () => {
    const coordinator = new FakeCoordinator(
      testPlan({ data: { features: TEST_FEATURES, normalization: 'federated' } }),
    );
    const enrollment = testEnrollment(coordinator.identity, 'site-a');
    coordinator.trust(enrollment);
    const events: RunnerProgress[] = [];
    const runner = new SiteRunner({
      federationId: coordinator.federationId,
      enrollment,
      api: coordinator,
      dataset: syntheticDataset(),
      modelOps: fakeModelOps(),
      pollIntervalMs: 10,
      ...siteRecords(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-fedstats-'))),
      policy: APPROVE_EVERY_PLAN,
      onProgress: (e) => events.push(e),
    });
    expect((await runner.run()).state).toBe('completed');
    expect(events).toContainEqual({ type: 'warning', message: expect.stringMatching(/per-site statistics/) });
  });
});

/** The statistics secure sum against a lying coordinator (issue 16, findings 2 and 4). */
describe('federated normalisation statistics against a lying coordinator', () => {
  const journalDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-stats-journal-'));

  test('left out of `contributed` after its data changed, a site re-sends the very bytes it sent, never a re-masked new split', async () => {
    const sites = ['site-a', 'site-b', 'site-c'].map(enrolled);
    const hub = new StatsHub(sites.map(member));
    const dir = journalDir();
    const a = sites[0]!;
    await federatedStandardizer({
      api: hub.as('site-a'),
      federationId: 'fed-1',
      enrollment: a,
      train: syntheticSplit(40, 1),
      journal: Journal.open(dir),
    });
    const first = hub.masked.get('site-a')!;
    // The coordinator "loses" the contribution; the site restarted and one new patient arrived.
    hub.masked.delete('site-a');
    await federatedStandardizer({
      api: hub.as('site-a'),
      federationId: 'fed-1',
      enrollment: a,
      train: syntheticSplit(41, 1),
      journal: Journal.open(dir),
    });
    const second = hub.masked.get('site-a')!;
    // Two different vectors under the same masks would give the coordinator their difference: one patient's features.
    expect(toB64(second)).toBe(toB64(first));
  });

  test('a peer key the coordinator substituted after the site pinned the real one is refused; nothing is sent', async () => {
    const sites = ['site-a', 'site-b', 'site-c'].map(enrolled);
    const dir = journalDir();
    const a = sites[0]!;
    // First federation: the honest directory, pinned by site-a.
    await federatedStandardizer({
      api: new StatsHub(sites.map(member)).as('site-a'),
      federationId: 'fed-0',
      enrollment: a,
      train: splits0(),
      journal: Journal.open(dir),
    });
    // Second federation: the coordinator lists keys it holds the secrets of for site-b and site-c.
    const fakes = [generateIdentity(), generateIdentity()];
    const fakeMember = (siteId: string, identity: Identity): Member => ({
      siteId,
      boxPublicKey: identity.box.publicKey,
      signPublicKey: identity.sign.publicKey,
    });
    // Signed with the coordinator's own key: a lying coordinator vouches for its fakes.
    const lying = new StatsHub([member(a), fakeMember('site-b', fakes[0]!), fakeMember('site-c', fakes[1]!)]);
    const outcome = await federatedStandardizer({
      api: lying.as('site-a'),
      federationId: 'fed-1',
      enrollment: a,
      train: splits0(),
      journal: Journal.open(dir),
    }).then(
      () => null,
      (e: unknown) => e,
    );
    if (lying.masked.has('site-a')) {
      // With the two secrets the coordinator removes both pairwise masks: site-a's [n, Σx, Σx²] in clear.
      const masked = lying.masked.get('site-a')!;
      const unmasked = sumMaskedContributions(
        [masked, fakeContribution(fakes[0]!, 'site-b'), fakeContribution(fakes[1]!, 'site-c')],
        lying.length,
      );
      const got = decodeSecureSum(unmasked, { length: lying.length });
      expect(Array.from(got).some((x, k) => Math.abs(x - localStatsVector(splits0())[k]!) > 1e-3)).toBe(true);
    }
    expect(outcome).toMatchObject({ code: 'SECAGG_UNTRUSTED_KEY' });
    expect(lying.masked.has('site-a')).toBe(false);

    /** What the fake member's zero contribution would be: its own side of the pairwise masks. */
    function fakeContribution(identity: ReturnType<typeof generateIdentity>, siteId: string): Uint8Array {
      return maskContribution({
        values: new Float64Array(lying.length),
        siteId,
        boxSecretKey: identity.box.secretKey,
        cohort: [
          member(a),
          { siteId: 'site-b', boxPublicKey: fakes[0]!.box.publicKey },
          { siteId: 'site-c', boxPublicKey: fakes[1]!.box.publicKey },
        ],
        context: normalizationStatsContext('fed-1'),
      });
    }
  });
});

function splits0(): Split {
  return syntheticSplit(40, 1);
}
