import type { FeatureColumn, FeatureDerivation } from '@twinfed/shared';
import { LOINC } from '../ingest/fhir/codes';

/**
 * Words a clinician reads: names of LOINC codes, display forms of canonical UCUM units, and the sentence
 * fragment that explains one feature's share of a score ("resting heart rate 7-day mean 96 bpm, +0.8").
 */

/** Clinical names of the LOINC codes the twin scenario uses; the unit overrides the UCUM display where clearer. */
export const LOINC_NAMES: Readonly<Record<string, { name: string; unit?: string }>> = {
  [LOINC.heartRate]: { name: 'heart rate', unit: 'bpm' },
  [LOINC.restingHeartRate]: { name: 'resting heart rate', unit: 'bpm' },
  [LOINC.spo2]: { name: 'SpO2' },
  [LOINC.spo2Arterial]: { name: 'SpO2' },
  [LOINC.bodyTemperature]: { name: 'body temperature' },
  [LOINC.respiratoryRate]: { name: 'respiratory rate', unit: 'breaths/min' },
  [LOINC.systolic]: { name: 'systolic blood pressure' },
  [LOINC.diastolic]: { name: 'diastolic blood pressure' },
  [LOINC.bmi]: { name: 'BMI' },
  [LOINC.steps]: { name: 'step count', unit: 'steps' },
  [LOINC.hba1c]: { name: 'HbA1c' },
  [LOINC.egfr]: { name: 'eGFR' },
};

/** Display forms of canonical UCUM units. */
export const UCUM_DISPLAY: Readonly<Record<string, string>> = {
  '/min': '/min',
  Cel: '°C',
  '[degF]': '°F',
  '%': '%',
  'kg/m2': 'kg/m²',
  'mm[Hg]': 'mmHg',
  a: 'years',
  '/d': '/day',
  '{steps}': 'steps',
  '{steps}/d': 'steps/day',
  'mL/min/{1.73_m2}': 'mL/min/1.73 m²',
};

function codeInfo(d: FeatureDerivation): { name: string; unit: string } {
  if (!('unit' in d)) return { name: d.name.replace(/_/g, ' '), unit: '' };
  const first = d.source.loinc[0]!;
  const known = LOINC_NAMES[first];
  return { name: known?.name ?? `LOINC ${first}`, unit: known?.unit ?? UCUM_DISPLAY[d.unit] ?? d.unit };
}

/** The human label of a derivation: its `label`, else words from its kind, codes and window. */
function derivationLabel(d: FeatureDerivation): string {
  if (d.label) return d.label;
  const span = 'windowDays' in d && d.windowDays !== undefined ? `${d.windowDays}-day ` : '';
  switch (d.kind) {
    case 'latest':
      return `latest ${codeInfo(d).name}`;
    case 'mean':
    case 'min':
    case 'max':
      return `${codeInfo(d).name} ${span}${{ mean: 'mean', min: 'minimum', max: 'maximum' }[d.kind]}`;
    case 'slope':
      return `${codeInfo(d).name} ${span}trend`;
    case 'count':
      return `${d.name.replace(/_/g, ' ')}${span ? ` (${span.trim()})` : ''}`;
    case 'age':
    case 'sex':
      return d.kind;
    default:
      return d.name.replace(/_/g, ' ');
  }
}

/** A number as a clinician reads it: integers stay, others keep one decimal (two below 1). */
export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 1 ? 1 : 2;
  return String(Number(v.toFixed(digits)));
}

/** A contribution in log-odds with its sign: `+0.8`, `-1.2` (two decimals below 0.05). */
export function formatContribution(c: number): string {
  const digits = Math.abs(c) < 0.05 ? 2 : 1;
  const text = Math.abs(c).toFixed(digits);
  return `${c < 0 && Number(text) !== 0 ? '-' : '+'}${text}`;
}

function valueWords(d: FeatureDerivation, raw: number): string {
  switch (d.kind) {
    case 'latest':
    case 'mean':
    case 'min':
    case 'max': {
      const { unit } = codeInfo(d);
      return `${formatNumber(raw)}${unit ? ` ${unit}` : ''}`;
    }
    case 'slope': {
      const { unit } = codeInfo(d);
      return `${raw > 0 ? '+' : ''}${formatNumber(raw)} ${unit}/day`;
    }
    case 'count':
      return formatNumber(raw);
    case 'age':
      return `${formatNumber(raw)} years`;
    case 'sex':
      return raw === 1 ? d.equals : `not ${d.equals}`;
    default:
      return raw === 1 ? 'yes' : 'no';
  }
}

/** Options of {@link describeContribution}. */
interface DescribeOptions {
  column: FeatureColumn;
  /** The raw, un-normalised value (null when the twin had no data and the missing-value policy filled it). */
  raw: number | null;
  /** The value the missing-value policy used instead. */
  filled: number;
  contribution: number;
}

/**
 * The sentence fragment for one feature's share of a score, e.g. `resting heart rate 7-day mean 96 bpm, +0.8`,
 * `diabetes: yes, +0.7`, `SpO2 7-day mean not recorded (94.5 % assumed), +0.1`,
 * `resting heart rate 7-day mean not recorded, -0.2` (a missing indicator).
 */
export function describeContribution(options: DescribeOptions): string {
  const { column, raw, filled, contribution } = options;
  const d = column.derivation;
  const label = derivationLabel(d);
  const share = formatContribution(contribution);
  if (column.role === 'indicator') return `${label} ${raw === 1 ? 'not recorded' : 'recorded'}, ${share}`;
  const yesNo = d.kind === 'onehot' || d.kind === 'vaccinated' || d.kind === 'exposed' || d.kind === 'sex';
  if (raw === null) return `${label} not recorded (${valueWords(d, filled)} assumed), ${share}`;
  return `${label}${yesNo ? ':' : ''} ${valueWords(d, raw)}, ${share}`;
}
