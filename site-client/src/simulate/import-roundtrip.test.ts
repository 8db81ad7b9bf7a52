import { featureColumns, FeatureDerivationSchema } from '@twinfed/shared';
import { deriveFeatures } from '../features/derive';
import { importFhir } from '../ingest/fhir/import';
import { MemoryTwinStore } from '../twins/memory-store';
import { simulateHospital } from './hospital';
import { TWIN_SCENARIO_DERIVE } from './plan';
import { cohortTwins } from './twins';
import type { HospitalProfileName } from './profiles';

const derivations = TWIN_SCENARIO_DERIVE.map((d) => FeatureDerivationSchema.parse(d));

/**
 * The generator's FHIR bundles and wearable samples go through the real importer and twin store without a
 * rejection, and the twins that come out derive exactly the features of the twins built directly.
 */
describe.each<HospitalProfileName>(['urban-teaching', 'rural-elderly'])(
  'simulated %s through FHIR import',
  (profile) => {
    test('imports cleanly and derives the same features as cohortTwins', async () => {
      const h = simulateHospital({ patients: 25, profile, seed: 9, start: '2024-01-01T00:00:00Z', days: 21 });
      const store = new MemoryTwinStore({ secret: new Uint8Array(32).fill(7), now: () => h.at });
      for (const bundle of h.bundles) {
        const report = await importFhir({ store, text: JSON.stringify(bundle) });
        expect(report.rejected).toEqual([]);
        expect(report.skipped.byType).toEqual({});
      }
      // The wearable stream, applied as the stream endpoint would: by the Patient alias, idempotent by sample id.
      for (const batch of h.wearable) {
        const writes = batch.samples.map((s) => ({
          type: 'observation' as const,
          patient: { alias: batch.patientRef },
          sourceId: `stream:${batch.deviceId}:${s.id}`,
          code: s.code,
          t: Date.parse(s.t),
          value: s.value,
          unit: s.unit,
          source: 'stream' as const,
        }));
        expect((await store.apply(writes)).every((o) => o.status === 'inserted')).toBe(true);
      }
      const direct = cohortTwins(h.cohort, { pidOf: (p) => store.pidFor(p.mrn) });
      expect((await store.listPids()).sort()).toEqual(direct.map((t) => t.pid).sort());
      const names = featureColumns(derivations).map((c) => c.name);
      for (const twin of direct) {
        const imported = (await store.getTwin(twin.pid))!;
        expect(imported.consent.map((c) => c.decision)).toEqual(twin.consent.map((c) => c.decision));
        const a = deriveFeatures({ twin: imported, derivations, at: h.at });
        const b = deriveFeatures({ twin, derivations, at: h.at });
        const row = (r: typeof a) =>
          Object.fromEntries(names.map((n, j) => [n, r.missing[j] ? 'missing' : Number(r.values[j]!.toFixed(9))]));
        expect(row(a)).toEqual(row(b));
        expect(imported.conditions.length).toBe(twin.conditions.length);
      }
      await store.close();
    });
  },
);
