import { StrategySchema } from '../schemas/plan';
import { clientTermsFor, STRATEGIES, strategiesAggregating, strategyDeclaration } from './registry';

describe('strategy registry', () => {
  test('feeds the plan schema: its union is exactly the registered strategies, each under its own name', () => {
    const union = StrategySchema.options.map((o) => o.shape.name.value);
    expect(union).toEqual(STRATEGIES.map((s) => s.name));
    for (const s of STRATEGIES) expect(strategyDeclaration(s.name)).toBe(s);
    expect(new Set(union).size).toBe(union.length);
  });

  test('sorts every strategy into one aggregation kind', () => {
    const kinds = [
      ...strategiesAggregating('mean'),
      ...strategiesAggregating('individual'),
      ...strategiesAggregating('relay'),
    ];
    expect(kinds.sort()).toEqual(STRATEGIES.map((s) => s.name).sort());
  });

  test('gives the site the declared client terms: the round overrides the plan, plain training otherwise', () => {
    expect(clientTermsFor({ name: 'fedavg', serverLr: 1 }, {})).toEqual({});
    expect(clientTermsFor({ name: 'fedprox', mu: 0.1, serverLr: 1 }, {})).toEqual({ proximal: { mu: 0.1 } });
    expect(clientTermsFor({ name: 'fedprox', mu: 0.1, serverLr: 1 }, { proximalMu: 0.5 })).toEqual({
      proximal: { mu: 0.5 },
    });
    expect(clientTermsFor({ name: 'scaffold', serverLr: 2 }, {})).toEqual({ controlVariates: { serverLr: 2 } });
    expect(clientTermsFor({ name: 'scaffold', serverLr: 2 }, { scaffold: { serverLr: 0.5 } })).toEqual({
      controlVariates: { serverLr: 0.5 },
    });
    expect(clientTermsFor({ name: 'scaffold', serverLr: 2 }, { scaffold: { serverLr: -1 } })).toEqual({
      controlVariates: { serverLr: 2 },
    });
  });

  test('runs a strategy’s own plan rules', () => {
    expect(
      strategyDeclaration('krum').checkPlan(
        { name: 'krum', byzantine: 1, multi: 1 },
        { minSites: 4, training: { optimizer: 'sgd' } },
      ),
    ).toHaveLength(1);
    expect(
      strategyDeclaration('krum').checkPlan(
        { name: 'krum', byzantine: 1, multi: 1 },
        { minSites: 5, training: { optimizer: 'sgd' } },
      ),
    ).toEqual([]);
    expect(
      strategyDeclaration('cyclic').checkPlan(
        { name: 'cyclic', deterministic: false },
        { minSites: 2, training: { optimizer: 'sgd' } },
      ),
    ).toHaveLength(1);
    expect(
      strategyDeclaration('scaffold').checkPlan(
        { name: 'scaffold', serverLr: 1 },
        { minSites: 2, training: { optimizer: 'adam' } },
      ),
    ).toHaveLength(1);
  });
});
