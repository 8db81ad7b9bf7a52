/** The FedOpt family: the mean update applied by a server optimiser (aggregation: coordinator/src/strategies/fedopt.ts). */
import { z } from 'zod';
import { declareStrategy, serverLrRequired } from './declare';

const options = {
  serverLr: serverLrRequired,
  beta1: z.number().min(0).lt(1).default(0.9).describe('First-moment decay of the server optimiser (Adam β1).'),
  beta2: z
    .number()
    .min(0)
    .lt(1)
    .default(0.999)
    .describe('Second-moment decay of the server optimiser (Adam β2; unused by fedadagrad).'),
  tau: z
    .number()
    .positive()
    .default(1e-8)
    .describe('Adaptivity constant τ added to the root of the second moment (numerical floor).'),
};

export const fedadam = declareStrategy({
  name: 'fedadam',
  meaning: 'FedAdam: the mean update applied by an Adam optimiser on the server.',
  options,
  aggregation: 'mean',
});

export const fedyogi = declareStrategy({
  name: 'fedyogi',
  meaning: 'FedYogi: like FedAdam with Yogi’s additive second-moment update.',
  options,
  aggregation: 'mean',
});

export const fedadagrad = declareStrategy({
  name: 'fedadagrad',
  meaning: 'FedAdagrad: the mean update applied by Adagrad on the server.',
  options,
  aggregation: 'mean',
});
