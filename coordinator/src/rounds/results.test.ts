import { trainingMetrics } from './results';

describe('trainingMetrics', () => {
  test('publishes the example-weighted mean of the `trainLoss` plain-mode sites send', () => {
    const m = trainingMetrics([
      { numExamples: 10, metrics: { steps: 5, trainLoss: 1 } },
      { numExamples: 30, metrics: { steps: 5, trainLoss: 0.5 } },
    ]);
    expect(m).toEqual({ trainLoss: (10 * 1 + 30 * 0.5) / 40, numExamples: 40 });
  });

  test('sites without a finite trainLoss are left out of the mean; none at all: no trainLoss', () => {
    expect(
      trainingMetrics([
        { numExamples: 10, metrics: { trainLoss: 2 } },
        { numExamples: 5, metrics: { steps: 1 } },
        { numExamples: 5, metrics: null },
      ]),
    ).toEqual({ trainLoss: 2, numExamples: 20 });
    expect(trainingMetrics([{ numExamples: 3, metrics: { steps: 1 } }])).toEqual({ numExamples: 3 });
  });
});
