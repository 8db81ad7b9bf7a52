/** FedAvg and its client-side variants FedProx and SCAFFOLD (aggregation: coordinator/src/strategies/fedavg.ts). */
import { z } from 'zod';
import { declareStrategy, serverLr1 } from './declare';

export const fedavg = declareStrategy({
  name: 'fedavg',
  meaning: 'FedAvg: the mean of the site models weighted by their training rows.',
  options: { serverLr: serverLr1 },
  aggregation: 'mean',
});

export const fedprox = declareStrategy({
  name: 'fedprox',
  meaning:
    'FedProx: FedAvg with a proximal term μ/2·‖w − w_global‖² in each site’s local loss (robust to heterogeneous sites).',
  options: {
    mu: z.number().min(0).max(100).describe('Weight μ of the proximal term (0 is FedAvg).'),
    serverLr: serverLr1,
  },
  aggregation: 'mean',
  /** The round's `proximalMu` (sent by the coordinator), else the plan's mu. */
  clientTerms: (config, clientConfig) => ({
    proximal: { mu: typeof clientConfig.proximalMu === 'number' ? clientConfig.proximalMu : config.mu },
  }),
});

export const scaffold = declareStrategy({
  name: 'scaffold',
  meaning: 'SCAFFOLD: FedAvg with control variates that correct each site’s client drift.',
  options: { serverLr: serverLr1 },
  aggregation: 'mean',
  rules: ['`scaffold` needs `training.optimizer` `sgd`: its control variates are a gradient estimate from lr × steps.'],
  checkPlan: (_config, plan) =>
    plan.training.optimizer !== 'sgd'
      ? [
          {
            path: ['training', 'optimizer'],
            message:
              'scaffold needs training.optimizer "sgd": its control variates are (w_global − w_local) / (lr × steps), a gradient estimate only for plain SGD steps',
          },
        ]
      : [],
  /** The round's `scaffold.serverLr` (sent by the coordinator), else the plan's. */
  clientTerms: (config, clientConfig) => {
    const cfg = clientConfig.scaffold as { serverLr?: unknown } | undefined;
    const serverLr = typeof cfg?.serverLr === 'number' && cfg.serverLr > 0 ? cfg.serverLr : config.serverLr;
    return { controlVariates: { serverLr } };
  },
});
