import type { StrategyConfig } from '@twinfed/shared';
import { cyclic } from './cyclic';
import { fedAvg, fedProx, scaffold } from './fedavg';
import { centeredClip } from './centered-clip';
import { fedOpt } from './fedopt';
import { geomed } from './geomed';
import { krum } from './krum';
import { fedMedian, fedTrimmedAvg } from './robust';
import type { Strategy } from './types';

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

/** The strategy a plan names, with its hyperparameters. Wrap it with DP or clipping as the plan's privacy options say. */
export function createStrategy(config: StrategyConfig): Strategy {
  switch (config.name) {
    case 'fedavg':
      return fedAvg(config);
    case 'fedprox':
      return fedProx(config);
    case 'scaffold':
      return scaffold(config);
    case 'fedadam':
    case 'fedyogi':
    case 'fedadagrad':
      return fedOpt(config.name, config);
    case 'cyclic':
      return cyclic(config);
    case 'fedmedian':
      return fedMedian();
    case 'fedtrimmedavg':
      return fedTrimmedAvg(config);
    case 'krum':
      return krum(config);
    case 'geomed':
      return geomed(config);
    case 'centeredclip':
      return centeredClip(config);
  }
}
