/**
 * The wire contract between site clients, operators, researchers and the coordinator:
 * protocol version, media types and limits. The REST endpoints are defined once in `api/contract.ts`.
 */

/** Version of the site ↔ coordinator protocol; carried in every envelope and checked on enrollment. */
export const PROTOCOL_VERSION = 1;

/** Media type of binary bodies (weights, update envelopes). */
export const BINARY_MEDIA_TYPE = 'application/octet-stream';

/** Default coordinator port. */
export const DEFAULT_COORDINATOR_PORT = 8470;

/** socket.io namespace that sites connect to for push events. */
export const SITE_NAMESPACE = '/sites';

/** Limits the coordinator enforces; sites stay within them. */
export const limits = {
  /** Largest JSON body accepted. */
  maxJsonBytes: 1024 * 1024,
  /** Largest update envelope accepted (the coordinator may configure less). */
  maxUpdateBytes: 256 * 1024 * 1024,
  /** Accepted clock skew of a signed request. */
  requestWindowMs: 5 * 60 * 1000,
} as const;
