/**
 * The coordinator's half of strategy registration: each strategy's aggregation, under the name its declaration
 * (shared/src/strategies) registers. The mapped type makes a declared strategy without aggregation (or the reverse)
 * a compile error.
 */
import type { StrategyConfig, StrategyName } from '@twinfed/shared';
import { centeredClip } from './centered-clip';
import { cyclic } from './cyclic';
import { fedAvg, fedProx, scaffold } from './fedavg';
import { fedOpt } from './fedopt';
import { geomed } from './geomed';
import { krum } from './krum';
import { fedMedian, fedTrimmedAvg } from './robust';
import type { Strategy } from './types';

type Aggregations = { [N in StrategyName]: (config: Extract<StrategyConfig, { name: N }>) => Strategy };

const AGGREGATIONS: Aggregations = {
  fedavg: fedAvg,
  fedprox: fedProx,
  scaffold,
  fedadam: (config) => fedOpt(config.name, config),
  fedyogi: (config) => fedOpt(config.name, config),
  fedadagrad: (config) => fedOpt(config.name, config),
  cyclic,
  fedmedian: () => fedMedian(),
  fedtrimmedavg: fedTrimmedAvg,
  krum,
  geomed,
  centeredclip: centeredClip,
};

/** The strategy a plan names, with its hyperparameters. Wrap it with DP or clipping as the plan's privacy options say. */
export function createStrategy(config: StrategyConfig): Strategy {
  const create = AGGREGATIONS[config.name] as (config: StrategyConfig) => Strategy;
  return create(config);
}
