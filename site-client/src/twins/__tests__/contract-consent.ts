import { expect, test } from '@jest/globals';
import { consent, day, patient, type HarnessRef } from './harness';

export function consentContract(h: HarnessRef): void {
  test('keeps the consent history and lists a patient for a purpose only while the latest decision is permit', async () => {
    await h.store.apply([patient('A'), patient('B'), patient('C')]);
    await h.store.apply([
      consent('A', 'fhir:a1', 'permit', day(10)),
      consent('A', 'fhir:a2', 'deny', day(20)),
      consent('B', 'csv:b1', 'permit', day(5)),
      consent('C', 'stream:c1', 'permit', day(5), 'scoring'),
    ]);
    const s = await h.again();
    const [a, b, c] = [s.pidFor('A'), s.pidFor('B'), s.pidFor('C')];
    expect(await s.listPids({ consentFor: 'model-training', at: day(1) })).toEqual([]);
    expect(await s.listPids({ consentFor: 'model-training', at: day(15) })).toEqual([a, b].sort());
    expect(await s.listPids({ consentFor: 'model-training', at: day(20) })).toEqual([b]);
    expect(await s.listPids({ consentFor: 'model-training', at: day(25) })).toEqual([b]);
    expect(await s.listPids({ consentFor: 'scoring', at: day(25) })).toEqual([c]);
    expect(await s.listPids({ at: day(0) })).toEqual([a, b, c].sort());
    expect((await s.getTwin(a))?.consent).toEqual([
      { purpose: 'model-training', decision: 'permit', t: day(10) },
      { purpose: 'model-training', decision: 'deny', t: day(20) },
    ]);
  });

  test('defaults the consent check to the store clock', async () => {
    await h.store.apply([patient('A'), consent('A', 'x1', 'permit', day(10))]);
    h.clock.value = day(9);
    expect(await h.store.listPids({ consentFor: 'model-training' })).toEqual([]);
    h.clock.value = day(11);
    expect(await h.store.listPids({ consentFor: 'model-training' })).toEqual([h.store.pidFor('A')]);
  });

  test('breaks a tie at the same time in favour of the decision recorded last', async () => {
    await h.store.apply([patient('A'), consent('A', 'x1', 'permit', day(10)), consent('A', 'x2', 'deny', day(10))]);
    await h.store.apply([patient('B'), consent('B', 'y1', 'deny', day(10)), consent('B', 'y2', 'permit', day(10))]);
    const s = await h.again();
    expect(await s.listPids({ consentFor: 'model-training', at: day(10) })).toEqual([s.pidFor('B')]);
  });

  test('treats consent events as immutable: same content is a duplicate, changed content under the same id is refused', async () => {
    await h.store.apply([patient('A'), consent('A', 'x1', 'permit', day(10))]);
    expect(await h.store.apply([consent('A', 'x1', 'permit', day(10))])).toEqual([{ status: 'duplicate' }]);
    const [changed] = await h.store.apply([consent('A', 'x1', 'deny', day(10))]);
    expect(changed).toEqual({ status: 'rejected', reason: expect.stringContaining('immutable') });
    expect((await (await h.again()).counts()).consents).toBe(1);
  });

  test('audits every recorded consent decision, without the hospital id', async () => {
    h.clock.value = day(100);
    await h.store.apply([
      patient('MRN-55'),
      consent('MRN-55', 'fhir:Consent/1', 'permit', day(10)),
      consent('MRN-55', 'csv:r2', 'deny', day(20), 'scoring'),
    ]);
    await h.store.apply([consent('MRN-55', 'fhir:Consent/1', 'permit', day(10))]);
    const s = await h.again();
    const pid = s.pidFor('MRN-55');
    const audit = await s.listAudit({ pid });
    expect(audit.map(({ action, at, detail }) => ({ action, at, detail }))).toEqual([
      {
        action: 'consent-recorded',
        at: day(100),
        detail: { purpose: 'model-training', decision: 'permit', t: day(10), channel: 'fhir' },
      },
      {
        action: 'consent-recorded',
        at: day(100),
        detail: { purpose: 'scoring', decision: 'deny', t: day(20), channel: 'csv' },
      },
    ]);
    expect(audit[1]!.seq).toBeGreaterThan(audit[0]!.seq);
    expect(await s.listAudit({ pid: s.pidFor('other') })).toEqual([]);
    expect(JSON.stringify(await s.listAudit())).not.toContain('MRN-55');
  });
}
