import { DAY_MS, type SeededRandom } from '@twinfed/shared';
import { LOINC } from '../ingest/fhir/codes';

/** One simulated measurement in its canonical UCUM unit. */
export interface SimObservation {
  /** Unique within the hospital: the FHIR resource id (clinic) or the wearable sample id. */
  readonly id: string;
  readonly code: string;
  readonly t: number;
  readonly value: number;
  readonly unit: string;
  /** `clinic` measurements go into FHIR bundles, `wearable` samples into the device stream. */
  readonly channel: 'clinic' | 'wearable';
  /** Components of one panel (blood pressure 85354-9) share this id. */
  readonly panelId?: string;
}

/** The latent physiology a patient's measurements come from (see `cohort.ts`). */
export interface Physiology {
  age: number;
  hypertension: boolean;
  heartFailure: boolean;
  copd: boolean;
  /** A deterioration in the last two weeks: higher resting heart rate, falling SpO2, fewer steps. */
  subclinical: boolean;
  rhrBase: number;
  /** True 7-day mean resting heart rate before the snapshot. */
  rhr7: number;
  spo2Base: number;
  /** True SpO2 slope over the 14 days before the snapshot, %/day. */
  spo2Slope14: number;
  bmi: number;
}

const round = (v: number, digits = 0) => Math.round(v * 10 ** digits) / 10 ** digits;
const HOUR = 3_600_000;

/** Options of {@link observationsOf}. */
interface ObservationsOfOptions {
  rng: SeededRandom;
  at: number;
  days: number;
  physiology: Physiology;
  device: boolean;
  idPrefix: string;
}

/**
 * A patient's measurements over the `days` before `at`:
 * - with a device, one sample a day of resting heart rate (40443-4; the last 7 days around the true 7-day
 *   mean, earlier ones around the baseline, sd 2.5), SpO2 (59408-5; the last 14 days on the true trend, sd 0.5)
 *   and steps (55423-8);
 * - 1–3 clinic visits with heart rate, SpO2, temperature, respiratory rate and a blood pressure panel, and
 *   BMI at the first visit.
 */
export function observationsOf(options: ObservationsOfOptions): SimObservation[] {
  const { rng, at, days, physiology: ph, device, idPrefix } = options;
  const out: SimObservation[] = [];
  const daysAgo = (t: number) => (at - t) / DAY_MS;
  const rhrAt = (i: number) => (i < 7 ? ph.rhr7 : ph.rhrBase);
  const spo2At = (i: number) => Math.min(100, i < 14 ? ph.spo2Base + ph.spo2Slope14 * (14 - i) : ph.spo2Base);
  if (device) {
    for (let i = days - 1; i >= 0; i--) {
      const t = at - i * DAY_MS - Math.round(rng.uniform(4, 20) * HOUR);
      const id = (code: string) => `${idPrefix}-w${i}-${code}`;
      out.push({
        id: id('rhr'),
        code: LOINC.restingHeartRate,
        t,
        value: round(rhrAt(i) + 2.5 * rng.normal()),
        unit: '/min',
        channel: 'wearable',
      });
      out.push({
        id: id('spo2'),
        code: LOINC.spo2,
        t: t + 60_000,
        value: round(Math.min(100, spo2At(i) + 0.5 * rng.normal()), 1),
        unit: '%',
        channel: 'wearable',
      });
      const steps =
        8000 -
        70 * (ph.age - 50) -
        1500 * Number(ph.heartFailure) -
        1200 * Number(ph.copd) -
        (i < 7 && ph.subclinical ? 1500 : 0);
      out.push({
        id: id('steps'),
        code: LOINC.steps,
        t: t + 120_000,
        value: Math.max(300, Math.round(steps + 1500 * rng.normal())),
        unit: '{steps}',
        channel: 'wearable',
      });
    }
  }
  const visits = 1 + rng.int(3);
  for (let v = 0; v < visits; v++) {
    const t = at - Math.round(rng.uniform(1, days) * 24) * HOUR;
    const i = Math.floor(daysAgo(t));
    const id = (what: string) => `${idPrefix}-c${v}-${what}`;
    const clinic = (what: string, code: string, value: number, unit: string, panelId?: string): SimObservation => ({
      id: id(what),
      code,
      t,
      value,
      unit,
      channel: 'clinic',
      ...(panelId ? { panelId } : {}),
    });
    out.push(clinic('hr', LOINC.heartRate, round(rhrAt(i) + 10 + 6 * rng.normal()), '/min'));
    out.push(clinic('spo2', LOINC.spo2, round(Math.min(100, spo2At(i) - 0.3 + 0.7 * rng.normal()), 1), '%'));
    out.push(
      clinic(
        'temp',
        LOINC.bodyTemperature,
        round(36.8 + (ph.subclinical && i < 14 ? 0.6 : 0) + 0.3 * rng.normal(), 1),
        'Cel',
      ),
    );
    out.push(clinic('rr', LOINC.respiratoryRate, round(15 + 2 * Number(ph.copd) + 2 * rng.normal()), '/min'));
    const bp = id('bp');
    out.push(
      clinic(
        'sys',
        LOINC.systolic,
        round(124 + 0.4 * (ph.age - 60) + 8 * Number(ph.hypertension) + 12 * rng.normal()),
        'mm[Hg]',
        bp,
      ),
    );
    out.push(clinic('dia', LOINC.diastolic, round(77 + 4 * Number(ph.hypertension) + 8 * rng.normal()), 'mm[Hg]', bp));
    if (v === 0) out.push(clinic('bmi', LOINC.bmi, ph.bmi, 'kg/m2'));
  }
  return out;
}
