import { CsvMappingSchema, parseCsvDataset } from './csv-dataset';

const mapping = CsvMappingSchema.parse({
  features: [
    { column: 'Age', name: 'age' },
    { column: 'Chol', name: 'chol' },
  ],
  label: { column: 'Outcome', positive: ['yes', 1] },
});

describe('parseCsvDataset', () => {
  test('maps columns in mapping order and labels by positive values', () => {
    const text = 'id,Chol,Age,Outcome\n1,200,63,yes\n2,180.5,40,no\n3,210,55,1.0\n';
    const ds = parseCsvDataset({ text, ...mapping });
    expect(ds.n).toBe(3);
    expect(ds.d).toBe(2);
    expect(ds.featureNames).toEqual(['age', 'chol']);
    expect(Array.from(ds.x)).toEqual([63, 200, 40, 180.5, 55, 210]);
    expect(Array.from(ds.y)).toEqual([1, 0, 1]);
    expect(ds.rejected).toEqual([]);
  });

  test('rejects bad rows with reasons and keeps the good ones', () => {
    const text = 'Age,Chol,Outcome\n63,200,yes\n,180,no\n50,abc,no\n41,190,\n"39",170,no\r\n';
    const ds = parseCsvDataset({ text, ...mapping });
    expect(ds.n).toBe(2);
    expect(Array.from(ds.x)).toEqual([63, 200, 39, 170]);
    expect(ds.rejected).toEqual([
      { line: 3, column: 'Age', reason: 'missing value in Age' },
      { line: 4, column: 'Chol', reason: 'non-numeric value in Chol' },
      { line: 5, column: 'Outcome', reason: 'missing label Outcome' },
    ]);
  });

  test('rejects unknown labels when negatives are declared', () => {
    const strict = CsvMappingSchema.parse({
      ...mapping,
      label: { column: 'Outcome', positive: ['yes'], negative: ['no'] },
    });
    const ds = parseCsvDataset({ text: 'Age,Chol,Outcome\n1,2,yes\n3,4,maybe\n5,6,no\n', ...strict });
    expect(Array.from(ds.y)).toEqual([1, 0]);
    expect(ds.rejected).toEqual([{ line: 3, column: 'Outcome', reason: 'unknown label value in Outcome' }]);
  });

  test('throws when a mapped column is missing from the header', () => {
    expect(() => parseCsvDataset({ text: 'Age,Outcome\n1,yes\n', ...mapping })).toThrow(
      /Chol is not in the CSV header/,
    );
  });

  test('validates mappings', () => {
    expect(CsvMappingSchema.safeParse({ features: [], label: { column: 'y', positive: [1] } }).success).toBe(false);
    expect(
      CsvMappingSchema.safeParse({
        features: [
          { column: 'a', name: 'x' },
          { column: 'b', name: 'x' },
        ],
        label: { column: 'y', positive: [1] },
      }).success,
    ).toBe(false);
    expect(
      CsvMappingSchema.safeParse({ features: [{ column: 'a', name: 'x' }], label: { column: 'y', positive: [] } })
        .success,
    ).toBe(false);
    expect(
      CsvMappingSchema.safeParse({
        features: [{ column: 'a', name: 'x', extra: 1 }],
        label: { column: 'y', positive: [1] },
      }).success,
    ).toBe(false);
  });
});
