import type { ConsentEvent, TwinSnapshot } from '../twins/types';

/**
 * True when the twin's latest consent decision for `purpose` is `permit` (the latest decision wins, whenever
 * it was made: a withdrawal recorded today removes the twin even from a dataset snapshotted earlier).
 * Equal timestamps: the later event in the list wins. No decision means no consent.
 */
export function hasConsent(twin: Pick<TwinSnapshot, 'consent'>, purpose: ConsentEvent['purpose']): boolean {
  let latest: ConsentEvent | undefined;
  for (const event of twin.consent)
    if (event.purpose === purpose && (latest === undefined || event.t >= latest.t)) latest = event;
  return latest?.decision === 'permit';
}
