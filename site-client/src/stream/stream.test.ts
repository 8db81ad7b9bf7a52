import { DAY_MS, initialWeights, TwinfedError } from '@twinfed/shared';
import { deriveFeatures } from '../features/derive';
import { RHR, T_AT, lrWeights, mrn, scoringModel, seedTwins, twinTestPlan } from '../__tests__/twin-site';
import { MemoryTwinStore } from '../twins/memory-store';
import type { TwinStore, TwinWrite, WriteOutcome } from '../twins/store-types';
import { ingestStream } from './ingest';
import { IngestQueue } from './ingest-queue';
import { LiveScorer } from './live-scorer';
import { MAX_STREAM_BATCH, streamItems } from './observations';

const secret = new Uint8Array(32).fill(3);
const iso = (t: number) => new Date(t).toISOString();
const sample = (id: string, value: number, daysBefore = 1) => ({
  id,
  t: iso(T_AT - daysBefore * DAY_MS),
  code: RHR,
  value,
  unit: '/min',
});

describe('stream items', () => {
  test('turns a wearable batch into observation writes keyed by device and sample id, refusing bad samples by index', () => {
    const items = streamItems({
      deviceId: 'w-1',
      patientRef: 'Patient/p0',
      samples: [
        sample('a', 80),
        { id: 'b', t: 'yesterday', code: RHR, value: 1 },
        { ...sample('c', 98.6), code: '8310-5', unit: '[degF]' },
        { id: 'd' },
      ],
    });
    expect(items[0]).toEqual({
      index: 0,
      write: expect.objectContaining({
        type: 'observation',
        sourceId: 'stream:w-1:a',
        patient: { alias: 'Patient/p0' },
        value: 80,
        unit: '/min',
        source: 'stream',
      }),
    });
    expect(items[1]).toEqual({ index: 1, reason: 't: not an ISO 8601 instant with a zone' });
    expect(items[2]).toMatchObject({ index: 2, write: { code: '8310-5', unit: 'Cel' } });
    expect((items[2] as { write: { value: number } }).write.value).toBeCloseTo(37, 5);
    expect(items[3]).toMatchObject({ index: 3, reason: expect.stringContaining('t:') });
  });

  test('accepts a pseudonymous id as patientRef but not a hospital id', () => {
    const pid = 'a'.repeat(64);
    expect(streamItems({ deviceId: 'w', patientRef: pid, samples: [sample('a', 70)] })[0]).toMatchObject({
      write: { patient: { pid } },
    });
    expect(() => streamItems({ deviceId: 'w', patientRef: 'MRN-00042', samples: [sample('a', 70)] })).toThrow(
      /patientRef must be a FHIR reference/,
    );
  });

  test('refuses bodies that are neither form, and batches over the limit', () => {
    expect(() => streamItems([1, 2])).toThrow(TwinfedError);
    expect(() => streamItems({ resourceType: 'Patient' })).toThrow(
      /FHIR Observation, a Bundle of Observations, or a wearable batch/,
    );
    const big = {
      deviceId: 'w',
      patientRef: 'Patient/p0',
      samples: Array.from({ length: MAX_STREAM_BATCH + 1 }, (_, i) => sample(`s${i}`, 70)),
    };
    expect(() => streamItems(big)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
  });

  test('takes FHIR Observations (a panel gives two writes with one index) and refuses other resources in a Bundle', () => {
    const obs = (id: string, extra: Record<string, unknown>) => ({
      resourceType: 'Observation',
      id,
      status: 'final',
      subject: { reference: 'Patient/p0' },
      effectiveDateTime: iso(T_AT - DAY_MS),
      ...extra,
    });
    const bp = obs('bp', {
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      component: [
        {
          code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
          valueQuantity: { value: 120, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
        },
        {
          code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
          valueQuantity: { value: 80, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
        },
      ],
    });
    const items = streamItems({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'Patient', id: 'x' } }, { resource: bp }],
    });
    expect(items.filter((i) => i.index === 1 && 'write' in i)).toHaveLength(2);
    expect(items[0]).toEqual({ index: 0, reason: 'only Observation resources are accepted here' });
  });
});

describe('ingestStream and the ingest queue', () => {
  test('counts accepted, duplicate (same sample id) and rejected items', async () => {
    const store = new MemoryTwinStore({ secret });
    await seedTwins(store, 2);
    const queue = new IngestQueue({ store });
    const body = {
      deviceId: 'w-1',
      patientRef: 'Patient/p1',
      samples: [sample('a', 90), sample('b', 91), { id: 'c', t: iso(T_AT), code: RHR, value: 80, unit: 'kg' }],
    };
    expect(await ingestStream(queue, body)).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [{ index: 2, reason: expect.stringContaining('kg') }],
    });
    expect(await ingestStream(queue, body)).toEqual({
      accepted: 0,
      duplicates: 2,
      rejected: [{ index: 2, reason: expect.any(String) }],
    });
    const unknown = await ingestStream(queue, { ...body, patientRef: 'Patient/nobody', samples: [sample('z', 70)] });
    expect(unknown).toEqual({
      accepted: 0,
      duplicates: 0,
      rejected: [{ index: 0, reason: expect.stringContaining('not in the twin store') }],
    });
    expect(
      (await store.getTwin(store.pidFor(mrn(1))))!.observations
        .filter((o) => o.source === 'stream')
        .map((o) => o.value),
    ).toEqual([90, 91]);
  });

  test('applies what queued up meanwhile in one transaction and refuses work beyond capacity with OVERLOADED', async () => {
    const inner = new MemoryTwinStore({ secret });
    await seedTwins(inner, 1);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const calls: number[] = [];
    const store: TwinStore = Object.assign(Object.create(inner) as TwinStore, {
      apply: async (writes: readonly TwinWrite[]): Promise<WriteOutcome[]> => {
        calls.push(writes.length);
        await gate;
        return inner.apply(writes);
      },
    });
    const queue = new IngestQueue({ store, capacity: 10, maxTransaction: 100 });
    const writes = (from: number, n: number) =>
      streamItems({
        deviceId: 'w',
        patientRef: 'Patient/p0',
        samples: Array.from({ length: n }, (_, i) => sample(`s${from + i}`, 70)),
      }).map((i) => (i as { write: TwinWrite }).write);
    const first = queue.submit(writes(0, 4));
    const second = queue.submit(writes(4, 3));
    const third = queue.submit(writes(7, 3));
    expect(queue.depth).toBe(10);
    await expect(queue.submit(writes(10, 1))).rejects.toMatchObject({ code: 'OVERLOADED' });
    release();
    expect((await first).every((o) => o.status === 'inserted')).toBe(true);
    await Promise.all([second, third]);
    expect(calls).toEqual([4, 6]); // the first alone, then the two that waited, together
    expect(queue.depth).toBe(0);
    expect((await queue.submit(writes(10, 1)))[0]!.status).toBe('inserted');
  });
});

describe('LiveScorer', () => {
  const plan = twinTestPlan();
  const weights = lrWeights(plan, [0, 0.1], -8);

  test('rescores exactly the changed twins soon after a change, and a new model rescores everyone', async () => {
    const store = new MemoryTwinStore({ secret });
    const [p0, p1] = await seedTwins(store, 2);
    const scorer = new LiveScorer({ store, debounceMs: 5 });
    scorer.start();
    await scorer.setModel(scoringModel(plan, weights));
    const before0 = scorer.get(p0!)!;
    const before1 = scorer.get(p1!)!;
    expect(before0.score).toBeCloseTo(1 / (1 + Math.exp(-(0.1 * 60 - 8))), 5);
    await store.apply([
      {
        type: 'observation',
        patient: { pid: p0! },
        sourceId: 'stream:w:x',
        code: RHR,
        t: T_AT - DAY_MS,
        value: 140,
        unit: '/min',
        source: 'stream',
      },
    ]);
    expect(scorer.isPending(p0!)).toBe(true);
    const t0 = Date.now();
    while (scorer.get(p0!) === before0 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 5));
    const twin = (await store.getTwin(p0!))!;
    const rhr = deriveFeatures({ twin, derivations: plan.data.derive!, at: T_AT }).values[1]!;
    expect(rhr).toBe(100); // mean of 60 and 140
    expect(scorer.get(p0!)!.score).toBeCloseTo(1 / (1 + Math.exp(-(0.1 * 100 - 8))), 5);
    expect(scorer.get(p1!)).toBe(before1); // untouched
    await scorer.setModel(scoringModel(plan, lrWeights(plan, [0, 0.1], -9), 'v2', 2));
    expect(scorer.top(5).map((s) => s.versionId)).toEqual(['v2', 'v2']);
    await scorer.setModel(scoringModel(plan, weights, 'v1', 1)); // an older round is ignored
    expect(scorer.current()!.meta.versionId).toBe('v2');
    scorer.close();
  });

  test('explains an MLP with Shapley values against a sample of the whole store, not of the twins rescored', async () => {
    const mlpPlan = twinTestPlan({ model: { kind: 'mlp', inputs: 2, hidden: [4], activation: 'tanh' } });
    const store = new MemoryTwinStore({ secret });
    const pids = await seedTwins(store, 6);
    const scorer = new LiveScorer({ store, debounceMs: 1, top: 2 });
    scorer.start();
    await scorer.setModel(scoringModel(mlpPlan, initialWeights(mlpPlan.model, 4)));
    const logit = (p: number) => Math.log(p / (1 - p));
    // Six twins: the background is all of them, so the base is their mean log-odds.
    const base = pids.reduce((acc, pid) => acc + logit(scorer.get(pid)!.score), 0) / pids.length;
    const additive = (pid: string) => {
      const s = scorer.get(pid)!;
      expect(s.explainedBy).toBe('shapley');
      expect(s.contributions.reduce((acc, c) => acc + c.contribution, 0) + base).toBeCloseTo(logit(s.score), 4);
    };
    pids.forEach(additive);
    const before = scorer.get(pids[0]!)!;
    await store.apply([
      {
        type: 'observation',
        patient: { pid: pids[0]! },
        sourceId: 'stream:w:mlp',
        code: RHR,
        t: T_AT - DAY_MS,
        value: 150,
        unit: '/min',
        source: 'stream',
      },
    ]);
    await scorer.settle();
    expect(scorer.get(pids[0]!)).not.toBe(before);
    additive(pids[0]!); // one twin rescored alone, still against the store's background
    scorer.close();
  });

  test('drops the score of a twin whose scoring consent is withdrawn', async () => {
    const store = new MemoryTwinStore({ secret });
    const [p0] = await seedTwins(store, 2);
    const scorer = new LiveScorer({ store, debounceMs: 1 });
    scorer.start();
    await scorer.setModel(scoringModel(plan, weights));
    expect(scorer.get(p0!)).toBeDefined();
    await store.apply([
      { type: 'consent', patient: { pid: p0! }, sourceId: 'c:0:s:deny', purpose: 'scoring', decision: 'deny', t: T_AT },
    ]);
    await scorer.settle();
    expect(scorer.get(p0!)).toBeUndefined();
    expect(scorer.status()).toEqual({ versionId: 'v1', scored: 1, pending: 0 });
    scorer.close();
  });
});
