import { expect, test } from '@jest/globals';
import type { PatientChange, TwinWrite } from '../store-types';
import { day, hr, patient, type HarnessRef } from './harness';

const ref = { hospitalId: 'MRN-1' };

export function recordContract(h: HarnessRef): void {
  test('stores observations idempotently by source id, updates a corrected one, and orders by time', async () => {
    await h.store.apply([patient('MRN-1')]);
    expect(await h.store.apply([hr('MRN-1', 'o2', day(2), 80), hr('MRN-1', 'o1', day(1), 70)])).toEqual([
      { status: 'inserted' },
      { status: 'inserted' },
    ]);
    expect(await h.store.apply([hr('MRN-1', 'o2', day(2), 80), hr('MRN-1', 'o1', day(1), 70)])).toEqual([
      { status: 'duplicate' },
      { status: 'duplicate' },
    ]);
    expect(await h.store.apply([hr('MRN-1', 'o2', day(2), 82)])).toEqual([{ status: 'updated' }]);
    const s = await h.again();
    const twin = await s.getTwin(s.pidFor('MRN-1'));
    expect(twin?.observations).toEqual([
      { code: '8867-4', t: day(1), value: 70, unit: '/min', source: 'fhir' },
      { code: '8867-4', t: day(2), value: 82, unit: '/min', source: 'fhir' },
    ]);
    expect((await s.counts()).observations).toBe(2);
  });

  test('keeps the same source id apart per record type and filters observations by time window', async () => {
    await h.store.apply([patient('MRN-1')]);
    const out = await h.store.apply([
      hr('MRN-1', 'x', day(1)),
      hr('MRN-1', 'y', day(5)),
      hr('MRN-1', 'z', day(9)),
      { type: 'label', patient: ref, sourceId: 'x', value: 1, t: day(1) },
    ]);
    expect(out.every((o) => o.status === 'inserted')).toBe(true);
    const s = await h.again();
    const twin = await s.getTwin(s.pidFor('MRN-1'), { from: day(2), to: day(9) });
    expect(twin?.observations.map((o) => o.t)).toEqual([day(5), day(9)]);
  });

  test('rejects records for unknown patients and malformed records, while the rest of the batch lands', async () => {
    const out = await h.store.apply([
      patient('MRN-1'),
      hr('MRN-1', 'ok', day(1)),
      hr('MRN-404', 'lost', day(1)),
      { ...hr('MRN-1', 'nan', day(1)), value: Number.NaN },
      { ...hr('MRN-1', 'frac', day(1)), t: 1.5 },
      { ...hr('MRN-1', '', day(1)) },
      {
        type: 'observation',
        patient: { alias: 'Patient/none' },
        sourceId: 'a',
        code: '8867-4',
        t: 1,
        value: 1,
        unit: '/min',
        source: 'csv',
      },
    ]);
    expect(out.map((o) => o.status)).toEqual([
      'inserted',
      'inserted',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(out[2]).toEqual({ status: 'rejected', reason: expect.stringContaining('not in the twin store') });
    expect(JSON.stringify(out)).not.toContain('MRN-404');
    expect((await (await h.again()).counts()).observations).toBe(1);
  });

  test('stores conditions, immunizations, exposures and the latest label', async () => {
    const writes: TwinWrite[] = [
      patient('MRN-1'),
      {
        type: 'condition',
        patient: ref,
        sourceId: 'c1',
        system: 'snomed',
        code: '44054006',
        onset: day(10),
        abatement: null,
      },
      { type: 'condition', patient: ref, sourceId: 'c2', system: 'icd10', code: 'I10', onset: null, abatement: day(3) },
      { type: 'immunization', patient: ref, sourceId: 'i1', cvx: '208', t: day(20) },
      { type: 'immunization', patient: ref, sourceId: 'i0', cvx: '141', t: day(2) },
      { type: 'exposure', patient: ref, sourceId: 'e1', kind: 'contact', t: day(30) },
      { type: 'label', patient: ref, sourceId: 'l2', value: 1, t: day(40) },
      { type: 'label', patient: ref, sourceId: 'l1', value: 0, t: day(35) },
    ];
    expect((await h.store.apply(writes)).every((o) => o.status === 'inserted')).toBe(true);
    const s = await h.again();
    const twin = await s.getTwin(s.pidFor('MRN-1'));
    expect(twin?.conditions).toEqual([
      { system: 'icd10', code: 'I10', onset: null, abatement: day(3) },
      { system: 'snomed', code: '44054006', onset: day(10), abatement: null },
    ]);
    expect(twin?.immunizations).toEqual([
      { cvx: '141', t: day(2) },
      { cvx: '208', t: day(20) },
    ]);
    expect(twin?.exposures).toEqual([{ kind: 'contact', t: day(30) }]);
    expect(twin?.label).toBe(1);
    // Resolving a condition (abatement set) is an update of the same record.
    expect(
      await s.apply([{ ...(writes[1] as Extract<TwinWrite, { type: 'condition' }>), abatement: day(50) }]),
    ).toEqual([{ status: 'updated' }]);
    expect((await s.counts()).conditions).toBe(2);
  });

  test('moves a record to another patient when its source now names that patient', async () => {
    await h.store.apply([patient('MRN-1'), patient('MRN-2'), hr('MRN-1', 'o1', day(1))]);
    expect(await h.store.apply([hr('MRN-2', 'o1', day(1))])).toEqual([{ status: 'updated' }]);
    const s = await h.again();
    expect((await s.getTwin(s.pidFor('MRN-1')))?.observations).toEqual([]);
    expect((await s.getTwin(s.pidFor('MRN-2')))?.observations).toHaveLength(1);
  });

  test('advances a change sequence per changed patient; duplicates change nothing', async () => {
    const start = await h.store.changedSince(0);
    expect(start).toEqual({ changes: [], seq: 0 });
    await h.store.apply([patient('MRN-1'), patient('MRN-2')]);
    const first = await h.store.changedSince(0);
    expect(first.changes.map((c) => c.pid).sort()).toEqual([h.store.pidFor('MRN-1'), h.store.pidFor('MRN-2')].sort());
    await h.store.apply([patient('MRN-1'), patient('MRN-2')]);
    expect((await h.store.changedSince(first.seq)).changes).toEqual([]);
    await h.store.apply([hr('MRN-2', 'o1', day(1))]);
    const s = await h.again();
    const next = await s.changedSince(first.seq);
    expect(next.changes).toEqual([{ pid: s.pidFor('MRN-2'), seq: next.seq }]);
    expect(next.seq).toBeGreaterThan(first.seq);
  });

  test('notifies change listeners after commit, isolates a throwing listener, and stops after unsubscribe', async () => {
    const seen: PatientChange[][] = [];
    const off = h.store.onChange((c) => void seen.push([...c]));
    h.store.onChange(() => {
      throw new Error('listener failure');
    });
    await h.store.apply([patient('MRN-1')]);
    await h.store.apply([patient('MRN-1')]);
    await h.store.apply([hr('MRN-1', 'o1', day(1))]);
    off();
    await h.store.apply([hr('MRN-1', 'o2', day(2))]);
    expect(seen).toHaveLength(2);
    expect(seen.map((c) => c.map((x) => x.pid))).toEqual([[h.store.pidFor('MRN-1')], [h.store.pidFor('MRN-1')]]);
    expect(seen[1]?.[0]?.seq).toBeGreaterThan(seen[0]?.[0]?.seq ?? Infinity);
    expect((await h.store.counts()).observations).toBe(2);
  });
}
