import { StrategySchema } from '@twinfed/shared';
import { createStrategy } from './registry';

describe('createStrategy', () => {
  test('builds the registered aggregation of every strategy a plan can name, under that name', () => {
    const defaults: Record<string, object> = {
      fedprox: { mu: 0.1 },
      fedadam: { serverLr: 0.1 },
      fedyogi: { serverLr: 0.1 },
      fedadagrad: { serverLr: 0.1 },
      centeredclip: { radius: 1 },
    };
    for (const option of StrategySchema.options) {
      const name = option.shape.name.value;
      const config = StrategySchema.parse({ name, ...defaults[name] });
      expect(createStrategy(config).name).toBe(name);
    }
  });
});
