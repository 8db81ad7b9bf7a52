import * as api from '@twinfed/models';

describe('@twinfed/models public API', () => {
  it('exports the documented entry points', () => {
    for (const name of [
      'initBackend', 'loadHeartDisease', 'loadHeartDiseasePooled', 'dataDir', 'parseCsvDataset', 'fitStandardizer', 'applyStandardizer',
      'createModel', 'createTrainer', 'predict', 'evaluate', 'explain', 'accuracy', 'rocAuc', 'logLoss', 'brierScore', 'calibrationBins',
    ] as const) {
      expect(typeof api[name]).toBe('function');
    }
    expect(api.HEART_DISEASE_FEATURES).toHaveLength(13);
    expect(api.CsvMappingSchema.safeParse({ features: [{ column: 'a', name: 'a' }], label: { column: 'y', positive: [1] } }).success).toBe(true);
  });
});
