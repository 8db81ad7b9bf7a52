/** Cyclic training: one site per round (aggregation: coordinator/src/strategies/cyclic.ts). */
import { z } from 'zod';
import { declareStrategy } from './declare';

export const cyclic = declareStrategy({
  name: 'cyclic',
  meaning: 'Cyclic: one site per round trains the model and passes it on (no averaging).',
  options: {
    deterministic: z
      .boolean()
      .default(false)
      .describe(
        'Visit the sites in sorted order every cycle (true), or reshuffle the order each cycle from the seed (false).',
      ),
  },
  aggregation: 'relay',
  rules: ['`cyclic` trains one site per round: `minSites` must be 1.'],
  checkPlan: (_config, plan) =>
    plan.minSites !== 1
      ? [{ path: ['minSites'], message: 'cyclic trains one site per round: minSites must be 1' }]
      : [],
});
