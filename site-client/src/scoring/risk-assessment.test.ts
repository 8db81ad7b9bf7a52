import { DataSchema, ModelSpecSchema } from '@twinfed/shared';
import { fhirSchemaErrors } from '../__tests__/fhir-schema';
import { MemoryTwinStore } from '../twins/memory-store';
import { mrn, seedTwins, T_AT } from '../__tests__/twin-site';
import {
  collectionBundle,
  MODEL_VERSION_SYSTEM,
  MODEL_WEIGHTS_SYSTEM,
  RISK_PROBABILITY_SYSTEM,
  riskAssessmentOf,
  riskAssessmentsFor,
  riskProbabilityOf,
} from './risk-assessment';
import type { TwinScore } from './score';

const score: TwinScore = {
  pid: 'a'.repeat(64),
  score: 0.4271,
  tier: 'medium',
  versionId: 'ver-7',
  at: T_AT,
  explainedBy: 'shapley',
  contributions: [
    { feature: 'rhr_mean_7d', value: 96, contribution: 0.8, text: 'resting heart rate 7-day mean 96 bpm, +0.8' },
    { feature: 'age', value: 73, contribution: -0.2, text: 'age 73 years, -0.2' },
  ],
};
const version = { federationId: 'fed-1', versionId: 'ver-7', round: 12, weightsSha256: 'ab'.repeat(32) };
const plan = {
  data: DataSchema.parse({
    features: ['rhr_mean_7d', 'age'],
    label: 'influenza within 30 days',
    derive: [
      { name: 'rhr_mean_7d', kind: 'mean', source: { loinc: ['40443-4'] }, unit: '/min', windowDays: 7 },
      { name: 'age', kind: 'age' },
    ],
    labelRule: { kind: 'condition-onset', conditionCodes: [{ system: 'icd10', codes: ['J10*'] }], horizonDays: 30 },
  }),
  model: ModelSpecSchema.parse({ kind: 'logistic-regression', inputs: 2 }),
};

describe('FHIR RiskAssessment', () => {
  test('a score becomes a valid R4 RiskAssessment naming the patient, the signed model and the explanation', () => {
    const ra = riskAssessmentOf({ score, hospitalId: 'MRN-42', identifierSystem: 'urn:oid:1.2.3', version, plan });
    expect(fhirSchemaErrors(ra)).toEqual([]);
    expect(ra).toMatchObject({
      resourceType: 'RiskAssessment',
      status: 'final',
      subject: { type: 'Patient', identifier: { system: 'urn:oid:1.2.3', value: 'MRN-42' } },
      occurrenceDateTime: '2024-01-31T00:00:00.000Z',
      method: { coding: [{ system: MODEL_VERSION_SYSTEM, code: 'ver-7' }] },
      basis: [{ type: 'Device', identifier: { system: MODEL_WEIGHTS_SYSTEM, value: 'ab'.repeat(32) } }],
      prediction: [
        {
          outcome: { text: 'influenza within 30 days' },
          probabilityDecimal: 0.4271,
          qualitativeRisk: { coding: [{ system: RISK_PROBABILITY_SYSTEM, code: 'moderate' }], text: 'medium' },
          whenPeriod: { start: '2024-01-31T00:00:00.000Z', end: '2024-03-01T00:00:00.000Z' },
        },
      ],
    });
    const note = (ra.note as { text: string }[])[0]!.text;
    expect(note).toContain('Shapley values');
    expect(note).toContain('resting heart rate 7-day mean 96 bpm, +0.8; age 73 years, -0.2');
    expect(JSON.stringify(ra)).not.toContain(score.pid);
  });

  test('a Cox score is the risk within the horizon: the outcome and whenPeriod name it, the note the log relative hazard', () => {
    const coxPlan = {
      data: DataSchema.parse({ features: ['rhr_mean_7d', 'age'], label: 'admission' }),
      model: ModelSpecSchema.parse({ kind: 'cox', inputs: 2, horizonDays: 90 }),
    };
    const risk = { ...score, score: 0.183, tier: 'low', explainedBy: 'linear' as const };
    const ra = riskAssessmentOf({ score: risk, hospitalId: 'MRN-42', version, plan: coxPlan });
    expect(fhirSchemaErrors(ra)).toEqual([]);
    expect(ra.prediction).toEqual([
      {
        outcome: { text: 'admission within 90 days' },
        probabilityDecimal: 0.183,
        qualitativeRisk: {
          coding: [{ system: RISK_PROBABILITY_SYSTEM, code: 'low', display: 'Low likelihood' }],
          text: 'low',
        },
        whenPeriod: { start: '2024-01-31T00:00:00.000Z', end: '2024-04-30T00:00:00.000Z' },
      },
    ]);
    const note = (ra.note as { text: string }[])[0]!.text;
    expect(note).toContain('weight × value, in log relative hazard');
    expect(fhirSchemaErrors({ ...ra, prediction: [{ whenPeriod: { start: 42 } }] })).not.toEqual([]);
  });

  test('a Bundle of type collection is valid R4, and the schema does catch an invalid resource', () => {
    const ra = riskAssessmentOf({ score, hospitalId: 'MRN-42', version, plan });
    expect(fhirSchemaErrors(collectionBundle([ra, ra]))).toEqual([]);
    expect(collectionBundle([])).toEqual({ resourceType: 'Bundle', type: 'collection' });
    const { subject: _subject, ...withoutSubject } = ra;
    expect(fhirSchemaErrors(withoutSubject)).not.toEqual([]);
    expect(fhirSchemaErrors({ ...ra, status: 42 })).not.toEqual([]);
    expect(fhirSchemaErrors({ ...ra, prediction: [{ probabilityDecimal: '0.4' }] })).not.toEqual([]);
    expect(fhirSchemaErrors({ ...ra, patient: 'MRN-42' })).not.toEqual([]);
  });

  test('tiers map to the HL7 risk-probability codes by name, else by position', () => {
    const names = ['minimal', 'low', 'elevated', 'very-high'];
    expect(names.map((n) => riskProbabilityOf(n, names))).toEqual(['low', 'low', 'moderate', 'high']);
    expect(['low', 'medium', 'high'].map((n) => riskProbabilityOf(n, ['low', 'medium', 'high']))).toEqual([
      'low',
      'moderate',
      'high',
    ]);
    expect(riskProbabilityOf('negligible', ['negligible', 'x', 'y'])).toBe('negligible');
  });

  test('subjects are resolved from the twin store, each one audited', async () => {
    const store = new MemoryTwinStore({ secret: new Uint8Array(32).fill(7) });
    const pids = await seedTwins(store, 2);
    const scores = pids.map((pid) => ({ ...score, pid }));
    const out = await riskAssessmentsFor({ scores, store, actor: 'dr.lee', reason: 'test', version, plan });
    expect(out.map((r) => (r.subject as { identifier: { value: string } }).identifier.value)).toEqual([mrn(0), mrn(1)]);
    const audit = await store.listAudit();
    expect(audit.filter((a) => a.action === 'hospital-id-resolved').map((a) => a.pid)).toEqual(pids);
    await expect(
      riskAssessmentsFor({
        scores: [{ ...score, pid: 'f'.repeat(64) }],
        store,
        actor: 'x',
        reason: 'y',
        version,
        plan,
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await store.close();
  });
});
