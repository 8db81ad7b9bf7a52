import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  SECURE_SUM_FRACTION_BITS,
  TwinfedError,
  decodeSecureSum,
  fromB64,
  generateIdentity,
  maskContribution,
  cohortPoolContext,
  signSiteDirectoryEntry,
  sumMaskedContributions,
  toB64,
  type CohortAnswer,
  type CohortPoolAck,
  type CohortPoolView,
  type Identity,
} from '@twinfed/shared';
import { testEnrollment } from '../__tests__/fake-coordinator';
import { SiteAuditLog } from '../audit/site-audit';
import type { Enrollment } from '../identity/load';
import { CohortOutbox, answerDigest, sendCohortAnswer } from './outbox';
import { sendCohortPool, type CohortPoolApi, type PinnedPeers } from './pool';

const coordinator = generateIdentity();
const QID = 'cq-1';
const VALUES = [20, 500.5, 12600.25, 0, 0, 0];
const table: CohortAnswer = {
  kind: 'table',
  table: { k: 10, epsilon: null, cells: [{ levels: [], count: 20 }], total: 20, suppressedCells: 0 },
};

function entry(siteId: string, id: Identity, signer = coordinator) {
  const e = { siteId, boxPublicKey: toB64(id.box.publicKey), signPublicKey: toB64(id.sign.publicKey) };
  return { ...e, directorySignature: signSiteDirectoryEntry(e, signer.sign.secretKey) };
}

/** A coordinator's pool: a cohort of this site and peers, storing masked bytes once per site like the real one. */
class PoolHub implements CohortPoolApi {
  readonly masked = new Map<string, string>();
  posts = 0;
  state: CohortPoolView['state'] = 'open';
  constructor(
    public cohort: ReturnType<typeof entry>[],
    private readonly me: string,
    public length = VALUES.length,
  ) {}
  async cohortPool(queryId: string): Promise<CohortPoolView> {
    return {
      queryId,
      state: this.state,
      length: this.length,
      fractionBits: SECURE_SUM_FRACTION_BITS,
      cohort: this.state === 'waiting' ? [] : this.cohort,
      contributed: [...this.masked.keys()],
      code: this.state === 'failed' ? 'COHORT_TOO_SMALL' : null,
      result: null,
    };
  }
  async contributeCohortPool(queryId: string, c: { masked: string }): Promise<CohortPoolAck> {
    this.posts++;
    const before = this.masked.get(this.me);
    if (before !== undefined && before !== c.masked) throw new TwinfedError('ALREADY_EXISTS');
    this.masked.set(this.me, c.masked);
    return {
      queryId,
      siteId: this.me,
      status: before ? 'duplicate' : 'accepted',
      contributed: this.masked.size,
      cohort: this.cohort.length,
      state: 'open',
    };
  }
}

const noPins: PinnedPeers = { peer: () => undefined };

describe('secure pool at the site: masked from the values kept at answer time, recorded, sent once, audited', () => {
  let dir: string;
  let enrollment: Enrollment;
  let peers: Array<{ siteId: string; id: Identity }>;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-cohort-pool-'));
    enrollment = testEnrollment(coordinator, 'site-a');
    peers = ['site-b', 'site-c'].map((siteId) => ({ siteId, id: generateIdentity() }));
    await sendCohortAnswer({
      outbox: CohortOutbox.open(dir),
      api: { answerCohortQuery: async (_q, a) => ({ status: 'accepted', digest: answerDigest(a) }) },
      audit: new SiteAuditLog(dir, () => 'site:site-a'),
      queryId: QID,
      answer: table,
      poolValues: VALUES,
      now: () => '2026-01-01T00:00:00.000Z',
    });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cohort = () => [entry('site-a', enrollment.identity), ...peers.map((p) => entry(p.siteId, p.id))];
  const step = (hub: CohortPoolApi, pins: PinnedPeers = noPins) =>
    sendCohortPool({
      outbox: CohortOutbox.open(dir),
      api: hub,
      audit: new SiteAuditLog(dir, () => 'site:site-a'),
      enrollment,
      pins,
      queryId: QID,
      now: () => '2026-01-01T00:01:00.000Z',
    });
  const pooledEntries = () =>
    new SiteAuditLog(dir, () => 'site:site-a').list().filter((e) => e.action === 'cohort.pooled');

  test('the masked vector sums with the peers’ to the site’s values; a retry re-sends the recorded bytes and audits once', async () => {
    const hub = new PoolHub(cohort(), 'site-a');
    const first = await step(hub);
    expect(first).toMatchObject({ state: 'sent', status: 'accepted', contributed: 1, cohort: 3 });
    const mine = hub.masked.get('site-a')!;
    expect(fromB64(mine)).not.toEqual(new Uint8Array(VALUES.length * 8));
    // The peers (with zero values) mask for the same cohort: the sum is this site's values.
    const all = [fromB64(mine)];
    for (const p of peers)
      all.push(
        maskContribution({
          values: new Array(VALUES.length).fill(0),
          siteId: p.siteId,
          boxSecretKey: p.id.box.secretKey,
          cohort: [
            { siteId: 'site-a', boxPublicKey: enrollment.identity.box.publicKey },
            ...peers.map((q) => ({ siteId: q.siteId, boxPublicKey: q.id.box.publicKey })),
          ],
          context: cohortPoolContext(QID),
        }),
      );
    const sum = decodeSecureSum(sumMaskedContributions(all, VALUES.length), { length: VALUES.length });
    expect([...sum]).toEqual(VALUES);

    hub.masked.delete('site-a'); // the coordinator lost it (or the ack): the site sends the very same bytes
    const outbox = CohortOutbox.open(dir);
    expect(outbox.get(QID)!.pool).toMatchObject({ masked: mine, cohort: ['site-a', 'site-b', 'site-c'] });
    expect(await step(hub)).toMatchObject({ state: 'sent', status: 'accepted' });
    expect(hub.masked.get('site-a')).toBe(mine);
    expect(await step(hub)).toMatchObject({ state: 'contributed' });
    expect(pooledEntries().map((e) => [e.subject, e.detail])).toEqual([
      [QID, { digest: expect.stringMatching(/^[0-9a-f]{64}$/), cohort: 3 }],
    ]);
    expect(outbox.unpooled()).toEqual([]);
  });

  test('waiting, failed and not-member pools send nothing', async () => {
    const hub = new PoolHub(cohort(), 'site-a');
    hub.state = 'waiting';
    expect(await step(hub)).toEqual({ state: 'waiting' });
    hub.state = 'failed';
    expect(await step(hub)).toEqual({ state: 'failed', code: 'COHORT_TOO_SMALL' });
    hub.state = 'open';
    hub.cohort = hub.cohort.slice(1);
    expect(await step(hub)).toEqual({ state: 'not-member' });
    expect(hub.posts).toBe(0);
    expect(
      CohortOutbox.open(dir)
        .unpooled()
        .map((e) => e.queryId),
    ).toEqual([QID]);
  });

  test('a lying coordinator: a cohort of two, unsigned or re-keyed peers, another length or another cohort later are refused', async () => {
    const two = new PoolHub(cohort().slice(0, 2), 'site-a');
    await expect(step(two)).rejects.toMatchObject({ code: 'COHORT_TOO_SMALL' });
    const forged = new PoolHub([...cohort().slice(0, 2), entry('site-c', peers[1]!.id, generateIdentity())], 'site-a');
    await expect(step(forged)).rejects.toMatchObject({ code: 'SECAGG_UNTRUSTED_KEY' });
    const pinned: PinnedPeers = {
      peer: (id) =>
        id === 'site-b'
          ? { signPublicKey: toB64(generateIdentity().sign.publicKey), boxPublicKey: 'x', pinnedAt: 'then' }
          : undefined,
    };
    await expect(step(new PoolHub(cohort(), 'site-a'), pinned)).rejects.toMatchObject({ code: 'SECAGG_UNTRUSTED_KEY' });
    await expect(step(new PoolHub(cohort(), 'site-a', 9))).rejects.toMatchObject({ code: 'COHORT_POOL_BAD_LENGTH' });
    expect(CohortOutbox.open(dir).get(QID)!.pool!.masked).toBeNull();

    // Masked for one cohort, then shown another: never masked again.
    const hub = new PoolHub(cohort(), 'site-a');
    hub.contributeCohortPool = async () => {
      throw new TwinfedError('NETWORK');
    };
    await expect(step(hub)).rejects.toMatchObject({ code: 'NETWORK' });
    const other = new PoolHub([...cohort(), entry('site-d', generateIdentity())], 'site-a');
    await expect(step(other)).rejects.toMatchObject({ code: 'SECAGG_INCONSISTENT' });
    expect(other.posts).toBe(0);
    expect(pooledEntries()).toEqual([]);
  });
});
