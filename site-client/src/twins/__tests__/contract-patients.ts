import { createHmac } from 'node:crypto';
import { expect, test } from '@jest/globals';
import { hr, patient, SECRET, type HarnessRef } from './harness';

export function patientContract(h: HarnessRef): void {
  test('derives the pid as HMAC-SHA256 of the hospital id keyed with the site secret', () => {
    const expected = createHmac('sha256', SECRET).update('MRN-1').digest('hex');
    expect(h.store.pidFor('MRN-1')).toBe(expected);
    expect(h.store.pidFor('MRN-2')).not.toBe(expected);
  });

  test('creates a patient, keeps demographics, and treats the same write again as a duplicate', async () => {
    expect(await h.store.apply([patient('MRN-1')])).toEqual([{ status: 'inserted' }]);
    expect(await h.store.apply([patient('MRN-1')])).toEqual([{ status: 'duplicate' }]);
    const s = await h.again();
    const twin = await s.getTwin(s.pidFor('MRN-1'));
    expect(twin).toEqual({
      pid: s.pidFor('MRN-1'),
      birthDate: '1950-03-04',
      sex: 'female',
      observations: [],
      conditions: [],
      immunizations: [],
      exposures: [],
      consent: [],
      label: null,
    });
    expect(await s.getTwin(s.pidFor('nobody'))).toBeNull();
  });

  test('updates changed demographics; undefined fields keep the stored value, null clears', async () => {
    await h.store.apply([patient('MRN-1')]);
    expect(await h.store.apply([{ type: 'patient', hospitalId: 'MRN-1', sex: 'male' }])).toEqual([
      { status: 'updated' },
    ]);
    let twin = await (await h.again()).getTwin(h.store.pidFor('MRN-1'));
    expect([twin?.birthDate, twin?.sex]).toEqual(['1950-03-04', 'male']);
    await h.store.apply([{ type: 'patient', hospitalId: 'MRN-1', birthDate: null }]);
    twin = await (await h.again()).getTwin(h.store.pidFor('MRN-1'));
    expect([twin?.birthDate, twin?.sex]).toEqual([null, 'male']);
    const fresh = await h.store.apply([{ type: 'patient', hospitalId: 'MRN-2' }]);
    expect(fresh).toEqual([{ status: 'inserted' }]);
    const t2 = await h.store.getTwin(h.store.pidFor('MRN-2'));
    expect([t2?.birthDate, t2?.sex]).toEqual([null, 'unknown']);
  });

  test('resolves patients by hospital id, alias and pid; unknown references resolve to null', async () => {
    await h.store.apply([patient('MRN-1', { aliases: ['Patient/p1', 'urn:uuid:1111'] })]);
    const s = await h.again();
    const pid = s.pidFor('MRN-1');
    expect(await s.resolvePatient({ hospitalId: 'MRN-1' })).toBe(pid);
    expect(await s.resolvePatient({ alias: 'Patient/p1' })).toBe(pid);
    expect(await s.resolvePatient({ alias: 'urn:uuid:1111' })).toBe(pid);
    expect(await s.resolvePatient({ pid })).toBe(pid);
    expect(await s.resolvePatient({ alias: 'Patient/p2' })).toBeNull();
    expect(await s.resolvePatient({ hospitalId: 'MRN-2' })).toBeNull();
    expect(await s.resolvePatient({ pid: 'f'.repeat(64) })).toBeNull();
    // Hospital ids and aliases are separate namespaces.
    expect(await s.resolvePatient({ alias: 'MRN-1' })).toBeNull();
  });

  test('adds new aliases as an update and refuses an alias that names another patient', async () => {
    await h.store.apply([patient('MRN-1', { aliases: ['Patient/p1'] }), patient('MRN-2', { aliases: ['Patient/p2'] })]);
    expect(await h.store.apply([patient('MRN-1', { aliases: ['Patient/p1', 'Patient/p1-old'] })])).toEqual([
      { status: 'updated' },
    ]);
    const [clash] = await h.store.apply([patient('MRN-1', { aliases: ['Patient/p2'] })]);
    expect(clash).toEqual({ status: 'rejected', reason: expect.stringContaining('another patient') });
    const s = await h.again();
    expect(await s.resolvePatient({ alias: 'Patient/p1-old' })).toBe(s.pidFor('MRN-1'));
    expect(await s.resolvePatient({ alias: 'Patient/p2' })).toBe(s.pidFor('MRN-2'));
  });

  test('rejects malformed patient writes with a reason that does not echo the id', async () => {
    const out = await h.store.apply([
      { type: 'patient', hospitalId: '' },
      { type: 'patient', hospitalId: 'MRN-9', birthDate: '04/03/1950' },
      { type: 'patient', hospitalId: 'MRN-9', sex: 'F' as never },
    ]);
    expect(out.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const o of out) expect(JSON.stringify(o)).not.toContain('MRN-9');
    expect((await h.store.counts()).patients).toBe(0);
  });

  test('lists pids sorted and counts rows', async () => {
    await h.store.apply([patient('b'), patient('a'), patient('c'), hr('a', 'o1', 1000)]);
    const s = await h.again();
    expect(await s.listPids()).toEqual([s.pidFor('a'), s.pidFor('b'), s.pidFor('c')].sort());
    expect(await s.counts()).toEqual({
      patients: 3,
      observations: 1,
      conditions: 0,
      immunizations: 0,
      exposures: 0,
      consents: 0,
      labels: 0,
    });
  });

  test('resolves the hospital id only through resolveHospitalId, and audits every resolution', async () => {
    await h.store.apply([patient('MRN-7')]);
    h.clock.value += 5000;
    const pid = h.store.pidFor('MRN-7');
    expect(await h.store.resolveHospitalId(pid, { actor: 'nurse-a', reason: 'follow-up call' })).toBe('MRN-7');
    expect(await h.store.resolveHospitalId('0'.repeat(64), { actor: 'nurse-a', reason: 'x' })).toBeNull();
    const audit = await (await h.again()).listAudit({ pid });
    expect(audit).toEqual([
      {
        seq: expect.any(Number),
        at: h.clock.value,
        action: 'hospital-id-resolved',
        pid,
        detail: { actor: 'nurse-a', reason: 'follow-up call' },
      },
    ]);
    expect(JSON.stringify(await h.store.listAudit())).not.toContain('MRN-7');
  });

  test('refuses calls after close', async () => {
    await h.store.close();
    await expect(h.store.counts()).rejects.toThrow(/closed/);
  });
}
