import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  SECURE_SUM_FRACTION_BITS,
  baselineFromSums,
  baselineGrid,
  baselineVector,
  decodeSecureSum,
  fromB64,
  generateIdentity,
  layoutOf,
  signSiteDirectoryEntry,
  sumMaskedContributions,
  toB64,
  type BaselineSession,
  type PlanInput,
  type StatsAck,
  type StatsContribution,
  PlanSchema,
} from '@twinfed/shared';
import { testEnrollment } from '../__tests__/fake-coordinator';
import type { Enrollment } from '../identity/load';
import type { SiteApi } from '../transport/coordinator-client';
import { BaselineStep } from './baseline-step';
import { Journal } from './journal';
import type { RunnerProgress } from './progress';

const coordinator = generateIdentity();
const plan = PlanSchema.parse({
  name: 'cox',
  model: { kind: 'cox', inputs: 2, horizonDays: 4 },
  data: { features: ['a', 'b'], label: 'event' },
  strategy: { name: 'fedavg' },
  training: { steps: 1, batchSize: 4 },
  rounds: 2,
  minSites: 3,
} satisfies PlanInput);
const grid = baselineGrid({ horizonDays: 4 });
const ROWS = [
  { time: [1, 3, 6], event: [1, 0, 1], eta: [0.1, -0.5, 0.3] },
  { time: [2, 2], event: [1, 1], eta: [0, 0.7] },
  { time: [4, 1, 5], event: [1, 0, 0], eta: [-0.2, 0.4, 0] },
];

/** The coordinator's side in memory: the cohort as signed directory entries, the masked vectors, their sum. */
class BaselineHub {
  readonly masked = new Map<string, Uint8Array>();
  pending = '';
  state: BaselineSession['state'] = 'collecting';
  constructor(readonly members: Enrollment[]) {}
  async baselineSession(federationId: string): Promise<BaselineSession> {
    const complete = this.members.every((m) => this.masked.has(m.state.siteId));
    return {
      federationId,
      versionId: 'fed-1.v2',
      state: this.state,
      grid,
      length: 2 * grid.length,
      fractionBits: SECURE_SUM_FRACTION_BITS,
      cohort: this.members.map((m) => {
        const entry = {
          siteId: m.state.siteId,
          boxPublicKey: toB64(m.identity.box.publicKey),
          signPublicKey: toB64(m.identity.sign.publicKey),
        };
        return { ...entry, directorySignature: signSiteDirectoryEntry(entry, coordinator.sign.secretKey) };
      }),
      contributed: [...this.masked.keys()],
      deadlineAt: '2030-01-01T00:00:00.000Z',
      baselineVersionId: null,
      sum: complete ? toB64(sumMaskedContributions([...this.masked.values()], 2 * grid.length)) : null,
    };
  }
  async contributeBaseline(o: { federationId: string; contribution: StatsContribution }): Promise<StatsAck> {
    this.masked.set(this.pending, fromB64(o.contribution.masked));
    return {
      federationId: o.federationId,
      siteId: this.pending,
      status: 'accepted',
      contributed: this.masked.size,
      cohort: 3,
    };
  }
  as(siteId: string): SiteApi {
    return {
      baselineSession: (f: string) => this.baselineSession(f),
      contributeBaseline: (o: { federationId: string; contribution: StatsContribution }) => (
        (this.pending = siteId),
        this.contributeBaseline(o)
      ),
    } as unknown as SiteApi;
  }
}

describe('the site step of the federated baseline', () => {
  const sites = ['site-a', 'site-b', 'site-c'].map((id) => testEnrollment(coordinator, id));
  const journals = sites.map(() => Journal.open(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-baseline-site-'))));
  const weights = { layout: layoutOf(plan.model), data: new Float32Array(3) };
  let scored = 0;
  const run = (hub: BaselineHub, i: number, events: RunnerProgress[] = []) =>
    new BaselineStep((e) => events.push(e)).run({
      api: hub.as(sites[i]!.state.siteId),
      federationId: 'fed-1',
      enrollment: sites[i]!,
      journal: journals[i]!,
      plan,
      weightsOf: async (versionId) => {
        expect(versionId).toBe('fed-1.v2');
        return weights;
      },
      riskScores: async () => (scored++, ROWS[i]!),
      signal: new AbortController().signal,
    });

  test('each site posts its masked vector once; the sum is the pooled grid vector, and no single one is readable', async () => {
    const hub = new BaselineHub(sites);
    const events: RunnerProgress[] = [];
    await run(hub, 0, events);
    expect(events).toEqual([{ type: 'baseline', state: 'collecting', contributed: 1, cohort: 3 }]);
    const alone = decodeSecureSum(hub.masked.get('site-a')!, { length: 2 * grid.length });
    const own = baselineVector(ROWS[0]!, grid);
    expect(Array.from(alone).some((v, k) => Math.abs(v - own[k]!) > 1)).toBe(true); // masked
    await run(hub, 1);
    await run(hub, 2);
    const session = await hub.baselineSession('fed-1');
    const sum = decodeSecureSum(fromB64(session.sum!), { length: session.length });
    const pooled = ROWS.map((r) => baselineVector(r, grid)).reduce((acc, v) => acc.map((x, k) => x + v[k]!));
    sum.forEach((v, k) => expect(v).toBeCloseTo(pooled[k]!, 5));
    expect(baselineFromSums(sum, grid).cumulativeHazard.at(-1)).toBeGreaterThan(0);
  });

  test('after a lost answer the site re-sends the very bytes it recorded, without computing anew', async () => {
    const hub = new BaselineHub(sites);
    const before = scored;
    await run(hub, 0); // journalled in the first test: the same bytes, no new risk scores
    expect(scored).toBe(before);
    const first = hub.masked.get('site-a')!;
    hub.masked.clear();
    await run(hub, 0);
    expect(Buffer.from(hub.masked.get('site-a')!).equals(Buffer.from(first))).toBe(true);
  });

  test('a site outside the cohort, or a phase that is over, sends nothing', async () => {
    const outside = new BaselineHub([sites[1]!, sites[2]!, testEnrollment(coordinator, 'site-x')]);
    await run(outside, 0);
    expect(outside.masked.size).toBe(0);
    const failed = new BaselineHub(sites);
    failed.state = 'failed';
    const events: RunnerProgress[] = [];
    await run(failed, 0, events);
    expect(failed.masked.size).toBe(0);
    expect(events).toEqual([{ type: 'baseline', state: 'failed', contributed: 0, cohort: 3 }]);
  });
});
