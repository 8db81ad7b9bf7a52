import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { modelOutputs, type Split } from '@twinfed/models';
import {
  SECURE_SUM_FRACTION_BITS,
  decodeSecureSum,
  fromB64,
  generateIdentity,
  initialWeights,
  layoutOf,
  logitHistogram,
  recalibrationStatsLength,
  signSiteDirectoryEntry,
  sumMaskedContributions,
  toB64,
  type RecalibrationSession,
  type StatsAck,
  type StatsContribution,
} from '@twinfed/shared';
import { testEnrollment, testPlan } from '../__tests__/fake-coordinator';
import { syntheticSplit } from '../__tests__/fixtures';
import type { Enrollment } from '../identity/load';
import type { SiteApi } from '../transport/coordinator-client';
import type { FederationSession } from './federation-session';
import { Journal } from './journal';
import type { RunnerProgress } from './progress';
import { RecalibrationStep } from './recalibration-step';
import type { RoundWorker } from './round-worker';

const coordinator = generateIdentity();
const plan = testPlan({ rounds: 1, recalibration: { method: 'platt' } });
const weights = { layout: layoutOf(plan.model), data: initialWeights(plan.model, 3).data.map((_, i) => 0.3 * (i - 1)) };

/** The coordinator's side in memory: a cohort of three, masked bytes by site, their sum once all are in. */
class Hub {
  readonly masked = new Map<string, string>();
  readonly received: Array<{ siteId: string; masked: string }> = [];
  state: RecalibrationSession['state'] = 'open';
  constructor(readonly sites: Enrollment[]) {}
  session(): RecalibrationSession {
    return {
      federationId: 'fed-1',
      method: 'platt',
      state: this.state,
      baseVersionId: 'fed-1.v1',
      deadlineAt: new Date(Date.now() + 60_000).toISOString(),
      length: recalibrationStatsLength(),
      fractionBits: SECURE_SUM_FRACTION_BITS,
      cohort: this.sites.map((s) => {
        const entry = {
          siteId: s.state.siteId,
          boxPublicKey: toB64(s.identity.box.publicKey),
          signPublicKey: toB64(s.identity.sign.publicKey),
        };
        return { ...entry, directorySignature: signSiteDirectoryEntry(entry, coordinator.sign.secretKey) };
      }),
      contributed: [...this.masked.keys()].sort(),
      versionId: this.state === 'fitted' ? 'fed-1.v1.recalibrated' : null,
      params: null,
      reason: this.state === 'expired' ? '1 of 3 sites sent their histograms by the deadline' : null,
    };
  }
  /** The API as `siteId` sees it; `forget` makes the hub answer as if this site had not contributed yet. */
  api(siteId: string): SiteApi {
    return {
      recalibrationSession: async () => this.session(),
      contributeRecalibration: async (o: { contribution: StatsContribution }): Promise<StatsAck> => {
        this.received.push({ siteId, masked: o.contribution.masked });
        this.masked.set(siteId, o.contribution.masked);
        return { federationId: 'fed-1', siteId, status: 'accepted', contributed: this.masked.size, cohort: 3 };
      },
    } as unknown as SiteApi;
  }
}

describe('the site’s recalibration step', () => {
  let dir: string;
  const events: RunnerProgress[] = [];
  const sites = ['site-a', 'site-b', 'site-c'].map((id) => testEnrollment(coordinator, id));
  const tests = sites.map((_, i) => syntheticSplit(60, 10 + i));
  const journals: Journal[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-recal-step-'));
    journals.splice(0, journals.length, ...sites.map((_, i) => Journal.open(fs.mkdtempSync(path.join(dir, `${i}-`)))));
    events.length = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (hub: Hub, i: number, test: Split = tests[i]!, p = plan) =>
    new RecalibrationStep((e) => events.push(e)).run({
      api: hub.api(sites[i]!.state.siteId),
      federationId: 'fed-1',
      enrollment: sites[i]!,
      journal: journals[i]!,
      plan: p,
      session: { dataset: { test } } as unknown as FederationSession,
      worker: { verifiedModel: async () => ({ weights }) } as unknown as RoundWorker,
      signal: new AbortController().signal,
    });

  test("three sites' masked histograms add up to the pooled histogram of their held-out log-odds", async () => {
    const hub = new Hub(sites);
    for (const i of [0, 1, 2]) expect(await run(hub, i)).toEqual({ settled: false });
    const sum = decodeSecureSum(
      sumMaskedContributions(
        [...hub.masked.values()].map((m) => fromB64(m)),
        recalibrationStatsLength(),
      ),
      { length: recalibrationStatsLength() },
    );
    const z: number[] = [];
    const y: number[] = [];
    for (const t of tests) {
      z.push(...(await modelOutputs({ spec: plan.model, weights, x: t.x, n: t.n })));
      y.push(...t.y);
    }
    const pooled = logitHistogram(z, y);
    expect(pooled.reduce((a, v, k) => a + (k % 2 === 0 ? v : 0), 0)).toBe(180); // every row counted once
    pooled.forEach((v, k) => expect(sum[k]).toBeCloseTo(v, 4));
    expect(events.at(-1)).toEqual({ type: 'recalibration', state: 'open', contributed: 3, cohort: 3 });
  });

  test('asked again (a restart, a lost answer), a site re-sends the bytes it recorded, never a new masking', async () => {
    const hub = new Hub(sites);
    await run(hub, 0);
    const first = hub.received[0]!.masked;
    expect(journals[0]!.recalibrationContribution('fed-1')).toBe(first);
    hub.masked.clear(); // the coordinator says it has nothing from this site
    await run(hub, 0, syntheticSplit(60, 99)); // and the site's data changed meanwhile
    expect(hub.received.map((r) => r.masked)).toEqual([first, first]);
  });

  test('settles when the recalibrated version is out, or the recalibration expired; plans without it settle at once', async () => {
    const hub = new Hub(sites);
    hub.masked.set('site-a', 'AAAA');
    expect(await run(hub, 0)).toEqual({ settled: false }); // contributed, waiting for the others
    hub.state = 'fitted';
    expect(await run(hub, 0)).toEqual({ settled: true, versionId: 'fed-1.v1.recalibrated' });
    hub.state = 'expired';
    expect(await run(hub, 1)).toEqual({ settled: true, versionId: null });
    expect(hub.received).toEqual([]); // an expired recalibration takes nothing
    expect(events.at(-1)).toMatchObject({
      type: 'recalibration',
      state: 'expired',
      reason: expect.stringContaining('1 of 3'),
    });
    expect(await run(hub, 2, tests[2], testPlan({ rounds: 1 }))).toEqual({ settled: true, versionId: null });
  });
});
