import { isTwinfedError, type ErrorCode } from '@twinfed/shared';
import { CsvMappingSchema, parseCsvDataset } from './csv-dataset';
import { checkCsvDataset } from './csv-dataset-checks';

function mappingOf(raw: unknown) {
  return CsvMappingSchema.parse(raw);
}

/** The error `fn` throws, which must be a TwinfedError with `code`. */
function refusal(fn: () => unknown, code: ErrorCode): { message: string; details: unknown } {
  try {
    fn();
  } catch (e) {
    if (!isTwinfedError(e)) throw e;
    expect(e.code).toBe(code);
    return { message: e.message, details: e.details };
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

const rows = (n: number, row: (i: number) => string): string => Array.from({ length: n }, (_, i) => row(i)).join('\n');

describe('checkCsvDataset', () => {
  test('a label mapping that matches no row is refused as single-class, naming the column, the values found and the positives looked for', () => {
    // The Wisconsin breast cancer export codes the class as 2 (benign) / 4 (malignant): "malignant" matches nothing.
    const mapping = mappingOf({
      features: [
        { column: 'clump', name: 'clump' },
        { column: 'size', name: 'size' },
      ],
      label: { column: 'class', positive: ['malignant'] },
    });
    const text = `clump,size,class\n${rows(30, (i) => `${i % 10},${(i * 7) % 10},${i % 3 === 0 ? 4 : 2}`)}\n`;
    const ds = parseCsvDataset({ text, ...mapping });
    const { message, details } = refusal(() => checkCsvDataset(ds, mapping), 'DATA_SINGLE_CLASS');
    expect(message).toContain('"class"');
    expect(message).toMatch(/"2" ×20, "4" ×10/);
    expect(message).toContain('"malignant"');
    expect(message).toMatch(/0 positive/);
    expect(details).toMatchObject({
      column: 'class',
      positive: 0,
      negative: 30,
      values: [
        { value: '2', count: 20 },
        { value: '4', count: 10 },
      ],
      lookedFor: ['malignant'],
    });
  });

  test('the same data with the right positive value pass', () => {
    const mapping = mappingOf({
      features: [
        { column: 'clump', name: 'clump' },
        { column: 'size', name: 'size' },
      ],
      label: { column: 'class', positive: [4] },
    });
    const text = `clump,size,class\n${rows(30, (i) => `${i % 10},${(i * 7) % 10},${i % 3 === 0 ? 4 : 2}`)}\n`;
    const ds = parseCsvDataset({ text, ...mapping });
    expect(() => checkCsvDataset(ds, mapping)).not.toThrow();
  });

  test('a constant feature column is refused, naming the column (unless the mapping allows it)', () => {
    const raw = {
      features: [
        { column: 'Age', name: 'age' },
        { column: 'Chol', name: 'chol' },
      ],
      label: { column: 'y', positive: [1] },
    };
    const text = `Age,Chol,y\n${rows(30, (i) => `${40 + i},0,${i % 2}`)}\n`;
    const mapping = mappingOf(raw);
    const { message, details } = refusal(
      () => checkCsvDataset(parseCsvDataset({ text, ...mapping }), mapping),
      'DATA_FEATURE_CONSTANT',
    );
    expect(message).toContain('"Chol"');
    expect(message).toContain('30 usable rows');
    expect(details).toMatchObject({ column: 'Chol', value: 0, rows: 30 });
    const allowed = mappingOf({
      ...raw,
      features: [raw.features[0], { column: 'Chol', name: 'chol', allowConstant: true }],
    });
    expect(() => checkCsvDataset(parseCsvDataset({ text, ...allowed }), allowed)).not.toThrow();
  });

  test('a feature column without any usable value is refused as missing, naming the column', () => {
    const mapping = mappingOf({
      features: [
        { column: 'Age', name: 'age' },
        { column: 'Sex', name: 'sex' },
      ],
      label: { column: 'y', positive: [1] },
    });
    const text = `Age,Sex,y\n${rows(30, (i) => `${40 + i},${i % 4 === 0 ? '' : i % 2 ? 'M' : 'F'},${i % 2}`)}\n`;
    const ds = parseCsvDataset({ text, ...mapping });
    expect(ds.n).toBe(0);
    const { message, details } = refusal(() => checkCsvDataset(ds, mapping), 'DATA_FEATURE_MISSING');
    expect(message).toContain('"Sex"');
    expect(details).toMatchObject({ column: 'Sex', rows: 30, missing: 8, nonNumeric: 22 });
  });

  test('no usable row at all is refused as too few rows', () => {
    const mapping = mappingOf({
      features: [
        { column: 'a', name: 'a' },
        { column: 'b', name: 'b' },
      ],
      label: { column: 'y', positive: [1] },
    });
    // every row misses one of the two features, but each column has values
    const text = `a,b,y\n${rows(10, (i) => (i % 2 ? `${i},,1` : `,${i},0`))}\n`;
    const ds = parseCsvDataset({ text, ...mapping });
    const { message } = refusal(() => checkCsvDataset(ds, mapping), 'DATA_TOO_FEW_ROWS');
    expect(message).toMatch(/no usable row: all 10 rows rejected/);
  });

  test('rows rejected so that only one class is left are refused as single-class', () => {
    const mapping = mappingOf({ features: [{ column: 'a', name: 'a' }], label: { column: 'y', positive: ['yes'] } });
    const text = `a,y\n${rows(20, (i) => (i % 2 ? `${i},no` : `?,yes`))}\n`;
    const { message, details } = refusal(
      () => checkCsvDataset(parseCsvDataset({ text, ...mapping }), mapping),
      'DATA_SINGLE_CLASS',
    );
    expect(message).toMatch(/0 positive and 10 negative usable rows/);
    expect(details).toMatchObject({ column: 'y', positive: 0, negative: 10 });
  });

  test('time-to-event data without any observed event are refused; data without censoring pass', () => {
    const mapping = mappingOf({ features: [{ column: 'age', name: 'age' }], label: { time: 'days', event: 'died' } });
    const text = (event: (i: number) => number) =>
      `age,days,died\n${rows(30, (i) => `${40 + i},${10 + i},${event(i)}`)}\n`;
    const none = parseCsvDataset({ text: text(() => 0), ...mapping });
    const { message } = refusal(() => checkCsvDataset(none, mapping), 'DATA_SINGLE_CLASS');
    expect(message).toMatch(/The event column "died" has no observed event: 0 events and 30 censored rows/);
    expect(() => checkCsvDataset(parseCsvDataset({ text: text(() => 1), ...mapping }), mapping)).not.toThrow();
    expect(() => checkCsvDataset(parseCsvDataset({ text: text((i) => i % 2), ...mapping }), mapping)).not.toThrow();
  });
});
