import { benchFhirImport, benchFhirNdjson } from './fhir-import';

describe('benchFhirImport', () => {
  test('imports every generated resource into SQLite and reports a rate (no timing asserted)', async () => {
    const r = await benchFhirImport({ resources: 500 });
    expect(r.report.accepted.patients).toBe(10);
    expect(r.report.accepted.observations).toBe(490);
    expect(r.report.rejected).toEqual([]);
    expect(r.resources).toBe(500);
    expect(r.resourcesPerSecond).toBeGreaterThan(0);
    expect(r.bytes).toBe(Buffer.byteLength(benchFhirNdjson(500)));
  });

  test('runs against the memory store too, and generates exactly the requested count', async () => {
    const r = await benchFhirImport({ resources: 3, store: 'memory' });
    expect(r.report.accepted).toMatchObject({ patients: 1, observations: 2 });
    expect(benchFhirNdjson(120).trim().split('\n')).toHaveLength(120);
  });
});
