import { TwinfedError } from '@twinfed/shared';

/** The store has been closed. */
export function storeClosed(): TwinfedError {
  return new TwinfedError('NOT_READY', 'The store is closed.');
}

/** A record with this key already exists. */
export function alreadyExists(what: string): TwinfedError {
  return new TwinfedError('ALREADY_EXISTS', `${what} already exists.`);
}

/** Another site (revoked ones included) already registered one of these public keys. */
export function keyInUse(): TwinfedError {
  return new TwinfedError('KEY_IN_USE');
}

export function unknownFederation(): TwinfedError {
  return new TwinfedError('UNKNOWN_FEDERATION');
}

export function unknownCohortQuery(): TwinfedError {
  return new TwinfedError('NOT_FOUND', 'The cohort query does not exist.');
}

export function unknownRound(): TwinfedError {
  return new TwinfedError('UNKNOWN_ROUND');
}

export function unknownVersion(): TwinfedError {
  return new TwinfedError('UNKNOWN_MODEL_VERSION');
}

export function unknownStudy(): TwinfedError {
  return new TwinfedError('UNKNOWN_STUDY');
}

export function unknownCohortPool(): TwinfedError {
  return new TwinfedError('NOT_FOUND', 'The cohort query has no secure pool.');
}

export function unknownCrossSite(): TwinfedError {
  return new TwinfedError('NOT_FOUND', 'The federation has no cross-site evaluation.');
}

/** A fenced write whose lease no longer holds (another replica took it over, or it expired): nothing was written. */
export function leaseLost(lease: string): TwinfedError {
  return new TwinfedError('LEASE_LOST', `The lease ${lease} is no longer held with this token; nothing was written.`);
}
