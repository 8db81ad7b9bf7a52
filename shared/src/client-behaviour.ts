/**
 * What a client does when it meets an error code: the behaviour column of the error table ({@link ERROR_CODES}).
 * Every client (the site's runner, round worker, version hooks, transport and local API) decides retry vs stop
 * from here, never from a list of its own.
 */
import { ERROR_CODES, isTwinfedError, type ErrorCode, type HTTP_ERROR_CODES, type LOCAL_ERROR_CODES } from './errors';

/** Each behaviour and what a client does on it (the generated docs/errors.md shows these texts). */
export const CLIENT_BEHAVIOURS = {
  retry:
    'Transient: the same step may succeed later. The site loop tries it again at its next wake-up (a poll or a push event); a connection failure is first repeated by the transport with exponential backoff (NETWORK once its retries are spent).',
  'retry-later':
    'The server is up but asks to come back later (429/503): the transport waits at least the Retry-After it names, then repeats; the local API sends Retry-After with it.',
  refused:
    'This request is refused as it was sent; sending it again gets the same answer. The client drops that one request (reports or logs it) and goes on; an idempotent client takes ALREADY_EXISTS as done.',
  'skip-round':
    'This round is over for this site (closed, not selected, another base, or a secure-aggregation round it cannot trust): no more work in it, the site waits for the next round.',
  'reject-version':
    'This model version must not be used (signature, digest or weights do not verify): the site refuses it, records why, and goes on with the next version.',
  'fatal-federation':
    'The site cannot take part in this federation (its plan, its data or its membership): the runner of this federation stops with the error.',
  'fatal-site':
    "The site's identity or setup is not accepted (revoked, unknown, unsigned, misconfigured): the site stops until an operator acts.",
} as const;

/** A client behaviour (a key of {@link CLIENT_BEHAVIOURS}). */
export type ClientBehaviour = keyof typeof CLIENT_BEHAVIOURS;

/** The behaviour the error table gives `code`. */
export function clientBehaviour(code: ErrorCode): ClientBehaviour {
  return ERROR_CODES[code].client;
}

/** The behaviour for any thrown value: a twinfed error's own; anything else is an unexpected local failure (`INTERNAL`). */
export function behaviourOf(e: unknown): ClientBehaviour {
  return clientBehaviour(isTwinfedError(e) ? e.code : 'INTERNAL');
}

/** True when the behaviour ends the site's work: in this federation (`fatal-federation`) or everywhere (`fatal-site`). */
export function isFatal(behaviour: ClientBehaviour): boolean {
  return behaviour === 'fatal-federation' || behaviour === 'fatal-site';
}

/**
 * True when the answer concerns this one request only (`refused`, `skip-round`, `reject-version`): a client that
 * sends something optional (an evaluation, a population report) drops it and goes on. False when the step must be
 * repeated (`retry`, `retry-later`) or the site must stop (`fatal-*`): the error goes up to the runner.
 */
export function refusesRequest(behaviour: ClientBehaviour): boolean {
  return behaviour === 'refused' || behaviour === 'skip-round' || behaviour === 'reject-version';
}

type Table = typeof HTTP_ERROR_CODES & typeof LOCAL_ERROR_CODES;

/** The codes the error table gives behaviour `B` (e.g. a record keyed by every `skip-round` code must name them all). */
export type CodeWithBehaviour<B extends ClientBehaviour> = {
  [C in ErrorCode]: Table[C]['client'] extends B ? C : never;
}[ErrorCode];

/** True when the error table gives `code` the behaviour `behaviour` (narrows the code). */
export function hasBehaviour<B extends ClientBehaviour>(code: ErrorCode, behaviour: B): code is CodeWithBehaviour<B> {
  return clientBehaviour(code) === behaviour;
}
