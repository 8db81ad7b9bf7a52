import fs from 'node:fs';
import path from 'node:path';
import { initialWeights, isCoxModel, layoutOf, type ModelSpec } from '../model-spec';
import { PlanSchema } from './plan';
import { STRATEGIES } from '../strategies/registry';
import { PLAN, problems } from '../__tests__/plan-fixture';

const COX = { ...PLAN, model: { kind: 'cox', inputs: 2 } };

describe('PlanSchema Cox models', () => {
  test('fills ties (breslow) and horizonDays (365), takes efron, and refuses them on a binary model', () => {
    expect(PlanSchema.parse(COX).model).toEqual({ kind: 'cox', inputs: 2, ties: 'breslow', horizonDays: 365 });
    expect(
      PlanSchema.parse({ ...COX, model: { kind: 'cox', inputs: 2, ties: 'efron', horizonDays: 30 } }).model,
    ).toEqual({ kind: 'cox', inputs: 2, ties: 'efron', horizonDays: 30 });
    expect(problems({ ...PLAN, model: { kind: 'logistic-regression', inputs: 2, ties: 'efron' } })).not.toEqual([]);
    expect(problems({ ...COX, model: { kind: 'cox', inputs: 2, ties: 'exact' } })).not.toEqual([]);
    expect(problems({ ...COX, model: { kind: 'cox', inputs: 2, horizonDays: 0 } })).not.toEqual([]);
  });

  test('a Cox MLP has the MLP layout; a linear Cox model the logistic-regression one, seeded the same way', () => {
    const coxMlp: ModelSpec = {
      kind: 'cox-mlp',
      inputs: 2,
      hidden: [4],
      activation: 'relu',
      ties: 'breslow',
      horizonDays: 365,
    } as const;
    expect(layoutOf(coxMlp)).toEqual(layoutOf({ kind: 'mlp', inputs: 2, hidden: [4], activation: 'relu' }));
    const cox = { kind: 'cox', inputs: 2, ties: 'breslow', horizonDays: 365 } as const;
    expect(initialWeights(cox, 7)).toEqual(initialWeights({ kind: 'logistic-regression', inputs: 2 }, 7));
    expect(isCoxModel(cox) && isCoxModel(coxMlp)).toBe(true);
    expect(isCoxModel({ kind: 'mlp', inputs: 2, hidden: [4], activation: 'relu' })).toBe(false);
  });

  test('runs with every registered strategy (they all work on weights)', () => {
    const options: Record<string, object> = {
      fedprox: { mu: 0.1 },
      fedadam: { serverLr: 0.1 },
      fedyogi: { serverLr: 0.1 },
      fedadagrad: { serverLr: 0.1 },
      fedtrimmedavg: { beta: 0.1 },
      krum: { byzantine: 1 },
      centeredclip: { radius: 1 },
    };
    for (const s of STRATEGIES) {
      const strategy = { name: s.name, ...options[s.name] };
      const minSites = s.name === 'cyclic' ? 1 : 9;
      expect([s.name, problems({ ...COX, strategy, minSites })]).toEqual([s.name, []]);
    }
  });

  test('refuses binary twin labels and mini-batches of one row, saying why', () => {
    const twin = JSON.parse(
      fs.readFileSync(path.join(__dirname, '../../../examples/plans/twin-infection-risk.json'), 'utf8'),
    ) as { model: { inputs: number }; data: { labelRule: { kind: string } } };
    expect(problems({ ...twin, model: { kind: 'cox', inputs: twin.model.inputs } })).toEqual([
      `data.labelRule: a cox model needs time-to-event rows: on twins, data.labelRule of kind "time-to-event" (days from the snapshot to the outcome's onset, censored at the last record or the horizon), not "${twin.data.labelRule.kind}" binary labels`,
    ]);
    expect(problems({ ...COX, training: { ...COX.training, batchSize: 1 } })).toEqual([
      'training.batchSize: a cox model needs training.batchSize ≥ 2: its partial likelihood compares the rows of a mini-batch, and one row alone teaches nothing',
    ]);
  });

  test('takes a time-to-event label rule on twins, and says why it refuses a mismatched one', () => {
    const twin = JSON.parse(
      fs.readFileSync(path.join(__dirname, '../../../examples/plans/twin-infection-risk.json'), 'utf8'),
    ) as { model: { inputs: number }; data: { labelRule: { conditionCodes: unknown } } };
    const tte = { kind: 'time-to-event', conditionCodes: twin.data.labelRule.conditionCodes, horizonDays: 30 };
    const data = { ...twin.data, labelRule: tte };
    const cox = { kind: 'cox', inputs: twin.model.inputs, horizonDays: 30 };
    expect(problems({ ...twin, model: cox, data })).toEqual([]);
    expect(PlanSchema.parse({ ...twin, model: cox, data }).data.labelRule).toEqual({ ...tte, excludePrior: true });
    expect(problems({ ...twin, data })).toEqual([
      'data.labelRule.kind: a time-to-event label needs a cox or cox-mlp model; a logistic-regression model learns a binary label (use "condition-onset")',
    ]);
    expect(problems({ ...twin, model: { ...cox, horizonDays: 365 }, data })).toEqual([
      'model.horizonDays: model.horizonDays (365) must not exceed data.labelRule.horizonDays (30): the risk at the horizon needs follow-up that long',
    ]);
    expect(problems({ ...twin, model: cox, data: { ...data, labelRule: { ...tte, horizonDays: 0 } } })).not.toEqual([]);
    const stored = { ...twin.data, labelRule: undefined };
    expect(problems({ ...twin, model: cox, data: stored })).toEqual([
      `data.labelRule: a cox model needs time-to-event rows: on twins, data.labelRule of kind "time-to-event" (days from the snapshot to the outcome's onset, censored at the last record or the horizon), not stored binary labels`,
    ]);
  });
});
