import type { Plan } from '@twinfed/shared';
import type { LocalDataset } from './dataset';

/**
 * Local data that can change between rounds (the twin store): the runner asks for the current dataset at the
 * start of every round it trains in and before every evaluation, so a consent withdrawal or new data take
 * effect at the next round. Returning the very same object as the previous call means "unchanged".
 */
export interface DatasetSource {
  /** The local dataset as of now, featurised in the plan's feature order (un-normalised). */
  load(input: { plan: Plan; round: number | null }): Promise<LocalDataset>;
}
