/**
 * UCUM unit normalisation, table-driven. Every stored observation carries a canonical unit; a known LOINC
 * code accepts only units of its dimension (converted to the code's canonical unit) and values inside a
 * plausible range, so that e.g. a Fahrenheit temperature mislabelled as Celsius is rejected, not stored.
 * Codes not in the table are still stored: a unit this table knows is converted to its canonical form,
 * any other unit is kept as given.
 */
import { LOINC } from './fhir/codes';

/** A unit's canonical UCUM code and the conversion into it. */
interface UnitRule {
  canonical: string;
  convert: (v: number) => number;
}

const same = (v: number): number => v;
const scale =
  (k: number) =>
  (v: number): number =>
    v * k;

/** Accepted unit spellings (UCUM codes and common display forms) → canonical unit. */
export const UNIT_RULES: Readonly<Record<string, UnitRule>> = {
  // temperature
  Cel: { canonical: 'Cel', convert: same },
  degC: { canonical: 'Cel', convert: same },
  '°C': { canonical: 'Cel', convert: same },
  '[degF]': { canonical: 'Cel', convert: (f) => ((f - 32) * 5) / 9 },
  degF: { canonical: 'Cel', convert: (f) => ((f - 32) * 5) / 9 },
  '°F': { canonical: 'Cel', convert: (f) => ((f - 32) * 5) / 9 },
  K: { canonical: 'Cel', convert: (k) => k - 273.15 },
  // rates per minute
  '/min': { canonical: '/min', convert: same },
  '1/min': { canonical: '/min', convert: same },
  '{beats}/min': { canonical: '/min', convert: same },
  '{beat}/min': { canonical: '/min', convert: same },
  'beats/min': { canonical: '/min', convert: same },
  bpm: { canonical: '/min', convert: same },
  '{breaths}/min': { canonical: '/min', convert: same },
  '{breath}/min': { canonical: '/min', convert: same },
  'breaths/min': { canonical: '/min', convert: same },
  '/s': { canonical: '/min', convert: scale(60) },
  // fractions
  '%': { canonical: '%', convert: same },
  // pressure
  'mm[Hg]': { canonical: 'mm[Hg]', convert: same },
  mmHg: { canonical: 'mm[Hg]', convert: same },
  kPa: { canonical: 'mm[Hg]', convert: scale(760 / 101.325) },
  // mass
  kg: { canonical: 'kg', convert: same },
  g: { canonical: 'kg', convert: scale(0.001) },
  '[lb_av]': { canonical: 'kg', convert: scale(0.45359237) },
  lb: { canonical: 'kg', convert: scale(0.45359237) },
  lbs: { canonical: 'kg', convert: scale(0.45359237) },
  // length
  cm: { canonical: 'cm', convert: same },
  m: { canonical: 'cm', convert: scale(100) },
  mm: { canonical: 'cm', convert: scale(0.1) },
  '[in_i]': { canonical: 'cm', convert: scale(2.54) },
  in: { canonical: 'cm', convert: scale(2.54) },
  '[ft_i]': { canonical: 'cm', convert: scale(30.48) },
  ft: { canonical: 'cm', convert: scale(30.48) },
  // body mass index
  'kg/m2': { canonical: 'kg/m2', convert: same },
  'kg/m^2': { canonical: 'kg/m2', convert: same },
  // counts
  '{steps}': { canonical: '{steps}', convert: same },
  steps: { canonical: '{steps}', convert: same },
};

/** What a known LOINC code accepts: its canonical unit, extra unit spellings, and a plausible range. */
export interface CodeUnitRule {
  name: string;
  canonical: string;
  /** Units accepted besides those {@link UNIT_RULES} maps to `canonical` (e.g. '1' for a fraction). */
  extra?: Readonly<Record<string, UnitRule>>;
  min: number;
  max: number;
}

const fraction: Record<string, UnitRule> = {
  '1': { canonical: '%', convert: scale(100) },
  '{ratio}': { canonical: '%', convert: scale(100) },
};
const count: Record<string, UnitRule> = {
  '1': { canonical: '{steps}', convert: same },
  '{count}': { canonical: '{steps}', convert: same },
};

/** Known LOINC codes: the vitals the twin features use. */
export const CODE_UNITS: Readonly<Record<string, CodeUnitRule>> = {
  [LOINC.heartRate]: { name: 'heart rate', canonical: '/min', min: 10, max: 350 },
  [LOINC.restingHeartRate]: { name: 'resting heart rate', canonical: '/min', min: 10, max: 350 },
  [LOINC.respiratoryRate]: { name: 'respiratory rate', canonical: '/min', min: 1, max: 150 },
  [LOINC.spo2]: { name: 'SpO2 (pulse oximetry)', canonical: '%', extra: fraction, min: 0, max: 100 },
  [LOINC.spo2Arterial]: { name: 'SpO2 (arterial)', canonical: '%', extra: fraction, min: 0, max: 100 },
  [LOINC.bodyTemperature]: { name: 'body temperature', canonical: 'Cel', min: 20, max: 46 },
  [LOINC.systolic]: { name: 'systolic blood pressure', canonical: 'mm[Hg]', min: 20, max: 320 },
  [LOINC.diastolic]: { name: 'diastolic blood pressure', canonical: 'mm[Hg]', min: 10, max: 250 },
  [LOINC.bmi]: { name: 'body mass index', canonical: 'kg/m2', min: 5, max: 150 },
  [LOINC.bodyWeight]: { name: 'body weight', canonical: 'kg', min: 0.2, max: 700 },
  [LOINC.bodyHeight]: { name: 'body height', canonical: 'cm', min: 20, max: 280 },
  [LOINC.steps]: { name: 'step count', canonical: '{steps}', extra: count, min: 0, max: 1_000_000 },
};

/** A quantity to normalise. `unit` is the UCUM code when the source gives one, else its display unit. */
interface QuantityInput {
  code: string;
  value: number;
  unit: string | undefined;
}

/** The normalised quantity, or why it was refused. */
type NormalizedQuantity = { ok: true; value: number; unit: string } | { ok: false; reason: string };

/** Options: replace or extend the tables (e.g. with codes a feature schema names). */
export interface NormalizeOptions {
  codes?: Readonly<Record<string, CodeUnitRule>>;
}

/** Rounds away floating-point noise of a conversion (12 significant digits). */
const tidy = (v: number): number => Number.parseFloat(v.toPrecision(12));

/** Converts a quantity to the canonical unit of its code (see the module comment for the rules). */
export function normalizeQuantity(q: QuantityInput, options: NormalizeOptions = {}): NormalizedQuantity {
  if (!Number.isFinite(q.value)) return { ok: false, reason: 'value is not a finite number' };
  const unit = q.unit?.trim() ?? '';
  const rule = (options.codes ?? CODE_UNITS)[q.code];
  if (!rule) {
    const generic = Object.prototype.hasOwnProperty.call(UNIT_RULES, unit) ? UNIT_RULES[unit] : undefined;
    if (generic) return { ok: true, value: tidy(generic.convert(q.value)), unit: generic.canonical };
    return { ok: true, value: q.value, unit: unit === '' ? '1' : unit };
  }
  const own = rule.extra && Object.prototype.hasOwnProperty.call(rule.extra, unit) ? rule.extra[unit] : undefined;
  const generic = Object.prototype.hasOwnProperty.call(UNIT_RULES, unit) ? UNIT_RULES[unit] : undefined;
  const conv = own ?? (generic?.canonical === rule.canonical ? generic : undefined);
  if (!conv) {
    const given = unit === '' ? 'no unit' : `unit '${unit}'`;
    return {
      ok: false,
      reason: `${given} is not a unit of ${rule.name} (LOINC ${q.code}, expected ${rule.canonical} or a convertible unit)`,
    };
  }
  const value = tidy(conv.convert(q.value));
  if (value < rule.min || value > rule.max) {
    return {
      ok: false,
      reason: `${rule.name} ${value} ${rule.canonical} is outside the plausible range ${rule.min}-${rule.max}`,
    };
  }
  return { ok: true, value, unit: rule.canonical };
}
