import { DAY_MS, FeatureDerivationSchema, type FeatureDerivation, type FeatureDerivationInput } from '@twinfed/shared';
import type { TwinSnapshot } from '../../twins/types';

/** Test helpers: a snapshot time and builders of hand-written twins and derivations. */

/** 2024-01-31T00:00:00Z, the snapshot time of the hand-computed examples. */
export const AT = Date.UTC(2024, 0, 31);

/** `AT` shifted by a number of days (fractions allowed). */
export function day(offset: number): number {
  return AT + offset * DAY_MS;
}

/** A twin with consent for training and scoring and nothing else unless overridden. */
export function twin(overrides: Partial<TwinSnapshot> = {}): TwinSnapshot {
  return {
    pid: 'p1',
    birthDate: '1950-02-01',
    sex: 'female',
    observations: [],
    conditions: [],
    immunizations: [],
    exposures: [],
    consent: [
      { purpose: 'model-training', decision: 'permit', t: day(-100) },
      { purpose: 'scoring', decision: 'permit', t: day(-100) },
    ],
    label: null,
    ...overrides,
  };
}

/** An observation of `code` in canonical `unit`, `offset` days from `AT`. */
export function obs(code: string, offset: number, value: number, unit = '/min'): TwinSnapshot['observations'][number] {
  return { code, t: day(offset), value, unit, source: 'stream' };
}

/** A validated derivation (defaults filled in). */
export function derivation(input: FeatureDerivationInput): FeatureDerivation {
  return FeatureDerivationSchema.parse(input);
}
