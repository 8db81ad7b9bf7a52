export type { Accumulator, ClientResult, MeanDelta, RoundContext, Strategy, StrategyState } from './types';
export { addAll, isDeltaStrategy } from './types';
export { withUpdateClipping } from './clipping';
export { withCentralDp } from './central-dp';
export { fedAvg, fedProx, scaffold } from './fedavg';
export { fedOpt } from './fedopt';
export { createStrategy } from './registry';
