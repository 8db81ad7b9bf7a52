export type {
  Accumulator,
  AggregateResult,
  ClientConfig,
  ClientFailure,
  ClientResult,
  DeltaStrategy,
  MeanDelta,
  RoundContext,
  RoundPlan,
  SelectionContext,
  Strategy,
  StrategyState,
} from './types';
export { isDeltaStrategy } from './types';
export { centeredClip, centeredClipping } from './centered-clip';
export { withUpdateClipping, clipUpdate } from './clipping';
export { withCentralDp, type CentralDpOptions } from './central-dp';
export { cycleOrder, cyclic } from './cyclic';
export { fedAvg, fedProx, scaffold } from './fedavg';
export { fedOpt, type FedOptOptions, type FedOptVariant } from './fedopt';
export { geomed, geometricMedian } from './geomed';
export { krum } from './krum';
export { fedMedian, fedTrimmedAvg } from './robust';
export { mixSeed, selectSites } from './selection';
export { createStrategy } from './registry';
