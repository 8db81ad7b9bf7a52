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

  describe('a time-to-event label', () => {
    const survival = CsvMappingSchema.parse({
      features: [{ column: 'Age', name: 'age' }],
      label: { time: 'Days', event: 'Died' },
    });

    test('reads times and 0/1 events, and profiles the event column', () => {
      const ds = parseCsvDataset({ text: 'Age,Days,Died\n63,120,1\n40,365.5,0\n55,30,1.0\n', ...survival });
      expect(Array.from(ds.y)).toEqual([1, 0, 1]);
      expect(Array.from(ds.time!)).toEqual([120, 365.5, 30]);
      expect(ds.profile.label).toMatchObject({ column: 'Died', positive: 2, negative: 1, missing: 0, unknown: 0 });
    });

    test('rejects a time that is missing or not > 0 and an event other than 0 or 1, naming the column', () => {
      const text = 'Age,Days,Died\n1,,1\n2,0,1\n3,-4,0\n4,abc,1\n5,10,2\n6,10,\n7,10,0\n';
      const ds = parseCsvDataset({ text, ...survival });
      expect(ds.n).toBe(1);
      expect(ds.rejected).toEqual([
        { line: 2, column: 'Days', reason: 'missing time in Days' },
        { line: 3, column: 'Days', reason: 'time in Days is not a number > 0' },
        { line: 4, column: 'Days', reason: 'time in Days is not a number > 0' },
        { line: 5, column: 'Days', reason: 'time in Days is not a number > 0' },
        { line: 6, column: 'Died', reason: 'event in Died is not 0 or 1' },
        { line: 7, column: 'Died', reason: 'missing event in Died' },
      ]);
      expect(ds.profile.label).toMatchObject({ missing: 2, unknown: 4, negative: 1 });
    });

    test('a binary label has no times, and a label cannot mix both forms', () => {
      expect(parseCsvDataset({ text: 'Age,Chol,Outcome\n1,2,yes\n', ...mapping }).time).toBeUndefined();
      expect(
        CsvMappingSchema.safeParse({
          features: [{ column: 'Age', name: 'age' }],
          label: { time: 'Days', event: 'Died', column: 'Died' },
        }).success,
      ).toBe(false);
    });
  });
});
