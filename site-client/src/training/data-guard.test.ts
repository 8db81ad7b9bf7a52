import { TwinfedError, type ErrorCode } from '@twinfed/shared';
import { TEST_FEATURES, testPlan } from '../__tests__/fake-coordinator';
import { syntheticSplit } from '../__tests__/fixtures';
import { loadLocalData } from '../cli/load-data';
import { assertTrainableData } from './data-guard';
import type { LocalDataset } from './dataset';

function code(fn: () => void): ErrorCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (e) {
    if (e instanceof TwinfedError) return e.code;
    throw e;
  }
}

const dataset = (train: number, test: number): LocalDataset => ({
  features: TEST_FEATURES,
  train: syntheticSplit(train, 1),
  test: syntheticSplit(test, 2),
});
const allLabels = (ds: LocalDataset, y: number): LocalDataset => ({
  ...ds,
  train: { ...ds.train, y: ds.train.y.map(() => y) },
  test: { ...ds.test, y: ds.test.y.map(() => y) },
});

describe('assertTrainableData', () => {
  test('fewer training rows than the plan’s data.minExamplesPerSite are refused (DATA_TOO_FEW_ROWS)', () => {
    const plan = testPlan({ data: { features: TEST_FEATURES, minExamplesPerSite: 50 } });
    expect(code(() => assertTrainableData(plan, dataset(49, 20)))).toBe('DATA_TOO_FEW_ROWS');
    expect(code(() => assertTrainableData(plan, dataset(50, 20)))).toBe('none');
    expect(() => assertTrainableData(plan, dataset(49, 20))).toThrow(/49 training rows.*data\.minExamplesPerSite.*50/);
  });

  test('the default minimum is 20 training rows', () => {
    const plan = testPlan();
    expect(plan.data.minExamplesPerSite).toBe(20);
    expect(code(() => assertTrainableData(plan, dataset(19, 20)))).toBe('DATA_TOO_FEW_ROWS');
    expect(code(() => assertTrainableData(plan, dataset(20, 20)))).toBe('none');
  });

  test('usable rows of one label class only are refused (DATA_SINGLE_CLASS), naming the label and the counts', () => {
    const plan = testPlan();
    for (const y of [0, 1]) {
      expect(code(() => assertTrainableData(plan, allLabels(dataset(40, 20), y)))).toBe('DATA_SINGLE_CLASS');
    }
    expect(() => assertTrainableData(plan, allLabels(dataset(40, 20), 0))).toThrow(
      /label "target".*0 positive and 60 negative/,
    );
  });

  test('a training split of one class is fine while the site has both classes (FLamby’s Switzerland center)', () => {
    const ds = dataset(40, 20);
    const trainAllPositive: LocalDataset = {
      ...ds,
      train: { ...ds.train, y: ds.train.y.map(() => 1) },
      test: { ...ds.test, y: ds.test.y.map((_, i) => (i === 0 ? 0 : 1)) },
    };
    expect(code(() => assertTrainableData(testPlan(), trainAllPositive))).toBe('none');
  });

  test('every bundled heart-disease center passes with the default minimum (the demo keeps its four sites)', () => {
    for (const center of [0, 1, 2, 3]) {
      const { dataset } = loadLocalData({ kind: 'heart-disease', center });
      expect(code(() => assertTrainableData(testPlan(), dataset))).toBe('none');
    }
  });
});
