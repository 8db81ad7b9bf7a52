import { MemoryTwinStore } from '../../twins/memory-store';
import {
  bloodPressure,
  bundle,
  condition,
  consent,
  exposure,
  immunization,
  MRN_SYSTEM,
  ndjson,
  outcome,
  patient,
  vital,
} from '../__tests__/fhir-fixtures';
import { importFhir } from './import';

const SECRET = new Uint8Array(32).fill(7);
const UUID_A = 'urn:uuid:6f1c9a52-0c3e-4a8e-9d0e-1a2b3c4d5e6f';
const newStore = () => new MemoryTwinStore({ secret: SECRET, now: () => Date.UTC(2025, 0, 1) });

/** A good bundle: two patients, vitals in mixed units, a BP panel, a lab, conditions, a vaccine, consent, exposure, outcome. */
function goodBundle(): string {
  return bundle([
    [UUID_A, patient('pa', 'MRN-1001')],
    [null, patient('pb', null, { gender: 'female', birthDate: '1990' })],
    [null, vital('o-hr', UUID_A, '8867-4', 88, '/min')],
    [null, vital('o-temp', 'Patient/pa', '8310-5', 100.4, '[degF]')],
    [null, vital('o-spo2', 'Patient/pa', '59408-5', 93, '%')],
    [null, bloodPressure('o-bp', 'Patient/pa', 142, 91)],
    [null, vital('o-bmi', 'Patient/pb', '39156-5', 31.2, 'kg/m2')],
    [null, vital('o-steps', 'Patient/pb', '55423-8', 4200, '{steps}')],
    [null, vital('o-glucose', 'Patient/pb', '2339-0', 104, 'mg/dL')],
    [null, condition('c-dm', UUID_A, 'http://snomed.info/sct', '44054006')],
    [
      null,
      condition('c-copd', 'Patient/pb', 'http://hl7.org/fhir/sid/icd-10-cm', 'j44.9', {
        clinicalStatus: { coding: [{ code: 'resolved' }] },
        abatementDateTime: '2020-01-01',
      }),
    ],
    [null, immunization('i-flu', 'Patient/pa', '141')],
    [null, consent('k-1', 'Patient/pa', 'permit', '2024-01-01T00:00:00Z')],
    [null, exposure('e-1', 'Patient/pa', '2024-03-03T12:00:00+01:00')],
    [null, outcome('y-1', 'Patient/pa', true, '2024-03-20')],
  ]);
}

describe('importFhir', () => {
  test('imports a good bundle: counts, canonical units, panel components, references by urn:uuid and Patient/id', async () => {
    const store = newStore();
    const report = await importFhir({ store, text: goodBundle() });
    expect(report).toEqual({
      accepted: { patients: 2, observations: 8, conditions: 2, immunizations: 1, consents: 2, exposures: 1, labels: 1 },
      updated: 0,
      duplicates: 0,
      skipped: { byType: {} },
      rejected: [],
    });
    const a = await store.getTwin(store.pidFor('MRN-1001'));
    expect(a?.sex).toBe('male');
    expect(a?.observations.map((o) => [o.code, o.value, o.unit])).toEqual([
      ['59408-5', 93, '%'],
      ['8310-5', 38, 'Cel'],
      ['8867-4', 88, '/min'],
      ['8462-4', 91, 'mm[Hg]'],
      ['8480-6', 142, 'mm[Hg]'],
    ]);
    expect(a?.conditions).toEqual([
      { system: 'snomed', code: '44054006', onset: Date.UTC(2015, 4, 1), abatement: null },
    ]);
    expect(a?.immunizations).toEqual([{ cvx: '141', t: Date.UTC(2023, 9, 1) }]);
    expect(a?.consent).toEqual([
      { purpose: 'model-training', decision: 'permit', t: Date.UTC(2024, 0, 1) },
      { purpose: 'scoring', decision: 'permit', t: Date.UTC(2024, 0, 1) },
    ]);
    expect(a?.exposures).toEqual([{ kind: 'household-contact', t: Date.UTC(2024, 2, 3, 11) }]);
    expect(a?.label).toBe(1);
    // A Patient without identifiers is known by its resource id.
    const b = await store.getTwin(store.pidFor('pb'));
    expect([b?.birthDate, b?.sex]).toEqual(['1990', 'female']);
    expect(b?.conditions).toEqual([
      { system: 'icd10', code: 'J44.9', onset: Date.UTC(2015, 4, 1), abatement: Date.UTC(2020, 0, 1) },
    ]);
    expect(b?.observations.find((o) => o.code === '2339-0')).toMatchObject({ value: 104, unit: 'mg/dL' });
  });

  test('rejects invalid resources with type, id, entry, path and reason; skips unknown types; lands the valid ones', async () => {
    const store = newStore();
    const text = bundle([
      [null, patient('pa', 'MRN-2001')],
      [null, patient('bad-dob', 'MRN-2002', { birthDate: '01/02/1950' })],
      [null, vital('ok', 'Patient/pa', '8867-4', 70, '/min')],
      [null, vital('hr-kg', 'Patient/pa', '8867-4', 70, 'kg')],
      [null, vital('temp-hot', 'Patient/pa', '8310-5', 98.6, 'Cel')],
      [null, vital('ghost', 'Patient/nobody', '8867-4', 70, '/min')],
      [null, vital('no-tz', 'Patient/pa', '8867-4', 70, '/min', '2024-03-01T08:00:00')],
      [
        null,
        {
          resourceType: 'Observation',
          id: 'no-code',
          status: 'final',
          subject: { reference: 'Patient/pa' },
          effectiveDateTime: '2024-01-01',
        },
      ],
      [
        null,
        {
          ...bloodPressure('bp-bad', 'Patient/pa', 120, 80),
          component: [
            { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 'high' } },
          ],
        },
      ],
      [null, condition('local', 'Patient/pa', 'http://hospital.example/codes', 'DM2')],
      [null, immunization('not-given', 'Patient/pa', '141', '2023-10-01', 'not-done')],
      [
        null,
        {
          ...immunization('vague', 'Patient/pa', '141'),
          occurrenceDateTime: undefined,
          occurrenceString: 'last autumn',
        },
      ],
      [null, consent('no-purpose', 'Patient/pa', 'permit', '2024-01-01', { provision: { type: 'permit' } })],
      [null, { resourceType: 'Encounter', id: 'enc-1' }],
      [null, { resourceType: 'Encounter', id: 'enc-2' }],
      [null, { resourceType: 'Practitioner', id: 'doc' }],
      [null, null],
    ]);
    const report = await importFhir({ store, text });
    expect(report.accepted).toEqual({
      patients: 1,
      observations: 1,
      conditions: 0,
      immunizations: 0,
      consents: 0,
      exposures: 0,
      labels: 0,
    });
    expect(report.skipped.byType).toEqual({ Encounter: 2, Practitioner: 1, 'Immunization:not-done': 1 });
    const byId = Object.fromEntries(report.rejected.map((r) => [r.id ?? `#${r.entry}`, r]));
    expect(Object.keys(byId).sort()).toEqual(
      ['#16', '#1', 'bp-bad', 'ghost', 'hr-kg', 'local', 'no-code', 'no-purpose', 'no-tz', 'temp-hot', 'vague'].sort(),
    );
    // A Patient's resource id is an identifier of the patient: the rejection locates it by entry only.
    expect(byId['#1']).toEqual({
      resourceType: 'Patient',
      entry: 1,
      path: 'birthDate',
      reason: 'birthDate: must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)',
    });
    expect(byId['hr-kg']).toEqual({
      resourceType: 'Observation',
      id: 'hr-kg',
      entry: 3,
      path: 'valueQuantity',
      reason:
        "valueQuantity: unit 'kg' is not a unit of heart rate (LOINC 8867-4, expected /min or a convertible unit)",
    });
    expect(byId['temp-hot']?.reason).toMatch(/outside the plausible range/);
    expect(byId['ghost']).toMatchObject({
      resourceType: 'Observation',
      entry: 5,
      reason: expect.stringContaining('not in the twin store'),
    });
    expect(byId['no-tz']).toMatchObject({ path: 'effectiveDateTime', reason: expect.stringContaining('needs a zone') });
    expect(byId['no-code']).toMatchObject({ path: 'code' });
    expect(byId['bp-bad']).toMatchObject({
      path: 'component[0].valueQuantity.value',
      reason: 'component[0].valueQuantity.value: must be a number',
    });
    expect(byId['local']).toMatchObject({ resourceType: 'Condition', path: 'code.coding' });
    expect(byId['vague']).toMatchObject({ resourceType: 'Immunization', path: 'occurrence[x]' });
    expect(byId['no-purpose']).toMatchObject({ resourceType: 'Consent', path: 'provision.purpose' });
    expect(byId['#16']).toMatchObject({ resourceType: 'unknown', entry: 16, path: 'entry[16].resource' });
    expect(JSON.stringify(report)).not.toMatch(/MRN-/);
    expect((await store.counts()).observations).toBe(1);
  });

  test('re-importing the same file changes nothing: zero accepted, every row a duplicate, no change events', async () => {
    const store = newStore();
    const first = await importFhir({ store, text: goodBundle() });
    const countsBefore = await store.counts();
    const { seq } = await store.changedSince(0);
    const second = await importFhir({ store, text: goodBundle() });
    const total = Object.values(first.accepted).reduce((a, b) => a + b, 0);
    expect(second.accepted).toEqual({
      patients: 0,
      observations: 0,
      conditions: 0,
      immunizations: 0,
      consents: 0,
      exposures: 0,
      labels: 0,
    });
    expect(second.duplicates).toBe(total);
    expect(second.rejected).toEqual([]);
    expect(await store.counts()).toEqual(countsBefore);
    expect(await store.changedSince(seq)).toEqual({ changes: [], seq });
  });

  test('reads NDJSON in any order, rejects a broken line by number, and resolves references across files', async () => {
    const store = newStore();
    const text =
      ndjson([vital('o1', 'Patient/p1', '8867-4', 61, '/min'), patient('p1', 'MRN-3001')]) +
      '{"resourceType": "Observation",\n';
    const report = await importFhir({ store, text });
    expect(report.accepted).toMatchObject({ patients: 1, observations: 1 });
    expect(report.rejected).toEqual([{ resourceType: 'unknown', line: 3, reason: 'the line is not valid JSON' }]);
    // A later file refers to the patient by its FHIR id only: the stored alias resolves it.
    const later = await importFhir({
      store,
      text: ndjson([vital('o2', 'https://ehr.example/fhir/Patient/p1/_history/3', '8867-4', 64, '/min')]),
    });
    expect(later.accepted.observations).toBe(1);
    expect((await store.getTwin(store.pidFor('MRN-3001')))?.observations.map((o) => o.value)).toEqual([61, 64]);
  });

  test('updates a corrected observation and resolves logical references by identifier', async () => {
    const store = newStore();
    await importFhir({
      store,
      text: ndjson([patient('p1', 'MRN-4001'), vital('o1', 'Patient/p1', '8867-4', 61, '/min')]),
    });
    const byIdentifier = {
      ...vital('o1', 'Patient/p1', '8867-4', 66, '/min'),
      subject: { identifier: { system: MRN_SYSTEM, value: 'MRN-4001' } },
    };
    const report = await importFhir({ store, text: ndjson([byIdentifier]), identifierSystem: MRN_SYSTEM });
    expect(report).toMatchObject({ accepted: { observations: 1 }, updated: 1, duplicates: 0 });
    expect((await store.getTwin(store.pidFor('MRN-4001')))?.observations.map((o) => o.value)).toEqual([66]);
  });

  test('picks the hospital id from the configured identifier system', async () => {
    const store = newStore();
    await importFhir({ store, text: ndjson([patient('p1', 'MRN-5001')]), identifierSystem: 'urn:ssn' });
    expect(await store.listPids()).toEqual([store.pidFor('SSN-MRN-5001')]);
    const none = await importFhir({ store, text: ndjson([patient('p2', null)]), identifierSystem: 'urn:ssn' });
    expect(none.rejected).toEqual([
      {
        resourceType: 'Patient',
        line: 1,
        path: 'identifier',
        reason: expect.stringContaining('configured patient identifier system'),
      },
    ]);
  });

  test('keeps consent history: a withdrawn consent excludes the patient after the withdrawal, not before', async () => {
    const store = newStore();
    await importFhir({
      store,
      text: ndjson([
        patient('p1', 'MRN-6001'),
        patient('p2', 'MRN-6002'),
        consent('c1', 'Patient/p1', 'permit', '2024-01-01'),
        consent('c2', 'Patient/p2', 'permit', '2024-01-01'),
      ]),
    });
    const withdrawn = {
      ...consent('c1', 'Patient/p1', 'permit', '2024-01-01'),
      status: 'inactive',
      meta: { lastUpdated: '2024-06-01T00:00:00Z' },
    };
    const report = await importFhir({
      store,
      text: ndjson([withdrawn, { ...consent('c3', 'Patient/p2', 'deny', '2024-07-01'), status: 'draft' }]),
    });
    expect(report.accepted.consents).toBe(2);
    expect(report.skipped.byType).toEqual({ 'Consent:draft': 1 });
    const [p1, p2] = [store.pidFor('MRN-6001'), store.pidFor('MRN-6002')];
    expect(await store.listPids({ consentFor: 'model-training', at: Date.UTC(2024, 4, 31) })).toEqual([p1, p2].sort());
    expect(await store.listPids({ consentFor: 'model-training', at: Date.UTC(2024, 5, 2) })).toEqual([p2]);
    expect(
      (await store.getTwin(p1))?.consent.filter((c) => c.purpose === 'model-training').map((c) => c.decision),
    ).toEqual(['permit', 'deny']);
    expect((await store.listAudit({ pid: p1 })).filter((e) => e.action === 'consent-recorded')).toHaveLength(4);
  });

  test('refuses a file that is neither JSON nor NDJSON as a whole', async () => {
    const truncated = goodBundle().slice(0, 400);
    await expect(importFhir({ store: newStore(), text: truncated })).rejects.toMatchObject({ code: 'INVALID_JSON' });
  });

  test('imports resources without ids idempotently (source id from fullUrl or content)', async () => {
    const store = newStore();
    const { id: _drop, ...anonymous } = vital('x', 'Patient/p1', '8867-4', 75, '/min');
    const text = bundle([
      [null, patient('p1', 'MRN-7001')],
      ['urn:uuid:aaaa', anonymous],
      [null, { ...anonymous, effectiveDateTime: '2024-03-02T08:00:00Z' }],
    ]);
    expect((await importFhir({ store, text })).accepted.observations).toBe(2);
    expect((await importFhir({ store, text })).duplicates).toBe(3);
  });
});
