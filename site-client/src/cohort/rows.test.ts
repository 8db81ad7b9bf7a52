import { CohortQuerySchema, DAY_MS } from '@twinfed/shared';
import type { TwinSnapshot } from '../twins/types';
import { rowsFromDataset, rowsFromTwins } from './rows';

const AT = Date.UTC(2024, 0, 31);
const RHR = '40443-4';

function twin(pid: string, birthDate: string | null, consent: 'permit' | 'deny' | null, rhr: number[]): TwinSnapshot {
  return {
    pid,
    birthDate,
    sex: 'female',
    observations: rhr.map((value, i) => ({
      code: RHR,
      t: AT - (i + 1) * DAY_MS,
      value,
      unit: '/min',
      source: 'stream',
    })),
    conditions: [],
    immunizations: [],
    exposures: [],
    consent: consent === null ? [] : [{ purpose: 'model-training', decision: consent, t: AT - 100 * DAY_MS }],
    label: null,
  };
}

describe('rowsFromTwins', () => {
  test('only twins consenting to model training; features derived as the query says; age from the birth date', () => {
    const query = CohortQuerySchema.parse({
      title: 't',
      source: {
        kind: 'twins',
        at: new Date(AT).toISOString(),
        derive: [{ name: 'rhr', kind: 'mean', source: { loinc: [RHR] }, unit: '/min', windowDays: 7 }],
      },
      summaries: { features: ['rhr', 'age'] },
    });
    const rows = rowsFromTwins(
      [
        twin('a', '1950-01-01', 'permit', [60, 70]),
        twin('b', null, 'permit', []),
        twin('c', '1990-06-15', 'deny', [80]),
        twin('d', '2000-01-01', null, [90]),
      ],
      query,
      0,
    );
    expect(rows.n).toBe(2);
    expect(Array.from(rows.columns.get('rhr')!)).toEqual([65, NaN]);
    expect(Array.from(rows.columns.get('age')!)).toEqual([74, NaN]);
    expect(rows.description).toContain('2 of 4 twins consent to model training');
  });
});

describe('rowsFromDataset', () => {
  test('training and test rows together, each feature by name, and the outcome as label', () => {
    const split = (x: number[], y: number[]) => ({
      x: Float32Array.from(x),
      y: Float32Array.from(y),
      n: y.length,
      d: 2,
    });
    const rows = rowsFromDataset(
      { features: ['age', 'bmi'], train: split([40, 20, 50, 30], [0, 1]), test: split([60, 25], [1]) },
      'clinic.csv',
    );
    expect(rows.n).toBe(3);
    expect(Array.from(rows.columns.get('age')!)).toEqual([40, 50, 60]);
    expect(Array.from(rows.columns.get('bmi')!)).toEqual([20, 30, 25]);
    expect(Array.from(rows.columns.get('label')!)).toEqual([0, 1, 1]);
  });
});
