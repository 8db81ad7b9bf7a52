import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryTwinStore } from '../twins/memory-store';
import { importCsv, importCsvFile } from './csv';

const SECRET = new Uint8Array(32).fill(9);
const newStore = () => new MemoryTwinStore({ secret: SECRET, now: () => Date.UTC(2025, 0, 1) });

/** A long table: one measurement per row, with demographics repeated. */
const LONG = [
  'mrn,dob,sex,taken_at,hr,temp_f,spo2,dx,flu_date,consent,outcome',
  'MRN-1,1950-02-03,F,2024-03-01 08:00,72,98.6,97,E11.9;I10,2023-10-01,yes,0',
  'MRN-1,1950-02-03,F,2024-03-02 08:00,75,100.4,95,,,,',
  'MRN-2,1980-07-07,m,2024-03-01T09:00:00+01:00,64,,99,,,no,',
  'MRN-2,1980-07-07,male,2024-03-02 09:00,abc,97.0,,,,,1',
  ',1990-01-01,F,2024-03-01 08:00,70,,,,,,',
  'MRN-3,01/02/1950,X,2024-03-01 08:00,70,200,,,,maybe,',
  'MRN-3,1950-01-02,F,,71,,,,,,',
  'MRN-4,1950-01-02,F,2024-03-01 08:00,70',
].join('\n');

const MAPPING = {
  patient: { idColumn: 'mrn', birthDateColumn: 'dob', sexColumn: 'sex' },
  timeColumn: 'taken_at',
  observations: [
    { column: 'hr', code: '8867-4', unit: '/min' },
    { column: 'temp_f', code: '8310-5', unit: '[degF]' },
    { column: 'spo2', code: '59408-5', unit: '%' },
  ],
  conditions: [{ column: 'dx', system: 'icd10' }],
  immunizations: [{ column: 'flu_date', cvx: '141' }],
  consent: [{ column: 'consent', purpose: 'model-training' }],
  label: { column: 'outcome' },
};

describe('importCsv', () => {
  test('imports a long table: demographics once per patient, canonical units, conditions, vaccines, consent, labels', async () => {
    const store = newStore();
    const report = await importCsv({ store, text: LONG, mapping: MAPPING });
    expect(report.accepted).toEqual({
      patients: 3,
      observations: 10,
      conditions: 2,
      immunizations: 1,
      consents: 2,
      exposures: 0,
      labels: 2,
    });
    const one = await store.getTwin(store.pidFor('MRN-1'));
    expect([one?.birthDate, one?.sex]).toEqual(['1950-02-03', 'female']);
    expect(one?.observations.filter((o) => o.code === '8310-5').map((o) => [o.value, o.unit])).toEqual([
      [37, 'Cel'],
      [38, 'Cel'],
    ]);
    expect(one?.conditions.map((c) => [c.system, c.code])).toEqual([
      ['icd10', 'E11.9'],
      ['icd10', 'I10'],
    ]);
    expect(one?.immunizations).toEqual([{ cvx: '141', t: Date.UTC(2023, 9, 1) }]);
    expect(one?.consent).toEqual([{ purpose: 'model-training', decision: 'permit', t: Date.UTC(2024, 2, 1, 8) }]);
    const two = await store.getTwin(store.pidFor('MRN-2'));
    expect(two?.sex).toBe('male');
    expect(two?.observations.find((o) => o.code === '8867-4')?.t).toBe(Date.UTC(2024, 2, 1, 8));
    expect(two?.label).toBe(1);
    expect(await store.listPids({ consentFor: 'model-training', at: Date.UTC(2025, 0, 1) })).toEqual([
      store.pidFor('MRN-1'),
    ]);
  });

  test('rejects bad cells with line, column and reason (never the cell content) while the rest of the row lands', async () => {
    const store = newStore();
    const report = await importCsv({ store, text: LONG, mapping: MAPPING });
    expect(report.rejected).toEqual([
      { resourceType: 'Observation', line: 5, path: 'hr', reason: 'hr: not a number' },
      { resourceType: 'Row', line: 6, path: 'mrn', reason: 'mrn: the patient id is empty' },
      { resourceType: 'Patient', line: 7, path: 'dob', reason: 'dob: not a date (YYYY-MM-DD)' },
      {
        resourceType: 'Patient',
        line: 7,
        path: 'sex',
        reason: 'sex: not a known sex value (map it in patient.sexValues)',
      },
      {
        resourceType: 'Observation',
        line: 7,
        path: 'temp_f',
        reason: 'temp_f: body temperature 93.3333333333 Cel is outside the plausible range 20-46',
      },
      {
        resourceType: 'Consent',
        line: 7,
        path: 'consent',
        reason: 'consent: not one of the declared permit/deny values',
      },
      { resourceType: 'Observation', line: 8, path: 'hr', reason: 'hr: the time column taken_at is empty' },
      { resourceType: 'Row', line: 9, reason: 'the row does not have as many fields as the header' },
    ]);
    // Line 7's good cell (hr) landed; line 8's birth date filled in the patient.
    const three = await store.getTwin(store.pidFor('MRN-3'));
    expect(three?.observations.map((o) => o.value)).toEqual([70]);
    expect([three?.birthDate, three?.sex]).toEqual(['1950-01-02', 'female']);
    expect(JSON.stringify(report)).not.toMatch(/MRN-|abc|maybe|01\/02\/1950/);
  });

  test('is idempotent: the same export again adds nothing; a corrected value is an update', async () => {
    const store = newStore();
    const first = await importCsv({ store, text: LONG, mapping: MAPPING });
    const counts = await store.counts();
    const again = await importCsv({ store, text: LONG, mapping: MAPPING });
    expect(Object.values(again.accepted).every((n) => n === 0)).toBe(true);
    expect(again.duplicates).toBe(Object.values(first.accepted).reduce((a, b) => a + b, 0));
    expect(await store.counts()).toEqual(counts);
    const corrected = await importCsv({
      store,
      text: LONG.replace('MRN-1,1950-02-03,F,2024-03-01 08:00,72', 'MRN-1,1950-02-03,F,2024-03-01 08:00,74'),
      mapping: MAPPING,
    });
    expect(corrected).toMatchObject({ accepted: { observations: 1 }, updated: 1 });
    expect(await store.counts()).toEqual(counts);
  });

  test('reads a wide table with flag columns, a fixed time, a time zone, exposures and a custom delimiter', async () => {
    const store = newStore();
    const text = [
      'id;diabetes;copd;covid_vax;exposed;rhr;steps',
      'A;1;no;2024-01-10;2024-02-01 10:00;58;9000',
      'B;0;x;;;66;',
      'C;maybe;;;;;',
    ].join('\n');
    const mapping = {
      delimiter: ';',
      timeZone: '+02:00',
      fixedTime: '2024-03-01T00:00:00Z',
      patient: { idColumn: 'id' },
      observations: [
        { column: 'rhr', code: '40443-4', unit: '{beats}/min' },
        { column: 'steps', code: '55423-8', unit: '{steps}', timeColumn: 'exposed' },
      ],
      conditions: [
        { column: 'diabetes', system: 'snomed', code: '44054006' },
        { column: 'copd', system: 'snomed', code: '13645005' },
      ],
      immunizations: [{ column: 'covid_vax', cvx: '208' }],
      exposures: [{ column: 'exposed', kind: 'household-contact' }],
    };
    const report = await importCsv({ store, text, mapping });
    expect(report.accepted).toEqual({
      patients: 3,
      observations: 3,
      conditions: 2,
      immunizations: 1,
      consents: 0,
      exposures: 1,
      labels: 0,
    });
    expect(report.rejected).toEqual([
      {
        resourceType: 'Condition',
        line: 4,
        path: 'diabetes',
        reason: 'diabetes: not one of the declared present/absent values',
      },
    ]);
    const a = await store.getTwin(store.pidFor('A'));
    expect(a?.observations).toEqual([
      { code: '55423-8', t: Date.UTC(2024, 1, 1, 8), value: 9000, unit: '{steps}', source: 'csv' },
      { code: '40443-4', t: Date.UTC(2024, 2, 1), value: 58, unit: '/min', source: 'csv' },
    ]);
    expect(a?.exposures).toEqual([{ kind: 'household-contact', t: Date.UTC(2024, 1, 1, 8) }]);
    expect(a?.immunizations).toEqual([{ cvx: '208', t: Date.UTC(2024, 0, 10) }]);
    expect((await store.getTwin(store.pidFor('B')))?.conditions.map((c) => c.code)).toEqual(['13645005']);
  });

  test('refuses an invalid mapping, a header without the mapped columns, duplicate header columns; rejects an unparseable row', async () => {
    const store = newStore();
    await expect(importCsv({ store, text: LONG, mapping: { patient: {} } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('patient.idColumn'),
    });
    await expect(
      importCsv({ store, text: LONG, mapping: { ...MAPPING, observations: [{ column: 'weight', code: '29463-7' }] } }),
    ).rejects.toThrow(/weight/);
    await expect(
      importCsv({ store, text: 'mrn,mrn\n1,2\n', mapping: { patient: { idColumn: 'mrn' } } }),
    ).rejects.toThrow(/repeats the column mrn/);
    expect((await store.counts()).patients).toBe(0);
    const broken = await importCsv({
      store,
      text: 'mrn,hr\nMRN-8,60\n"MRN-9,61\n',
      mapping: { patient: { idColumn: 'mrn' } },
    });
    expect(broken.rejected).toEqual([
      { resourceType: 'Row', line: 3, reason: 'the row cannot be parsed (CSV_QUOTE_NOT_CLOSED)' },
    ]);
    expect(broken.accepted.patients).toBe(1);
  });

  test('imports from files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-csv-'));
    try {
      fs.writeFileSync(path.join(dir, 'data.csv'), LONG);
      fs.writeFileSync(path.join(dir, 'mapping.json'), JSON.stringify(MAPPING));
      const report = await importCsvFile({
        store: newStore(),
        file: path.join(dir, 'data.csv'),
        mappingFile: path.join(dir, 'mapping.json'),
      });
      expect(report.accepted.patients).toBe(3);
      fs.writeFileSync(path.join(dir, 'bad.json'), '{');
      await expect(
        importCsvFile({ store: newStore(), file: path.join(dir, 'data.csv'), mappingFile: path.join(dir, 'bad.json') }),
      ).rejects.toMatchObject({ code: 'INVALID_JSON' });
      await expect(
        importCsvFile({
          store: newStore(),
          file: path.join(dir, 'none.csv'),
          mappingFile: path.join(dir, 'mapping.json'),
        }),
      ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
