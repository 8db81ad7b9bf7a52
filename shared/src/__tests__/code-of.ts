import { isTwinfedError, type ErrorCode } from '../errors';

/** Runs `fn`: 'none' when it returns, the code when it throws a TwinfedError; anything else is rethrown. */
export function codeOf(fn: () => unknown): ErrorCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (e) {
    if (isTwinfedError(e)) return e.code;
    throw e;
  }
}
