/**
 * The one error class of twinfed and its code table.
 *
 * Every failure that crosses a process boundary carries a stable `code` from {@link ERROR_CODES}. The table has two
 * parts: {@link HTTP_ERROR_CODES}, the codes a server (the coordinator or the site's local API) answers with, each with
 * its HTTP status; and {@link LOCAL_ERROR_CODES}, failures on one machine (a site, a CLI) that are never sent over
 * HTTP and so have no status of their own. Every code has a public message (no internals, no stack traces) and a
 * `client` behaviour ({@link ClientBehaviour}: retry, retry later, refused, skip the round, reject the version, fatal
 * for the federation or for the site) that every client reads through `clientBehaviour` (client-behaviour.ts).
 * Servers turn a {@link TwinfedError} into `{ error: { code, message, details? } }`; clients turn that
 * body back into the same class with {@link TwinfedError.fromBody}.
 */
import type { ClientBehaviour } from './client-behaviour';

/** A code a server answers with: its HTTP status, public message and client behaviour (all required). */
export interface HttpErrorSpec {
  readonly status: 400 | 401 | 403 | 404 | 408 | 409 | 413 | 415 | 429 | 500 | 503;
  readonly message: string;
  readonly client: ClientBehaviour;
}

/** A local failure (never an HTTP answer): public message and client behaviour, no status. */
export interface LocalErrorSpec {
  readonly status?: never;
  readonly message: string;
  readonly client: ClientBehaviour;
}

/** The codes servers answer with. A new code needs all three fields: a missing `client` does not compile. */
export const HTTP_ERROR_CODES = {
  // 400: malformed input
  BAD_REQUEST: { status: 400, message: 'The request is malformed.', client: 'refused' },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON.', client: 'refused' },
  VALIDATION_FAILED: { status: 400, message: 'The request does not match the expected schema.', client: 'refused' },
  INVALID_PLAN: { status: 400, message: 'The federation plan is invalid.', client: 'fatal-federation' },
  INVALID_ENVELOPE: { status: 400, message: 'The update envelope is malformed.', client: 'refused' },
  INVALID_WEIGHTS: { status: 400, message: 'The weights do not match the model layout.', client: 'reject-version' },
  NON_FINITE_WEIGHTS: { status: 400, message: 'The weights contain NaN or infinite values.', client: 'reject-version' },
  PROTOCOL_MISMATCH: { status: 400, message: 'The protocol version is not supported.', client: 'fatal-site' },
  EXAMPLES_OUT_OF_RANGE: {
    status: 400,
    message: 'The claimed number of training examples is outside the range the plan allows.',
    client: 'refused',
  },
  INVALID_BASE_EVALUATION: {
    status: 400,
    message:
      "The evaluation of the round's base version that the update (or secure round's key-share message) carries is not one the coordinator takes (its schema, the plan's bound on n, or a federation that takes no per-site evaluations); nothing was stored.",
    client: 'refused',
  },
  DECRYPT_FAILED: { status: 400, message: 'The payload could not be decrypted.', client: 'refused' },
  COHORT_POOL_BAD_LENGTH: {
    status: 400,
    message: "The masked vector's length is not the pool's (3 values per cell and summarised feature).",
    client: 'refused',
  },
  // 401: identity
  UNAUTHENTICATED: { status: 401, message: 'Authentication is required.', client: 'fatal-site' },
  BAD_SIGNATURE: { status: 401, message: 'The signature does not verify.', client: 'fatal-site' },
  STALE_REQUEST: { status: 401, message: 'The request timestamp is outside the accepted window.', client: 'retry' },
  REPLAYED_REQUEST: { status: 401, message: 'The request nonce was already used.', client: 'retry' },
  INVALID_TOKEN: { status: 401, message: 'The token is invalid, expired or already used.', client: 'refused' },
  UNKNOWN_SITE: { status: 401, message: 'The site is not enrolled.', client: 'fatal-site' },
  ENROLL_PROOF_INVALID: {
    status: 401,
    message: 'The enrollment does not prove possession of the presented keys.',
    client: 'refused',
  },
  // 403: authorisation
  FORBIDDEN: { status: 403, message: 'This role may not perform this action.', client: 'fatal-federation' },
  SITE_REVOKED: { status: 403, message: 'The site has been revoked.', client: 'fatal-site' },
  SITE_NOT_SELECTED: { status: 403, message: 'The site is not selected for this round.', client: 'skip-round' },
  NOT_A_MEMBER: {
    status: 403,
    message:
      'The site does not belong to this federation (not in its founding cohort and not yet selected for one of its rounds).',
    client: 'retry',
  },
  COHORT_POOL_NOT_MEMBER: {
    status: 403,
    message:
      "The site is not in this cohort query's secure pool (only the sites that answered with a table when every site had answered are).",
    client: 'refused',
  },
  // 404
  NOT_FOUND: { status: 404, message: 'The resource does not exist.', client: 'refused' },
  UNKNOWN_FEDERATION: { status: 404, message: 'The federation does not exist.', client: 'fatal-federation' },
  UNKNOWN_ROUND: { status: 404, message: 'The round does not exist.', client: 'refused' },
  UNKNOWN_MODEL_VERSION: { status: 404, message: 'The model version does not exist.', client: 'refused' },
  UNKNOWN_STUDY: { status: 404, message: 'The study does not exist.', client: 'refused' },
  // 409: state conflicts
  ROUND_CLOSED: { status: 409, message: 'The round is not accepting updates.', client: 'skip-round' },
  WRONG_BASE_VERSION: {
    status: 409,
    message: 'The update was trained from a different model version.',
    client: 'skip-round',
  },
  UPDATE_CONFLICT: {
    status: 409,
    message: 'A different update for this round was already accepted from this site.',
    client: 'skip-round',
  },
  ALREADY_EXISTS: { status: 409, message: 'The resource already exists.', client: 'refused' },
  KEY_IN_USE: { status: 409, message: 'These public keys are already registered to a site.', client: 'refused' },
  FEDERATION_NOT_RUNNING: { status: 409, message: 'The federation is not running.', client: 'skip-round' },
  SECAGG_PHASE: {
    status: 409,
    message: 'The secure-aggregation round is not in the phase this message belongs to.',
    client: 'retry',
  },
  SECAGG_INCONSISTENT: {
    status: 409,
    message:
      'The secure-aggregation round is not the one this site saw or signed (cohort, threshold, survivors or the signed U3 differ).',
    client: 'skip-round',
  },
  SECAGG_COHORT_TOO_SMALL: {
    status: 409,
    message: 'Secure aggregation needs a larger cohort in this round.',
    client: 'skip-round',
  },
  SECAGG_UNTRUSTED_KEY: {
    status: 400,
    message:
      "A key in secure aggregation is not signed by its owner's enrolled identity, or differs from the key pinned before.",
    client: 'skip-round',
  },
  PLAN_SUPERSEDED: {
    status: 409,
    message: 'The decision is about another version of the plan.',
    client: 'refused',
  },
  FEDERATION_STARTED: {
    status: 409,
    message: 'The federation has started; its plan can no longer change.',
    client: 'refused',
  },
  DP_NOT_COVERED: {
    status: 409,
    message:
      'This federation publishes under differential privacy: a per-site evaluation is not covered by its ε, so the coordinator does not take one.',
    client: 'refused',
  },
  COHORT_POOL_NOT_OPEN: {
    status: 409,
    message:
      "The cohort query's secure pool is not taking contributions (not every site has answered yet, or the pool is complete or failed).",
    client: 'retry',
  },
  COHORT_TOO_SMALL: {
    status: 409,
    message:
      'Fewer than 3 sites answered the cohort query with a table: a secure sum of two would give each the other’s numbers, so it is not pooled.',
    client: 'refused',
  },
  RECALIBRATION_CLOSED: {
    status: 409,
    message:
      "The federation's recalibration is not taking histograms (the federation has not completed, or the recalibration is fitted, failed or past its deadline).",
    client: 'refused',
  },
  CROSS_SITE_NOT_PLANNED: {
    status: 409,
    message: 'The federation’s plan does not ask for a cross-site evaluation (crossSiteEvaluation).',
    client: 'refused',
  },
  CROSS_SITE_PHASE: {
    status: 409,
    message:
      'The cross-site evaluation is not in the phase this message belongs to (the federation has not completed, or that phase has ended).',
    client: 'retry',
  },
  // 408, 413, 415, 429, 500, 503
  REQUEST_TIMEOUT: { status: 408, message: 'The request body arrived too slowly.', client: 'retry' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.', client: 'refused' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The content type is not supported.', client: 'refused' },
  RATE_LIMITED: { status: 429, message: 'Too many requests.', client: 'retry-later' },
  OVERLOADED: { status: 503, message: 'The server is busy; retry later.', client: 'retry-later' },
  NOT_READY: { status: 503, message: 'The service is not ready.', client: 'retry-later' },
  LEASE_LOST: {
    status: 503,
    message:
      'This coordinator replica no longer drives the federation (its lease expired or another replica took it over); nothing was written.',
    client: 'retry-later',
  },
  INTERNAL: { status: 500, message: 'Internal error.', client: 'retry' },
} as const satisfies Record<string, HttpErrorSpec>;

/** Failures on one machine (a site, a CLI) that never come from HTTP. */
export const LOCAL_ERROR_CODES = {
  // what a site verifies before it uses anything the coordinator sends
  MODEL_SIGNATURE_INVALID: {
    message: 'The model version signature does not verify against the pinned coordinator key.',
    client: 'reject-version',
  },
  MODEL_DIGEST_MISMATCH: { message: 'The model weights do not match their signed digest.', client: 'reject-version' },
  PLAN_SIGNATURE_INVALID: {
    message: "The federation's plan is not signed by the pinned coordinator key, or is not the plan it signed.",
    client: 'fatal-federation',
  },
  PLAN_CHANGED: {
    message: "The federation's plan differs from the one this site already took part with.",
    client: 'fatal-federation',
  },
  PLAN_NOT_APPROVED: { message: "This site has not approved the federation's plan.", client: 'fatal-federation' },
  PLAN_REJECTED: { message: "This site rejected the federation's plan.", client: 'fatal-federation' },
  SECURE_SUM_OVERFLOW: {
    message: "A value is too large for this cohort's secure sum: added up over the cohort it could wrap around.",
    client: 'fatal-federation',
  },
  SECAGG_MASK_REUSE: {
    message: 'The masks of this round were already used for another vector; only the stored one may be sent again.',
    client: 'skip-round',
  },
  // setup and files
  CONFIG_INVALID: { message: 'The configuration is invalid.', client: 'fatal-site' },
  POLICY_INVALID: { message: "The site's policy file is invalid.", client: 'fatal-site' },
  BUNDLE_INVALID: {
    message: 'The model bundle is malformed or disagrees with its signed metadata.',
    client: 'refused',
  },
  FEATURE_MISMATCH: {
    message: "The data's features are not the model's features in the model's order.",
    client: 'refused',
  },
  AUDIT_CHAIN_INVALID: {
    message: 'The audit trail does not verify: an entry or a signed head was altered, removed or reordered.',
    client: 'refused',
  },
  RECALIBRATION_UNFIT: {
    message:
      'The recalibration cannot be fitted on these held-out scores (one outcome only, or scores that separate the outcomes).',
    client: 'refused',
  },
  // local data guardrails: a site refuses to train (and sends nothing) on data that cannot teach the model
  DATA_SINGLE_CLASS: { message: 'The local data have only one label class.', client: 'fatal-federation' },
  DATA_FEATURE_CONSTANT: { message: 'A feature column has the same value in every row.', client: 'fatal-federation' },
  DATA_FEATURE_MISSING: { message: 'A feature column has no usable value in any row.', client: 'fatal-federation' },
  DATA_TOO_FEW_ROWS: {
    message: "The local data have fewer training rows than the plan's minimum.",
    client: 'fatal-federation',
  },
  POPULATION_BUDGET_EXHAUSTED: {
    message: "A new population report would exceed this site's privacy budget for population reports.",
    client: 'refused',
  },
  COHORT_QUERY_NOT_ALLOWED: {
    message: "This site's policy does not allow answering this cohort query.",
    client: 'refused',
  },
  COHORT_QUERY_UNANSWERABLE: {
    message: "This site's data cannot answer the cohort query (another data source, or a feature the data lack).",
    client: 'refused',
  },
  // reaching the coordinator
  NETWORK: { message: 'The coordinator could not be reached.', client: 'retry' },
  INSECURE_URL: { message: 'Plain http is only allowed to a loopback address; use https.', client: 'fatal-site' },
  TLS_UNTRUSTED: {
    message: "The coordinator's TLS certificate is not trusted; pass --ca <pem> for a private CA.",
    client: 'fatal-site',
  },
} as const satisfies Record<string, LocalErrorSpec>;

/** A code servers answer with (a key of {@link HTTP_ERROR_CODES}). */
export type HttpErrorCode = keyof typeof HTTP_ERROR_CODES;
/** A local failure's code (a key of {@link LOCAL_ERROR_CODES}). */
export type LocalErrorCode = keyof typeof LOCAL_ERROR_CODES;

// No code is both: a key in both tables does not compile.
const noCodeInBothTables: [Extract<HttpErrorCode, LocalErrorCode>] extends [never] ? true : never = true;
void noCodeInBothTables;

/** The whole table: every code with its message and client behaviour (HTTP codes also with their status). */
export const ERROR_CODES: { readonly [C in HttpErrorCode | LocalErrorCode]: HttpErrorSpec | LocalErrorSpec } = {
  ...HTTP_ERROR_CODES,
  ...LOCAL_ERROR_CODES,
};

/** A stable error code (a key of {@link ERROR_CODES}). */
export type ErrorCode = HttpErrorCode | LocalErrorCode;

/**
 * The status a server answers with when a local failure escapes into a response (it should not: a server's own
 * fault, hence 500). The code and message still go out.
 */
export const LOCAL_FAILURE_STATUS = 500;

/** True when servers may answer with `code` (it has an HTTP status of its own). */
export function isHttpErrorCode(code: ErrorCode): code is HttpErrorCode {
  return Object.prototype.hasOwnProperty.call(HTTP_ERROR_CODES, code);
}

/** The HTTP status of `code`: its own for an HTTP code, {@link LOCAL_FAILURE_STATUS} for a local one. */
export function httpStatus(code: ErrorCode): number {
  return isHttpErrorCode(code) ? HTTP_ERROR_CODES[code].status : LOCAL_FAILURE_STATUS;
}

/** The JSON body every twinfed HTTP error response carries. */
interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** True when `code` is one of twinfed's error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** The one error class. `details` must be safe to show a client: never payloads, keys or patient data. */
export class TwinfedError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;

  constructor(code: ErrorCode, message?: string, options?: { details?: unknown; cause?: unknown }) {
    super(message ?? ERROR_CODES[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TwinfedError';
    this.code = code;
    this.status = httpStatus(code);
    if (options?.details !== undefined) this.details = options.details;
  }

  /** The public body for this error. */
  toBody(): ErrorBody {
    const body: ErrorBody = { error: { code: this.code, message: this.message } };
    if (this.details !== undefined) body.error.details = this.details;
    return body;
  }

  /** Rebuilds the error a server sent; unknown shapes become `INTERNAL` with the HTTP status kept in details. */
  static fromBody(body: unknown, status?: number): TwinfedError {
    const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
    if (err && isErrorCode(err.code)) {
      const message = typeof err.message === 'string' ? err.message : undefined;
      return new TwinfedError(err.code, message, { details: err.details });
    }
    return new TwinfedError('INTERNAL', `Unexpected response${status ? ` (HTTP ${status})` : ''}.`);
  }
}

/** True when `e` is a {@link TwinfedError}, optionally with the given code. */
export function isTwinfedError(e: unknown, code?: ErrorCode): e is TwinfedError {
  return e instanceof TwinfedError && (code === undefined || e.code === code);
}
