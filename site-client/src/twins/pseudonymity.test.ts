/**
 * Pseudonymity of the twin store: after FHIR and CSV imports, the hospital's patient ids (and the other
 * identifiers and names in the source files) appear in no row of any table except the mapping table, and in
 * nothing the store's read API returns except `resolveHospitalId`.
 */
import * as path from 'node:path';
import { Database } from '@twinfed/sqlite-kit';
import { bundle, condition, consent, immunization, ndjson, patient, vital } from '../ingest/__tests__/fhir-fixtures';
import { importCsv } from '../ingest/csv';
import { importFhir } from '../ingest/fhir/import';
import { openTwinStore, TWIN_DB_FILE } from './store';
import { tempDirEach } from '../__tests__/temp-dir';

const MRNS = ['MRN-900001', 'MRN-900002', 'MRN-900003'];
const SECRETS = [...MRNS, 'SSN-MRN-900001', 'Ada Lovelace', 'Lovelace'];

/** Every cell of every table except patient_keys, as text. */
function cellsOutsideMapping(file: string): { table: string; text: string }[] {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    expect(tables).toEqual(
      expect.arrayContaining([
        'patients',
        'demographics',
        'observations',
        'conditions',
        'immunizations',
        'exposures',
        'consent_events',
        'labels',
        'audit',
        'meta',
        'patient_keys',
      ]),
    );
    const out: { table: string; text: string }[] = [];
    for (const table of tables.filter((t) => t !== 'patient_keys')) {
      for (const row of db.prepare(`SELECT * FROM "${table}"`).raw().all() as unknown[][]) {
        for (const v of row) out.push({ table, text: Buffer.isBuffer(v) ? v.toString('latin1') : String(v) });
      }
    }
    return out;
  } finally {
    db.close();
  }
}

describe('twin store pseudonymity', () => {
  const tmp = tempDirEach('pseudo');

  test('keeps hospital ids, other identifiers and names out of every table but the mapping table', async () => {
    const store = await openTwinStore({ dataDir: tmp.path });
    // Resource ids that embed the MRN on purpose: source ids are stored only as keyed hashes.
    const named = { name: [{ family: 'Lovelace', given: ['Ada'], text: 'Ada Lovelace' }] };
    const fhir = bundle([
      ['urn:uuid:MRN-900001', patient('MRN-900001', 'MRN-900001', named)],
      [null, patient('p2', 'MRN-900002')],
      [null, vital('obs-MRN-900001-1', 'Patient/MRN-900001', '8867-4', 91, '/min')],
      [null, vital('obs-MRN-900002-1', 'Patient/p2', '8310-5', 99.1, '[degF]')],
      [null, condition('cond-MRN-900001', 'urn:uuid:MRN-900001', 'http://snomed.info/sct', '44054006')],
      [null, immunization('imm-MRN-900002', 'Patient/p2', '208')],
      [null, consent('consent-MRN-900001', 'Patient/MRN-900001', 'permit', '2024-01-01')],
    ]);
    const fhirReport = await importFhir({ store, text: fhir });
    expect(fhirReport.rejected).toEqual([]);
    await importFhir({
      store,
      text: ndjson([
        { ...vital('obs-x', 'Patient/p2', '8867-4', 70, '/min'), subject: { identifier: { value: 'MRN-900002' } } },
      ]),
    });
    const csv = 'mrn,taken,hr,consent\nMRN-900003,2024-03-01T08:00:00Z,77,yes\nMRN-900001,2024-03-01T09:00:00Z,80,no\n';
    const csvReport = await importCsv({
      store,
      text: csv,
      mapping: {
        patient: { idColumn: 'mrn' },
        timeColumn: 'taken',
        observations: [{ column: 'hr', code: '8867-4', unit: '/min' }],
        consent: [{ column: 'consent', purpose: 'scoring' }],
      },
    });
    expect(csvReport.rejected).toEqual([]);
    const pid1 = store.pidFor('MRN-900001');
    expect(await store.resolveHospitalId(pid1, { actor: 'operator', reason: 'test' })).toBe('MRN-900001');

    // Nothing the read API returns carries an identifier.
    const twins = await Promise.all((await store.listPids()).map((pid) => store.getTwin(pid)));
    expect(twins).toHaveLength(3);
    const api = JSON.stringify([
      twins,
      await store.changedSince(0),
      await store.listAudit(),
      await store.counts(),
      fhirReport,
      csvReport,
    ]);
    for (const s of SECRETS) expect(api).not.toContain(s);
    await store.close();

    const file = path.join(tmp.path, TWIN_DB_FILE);
    const cells = cellsOutsideMapping(file);
    expect(cells.length).toBeGreaterThan(50);
    for (const s of SECRETS) expect(cells.filter((c) => c.text.includes(s))).toEqual([]);

    // Positive control: the scan sees the mapping table's hospital ids when it is included.
    const db = new Database(file, { readonly: true });
    const keys = (db.prepare('SELECT key FROM patient_keys').pluck().all() as string[]).join('\n');
    db.close();
    for (const mrn of MRNS) expect(keys).toContain(mrn);
  });
});
