import * as api from '@twinfed/models';

describe('@twinfed/models public API', () => {
  test('exports the entry points the site client and the benchmarks use', () => {
    for (const name of [
      'initBackend',
      'loadHeartDisease',
      'loadHeartDiseasePooled',
      'parseCsvDataset',
      'checkCsvDataset',
      'fitStandardizer',
      'applyStandardizer',
      'createTrainer',
      'predict',
      'evaluate',
      'explain',
    ] as const) {
      expect(typeof api[name]).toBe('function');
    }
    expect(api.HEART_DISEASE_FEATURES).toHaveLength(13);
    expect(
      api.CsvMappingSchema.safeParse({ features: [{ column: 'a', name: 'a' }], label: { column: 'y', positive: [1] } })
        .success,
    ).toBe(true);
  });
});
