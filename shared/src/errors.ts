/**
 * The one error class of twinfed and its code table.
 *
 * Every failure that crosses a process boundary carries a stable `code` from {@link ERROR_CODES}.
 * The table maps each code to its HTTP status and a public message (no internals, no stack traces).
 * Servers turn a {@link TwinfedError} into `{ error: { code, message, details? } }`; clients turn that
 * body back into the same class with {@link TwinfedError.fromBody}.
 */
export const ERROR_CODES = {
  // 400: malformed input
  BAD_REQUEST: { status: 400, message: 'The request is malformed.' },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  VALIDATION_FAILED: { status: 400, message: 'The request does not match the expected schema.' },
  INVALID_PLAN: { status: 400, message: 'The federation plan is invalid.' },
  INVALID_ENVELOPE: { status: 400, message: 'The update envelope is malformed.' },
  INVALID_WEIGHTS: { status: 400, message: 'The weights do not match the model layout.' },
  NON_FINITE_WEIGHTS: { status: 400, message: 'The weights contain NaN or infinite values.' },
  PROTOCOL_MISMATCH: { status: 400, message: 'The protocol version is not supported.' },
  EXAMPLES_OUT_OF_RANGE: { status: 400, message: 'The claimed number of training examples is outside the range the plan allows.' },
  // 401: identity
  UNAUTHENTICATED: { status: 401, message: 'Authentication is required.' },
  BAD_SIGNATURE: { status: 401, message: 'The signature does not verify.' },
  STALE_REQUEST: { status: 401, message: 'The request timestamp is outside the accepted window.' },
  REPLAYED_REQUEST: { status: 401, message: 'The request nonce was already used.' },
  INVALID_TOKEN: { status: 401, message: 'The token is invalid, expired or already used.' },
  UNKNOWN_SITE: { status: 401, message: 'The site is not enrolled.' },
  ENROLL_PROOF_INVALID: { status: 401, message: 'The enrollment does not prove possession of the presented keys.' },
  DECRYPT_FAILED: { status: 400, message: 'The payload could not be decrypted.' },
  // 403: authorisation
  FORBIDDEN: { status: 403, message: 'This role may not perform this action.' },
  SITE_REVOKED: { status: 403, message: 'The site has been revoked.' },
  SITE_NOT_SELECTED: { status: 403, message: 'The site is not selected for this round.' },
  NOT_A_MEMBER: { status: 403, message: 'The site does not belong to this federation (not in its founding cohort and not yet selected for one of its rounds).' },
  // 404
  NOT_FOUND: { status: 404, message: 'The resource does not exist.' },
  UNKNOWN_FEDERATION: { status: 404, message: 'The federation does not exist.' },
  UNKNOWN_ROUND: { status: 404, message: 'The round does not exist.' },
  UNKNOWN_MODEL_VERSION: { status: 404, message: 'The model version does not exist.' },
  // 409: state conflicts
  ROUND_CLOSED: { status: 409, message: 'The round is not accepting updates.' },
  WRONG_BASE_VERSION: { status: 409, message: 'The update was trained from a different model version.' },
  UPDATE_CONFLICT: { status: 409, message: 'A different update for this round was already accepted from this site.' },
  ALREADY_EXISTS: { status: 409, message: 'The resource already exists.' },
  KEY_IN_USE: { status: 409, message: 'These public keys are already registered to a site.' },
  AUDIT_CHAIN_INVALID: { status: 409, message: 'The audit trail does not verify: an entry or a signed head was altered, removed or reordered.' },
  FEDERATION_NOT_RUNNING: { status: 409, message: 'The federation is not running.' },
  SECAGG_PHASE: { status: 409, message: 'The secure-aggregation round is not in the phase this message belongs to.' },
  SECAGG_INCONSISTENT: { status: 409, message: 'The secure-aggregation round is not the one this site saw or signed (cohort, threshold, survivors or the signed U3 differ).' },
  SECAGG_COHORT_TOO_SMALL: { status: 409, message: 'Secure aggregation needs a larger cohort in this round.' },
  SECAGG_UNTRUSTED_KEY: { status: 400, message: 'A key in secure aggregation is not signed by its owner\'s enrolled identity, or differs from the key pinned before.' },
  DP_NOT_COVERED: { status: 409, message: 'This federation publishes under differential privacy: a per-site evaluation is not covered by its ε, so the coordinator does not take one.' },
  SECURE_SUM_OVERFLOW: { status: 422, message: "A value is too large for this cohort's secure sum: added up over the cohort it could wrap around." },
  SECAGG_MASK_REUSE: { status: 409, message: 'The masks of this round were already used for another vector; only the stored one may be sent again.' },
  // 413, 415, 429, 503
  REQUEST_TIMEOUT: { status: 408, message: 'The request body arrived too slowly.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The content type is not supported.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests.' },
  OVERLOADED: { status: 503, message: 'The server is busy; retry later.' },
  NOT_READY: { status: 503, message: 'The service is not ready.' },
  // local (site / CLI) failures that never come from HTTP
  MODEL_SIGNATURE_INVALID: { status: 502, message: 'The model version signature does not verify against the pinned coordinator key.' },
  MODEL_DIGEST_MISMATCH: { status: 502, message: 'The model weights do not match their signed digest.' },
  PLAN_SIGNATURE_INVALID: { status: 502, message: "The federation's plan is not signed by the pinned coordinator key, or is not the plan it signed." },
  PLAN_CHANGED: { status: 502, message: "The federation's plan differs from the one this site already took part with." },
  PLAN_BELOW_SITE_FLOOR: { status: 422, message: "The federation's plan is below this site's privacy floors." },
  CONFIG_INVALID: { status: 500, message: 'The configuration is invalid.' },
  BUNDLE_INVALID: { status: 400, message: 'The model bundle is malformed or disagrees with its signed metadata.' },
  FEATURE_MISMATCH: { status: 400, message: "The data's features are not the model's features in the model's order." },
  // local data guardrails: a site refuses to train (and sends nothing) on data that cannot teach the model
  DATA_SINGLE_CLASS: { status: 422, message: 'The local data have only one label class.' },
  DATA_FEATURE_CONSTANT: { status: 422, message: 'A feature column has the same value in every row.' },
  DATA_FEATURE_MISSING: { status: 422, message: 'A feature column has no usable value in any row.' },
  DATA_TOO_FEW_ROWS: { status: 422, message: "The local data have fewer training rows than the plan's minimum." },
  POPULATION_BUDGET_EXHAUSTED: { status: 422, message: "A new population report would exceed this site's privacy budget for population reports." },
  NETWORK: { status: 503, message: 'The coordinator could not be reached.' },
  INSECURE_URL: { status: 400, message: 'Plain http is only allowed to a loopback address; use https.' },
  TLS_UNTRUSTED: { status: 502, message: "The coordinator's TLS certificate is not trusted; pass --ca <pem> for a private CA." },
  INTERNAL: { status: 500, message: 'Internal error.' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A stable error code (a key of {@link ERROR_CODES}). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The JSON body every twinfed HTTP error response carries. */
export interface ErrorBody {
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
    this.status = ERROR_CODES[code].status;
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
