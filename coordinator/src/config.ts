import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_COORDINATOR_PORT, TwinfedError, limits } from '@twinfed/shared';
import { DEFAULT_POOL_SIZE, parseStoreLocation, type StoreLocation } from './store/location';

const ConfigSchema = z
  .object({
    dataDir: z.string().min(1),
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    /** Where state lives: `sqlite` (default), `memory`, a SQLite file path or `file:` URL, or a `postgres://` URL. */
    store: z.string().min(1),
    /** Connections of the PostgreSQL store's pool. */
    storePoolSize: z.number().int().min(1).max(1000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    /** Accepted clock skew of a signed site request. */
    requestWindowMs: z.number().int().min(1000),
    /** Largest update envelope accepted. */
    maxUpdateBytes: z.number().int().min(1024),
    /** Largest JSON body accepted. */
    maxJsonBytes: z.number().int().min(1024),
    /** Update envelopes verified and decrypted at once; up to `maxQueuedUploads` more wait. */
    maxConcurrentUploads: z.number().int().min(1),
    /** Uploads admitted beyond the concurrent ones; any more are refused with 503 OVERLOADED + Retry-After. */
    maxQueuedUploads: z.number().int().min(0),
    /** Declared body bytes of the uploads waiting beyond `maxConcurrentUploads` (their bodies are held in memory). */
    maxQueuedUploadBytes: z.number().int().min(0),
    /** On SIGTERM, how long in-flight requests and round transitions may take before the database closes anyway. */
    shutdownGraceMs: z.number().int().min(0),
    /** 401 answers per client address (IPv6: per /64) or credential and minute before further failing attempts get 429 (0: no limit). */
    maxAuthFailuresPerMinute: z.number().int().min(0),
    /** Time a client has to send the request headers (node `server.headersTimeout`). */
    headersTimeoutMs: z.number().int().min(1000),
    /** Time a client has to send the whole request, body included (node `server.requestTimeout`; 0: none). */
    requestTimeoutMs: z.number().int().min(0),
    /** Idle time after which a keep-alive connection is closed (node `server.keepAliveTimeout`). */
    keepAliveTimeoutMs: z.number().int().min(0),
    /** After the grace period, a request body averaging fewer bytes per second is cut with 408 (0: off). */
    minBodyBytesPerSecond: z.number().int().min(0),
    bodyRateGraceMs: z.number().int().min(0),
    /** Requests one site or token may have in progress at once; more get 429 (0: no cap). */
    maxRequestsPerPrincipal: z.number().int().min(0),
    /** Requests without credentials (public routes) one client address may have in progress at once; more get 429 (0: no cap). */
    maxAnonymousRequestsPerAddress: z.number().int().min(0),
    /** socket.io connections per client address (IPv6: per /64) that have not authenticated a site yet; more are refused. */
    maxAnonymousSocketsPerAddress: z.number().int().min(1),
    /** PEM files of the server certificate (chain) and its private key: both given, the coordinator serves HTTPS + WSS. */
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    /**
     * Addresses or CIDRs (comma-separated) of TLS-terminating reverse proxies whose X-Forwarded-For is believed
     * (express `trust proxy`); absent: trust nobody, the client address is the TCP peer.
     */
    trustProxy: z.array(z.string().min(1)).optional(),
    /**
     * This replica's name as the holder of driver leases (one per federation: the replica that drives its rounds).
     * Replicas sharing a store need distinct names; a restart under the same name takes its leases back at once.
     */
    replicaId: z.string().min(1).max(200),
    /** Time to live of a driver lease (renewed every third of it): a dead driver is replaced after about this plus the poll. */
    driverLeaseTtlMs: z.number().int().min(300),
    /** How often a replica looks for driver leases nobody holds, and its driven federations for updates other replicas stored. */
    catchUpPollMs: z.number().int().min(10),
    /**
     * redis:// or rediss:// URL of the Redis that replicas of one coordinator share (push across replicas, shared
     * failed-authentication counts); absent: both stay inside this process.
     */
    redisUrl: z
      .string()
      .url()
      .refine((u) => /^rediss?:$/.test(new URL(u).protocol), 'must be a redis:// or rediss:// URL')
      .optional(),
    /** Prefix of every Redis key and channel (several consortia, or tests, may share one Redis). */
    redisPrefix: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . - only (at most 64)'),
  })
  .refine((c) => c.requestTimeoutMs === 0 || c.headersTimeoutMs <= c.requestTimeoutMs, {
    message: 'headersTimeoutMs must not exceed requestTimeoutMs',
    path: ['headersTimeoutMs'],
  })
  .refine((c) => (c.tlsCert === undefined) === (c.tlsKey === undefined), {
    message:
      'give both the certificate and the key (--tls-cert and --tls-key, or TWINFED_TLS_CERT and TWINFED_TLS_KEY), or neither',
    path: ['tlsCert'],
  });

/** Prefix of Redis keys and channels unless TWINFED_REDIS_PREFIX says otherwise. */
const DEFAULT_REDIS_PREFIX = 'twinfed:';

/** Defaults of the server's timeouts and per-caller limits (documented in docs/server-limits.md). */
export const SERVER_LIMIT_DEFAULTS = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 65_000,
  minBodyBytesPerSecond: 1024,
  bodyRateGraceMs: 10_000,
  maxRequestsPerPrincipal: 32,
  maxAnonymousRequestsPerAddress: 32,
} as const;

/** Defaults of the replica settings (docs/architecture.md, "Replicas: one driver per federation"). */
const REPLICA_DEFAULTS = { driverLeaseTtlMs: 10_000, catchUpPollMs: 1000 } as const;

/** The coordinator's configuration, read once from the environment and passed down. */
export type CoordinatorConfig = Readonly<z.infer<typeof ConfigSchema>>;

/**
 * Builds the configuration from environment variables (`TWINFED_DATA_DIR`, `TWINFED_HOST`, `TWINFED_PORT`,
 * `TWINFED_STORE_URL` or `TWINFED_STORE`, `TWINFED_STORE_POOL_SIZE`, `TWINFED_LOG_LEVEL`, `TWINFED_MAX_UPDATE_BYTES`, `TWINFED_MAX_CONCURRENT_UPLOADS`,
 * `TWINFED_MAX_QUEUED_UPLOADS`, `TWINFED_SHUTDOWN_GRACE_MS`, `TWINFED_TLS_CERT`, `TWINFED_TLS_KEY`,
 * `TWINFED_TRUST_PROXY`, `TWINFED_MAX_AUTH_FAILURES_PER_MINUTE`, `TWINFED_HEADERS_TIMEOUT_MS`, `TWINFED_REQUEST_TIMEOUT_MS`,
 * `TWINFED_KEEP_ALIVE_TIMEOUT_MS`, `TWINFED_MIN_BODY_BYTES_PER_SECOND`, `TWINFED_BODY_RATE_GRACE_MS`,
 * `TWINFED_MAX_REQUESTS_PER_PRINCIPAL`, `TWINFED_MAX_ANONYMOUS_REQUESTS_PER_ADDRESS`, `TWINFED_MAX_ANONYMOUS_SOCKETS_PER_ADDRESS`,
 * `TWINFED_REPLICA_ID` (default: the host name), `TWINFED_DRIVER_LEASE_TTL_MS`, `TWINFED_CATCH_UP_POLL_MS`,
 * `TWINFED_REDIS_URL`, `TWINFED_REDIS_PREFIX`) and explicit overrides (CLI flags win).
 * Defaults are in {@link SERVER_LIMIT_DEFAULTS} and docs/server-limits.md.
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: Partial<CoordinatorConfig> = {}): CoordinatorConfig {
  const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
  const raw = {
    dataDir: path.resolve(env.TWINFED_DATA_DIR ?? '.twinfed'),
    host: env.TWINFED_HOST ?? '127.0.0.1',
    port: num(env.TWINFED_PORT) ?? DEFAULT_COORDINATOR_PORT,
    store: env.TWINFED_STORE_URL || env.TWINFED_STORE || 'sqlite',
    storePoolSize: num(env.TWINFED_STORE_POOL_SIZE) ?? DEFAULT_POOL_SIZE,
    logLevel: env.TWINFED_LOG_LEVEL ?? 'info',
    requestWindowMs: num(env.TWINFED_REQUEST_WINDOW_MS) ?? limits.requestWindowMs,
    maxUpdateBytes: num(env.TWINFED_MAX_UPDATE_BYTES) ?? 64 * 1024 * 1024,
    maxJsonBytes: limits.maxJsonBytes,
    maxConcurrentUploads: num(env.TWINFED_MAX_CONCURRENT_UPLOADS) ?? 4,
    maxQueuedUploads: num(env.TWINFED_MAX_QUEUED_UPLOADS) ?? 1024,
    maxQueuedUploadBytes: num(env.TWINFED_MAX_QUEUED_UPLOAD_BYTES) ?? 64 * 1024 * 1024,
    shutdownGraceMs: num(env.TWINFED_SHUTDOWN_GRACE_MS) ?? 10_000,
    maxAuthFailuresPerMinute: num(env.TWINFED_MAX_AUTH_FAILURES_PER_MINUTE) ?? 30,
    headersTimeoutMs: num(env.TWINFED_HEADERS_TIMEOUT_MS) ?? SERVER_LIMIT_DEFAULTS.headersTimeoutMs,
    requestTimeoutMs: num(env.TWINFED_REQUEST_TIMEOUT_MS) ?? SERVER_LIMIT_DEFAULTS.requestTimeoutMs,
    keepAliveTimeoutMs: num(env.TWINFED_KEEP_ALIVE_TIMEOUT_MS) ?? SERVER_LIMIT_DEFAULTS.keepAliveTimeoutMs,
    minBodyBytesPerSecond: num(env.TWINFED_MIN_BODY_BYTES_PER_SECOND) ?? SERVER_LIMIT_DEFAULTS.minBodyBytesPerSecond,
    bodyRateGraceMs: num(env.TWINFED_BODY_RATE_GRACE_MS) ?? SERVER_LIMIT_DEFAULTS.bodyRateGraceMs,
    maxRequestsPerPrincipal:
      num(env.TWINFED_MAX_REQUESTS_PER_PRINCIPAL) ?? SERVER_LIMIT_DEFAULTS.maxRequestsPerPrincipal,
    maxAnonymousRequestsPerAddress:
      num(env.TWINFED_MAX_ANONYMOUS_REQUESTS_PER_ADDRESS) ?? SERVER_LIMIT_DEFAULTS.maxAnonymousRequestsPerAddress,
    maxAnonymousSocketsPerAddress: num(env.TWINFED_MAX_ANONYMOUS_SOCKETS_PER_ADDRESS) ?? 16,
    tlsCert: env.TWINFED_TLS_CERT || undefined,
    tlsKey: env.TWINFED_TLS_KEY || undefined,
    trustProxy: parseTrustProxy(env.TWINFED_TRUST_PROXY),
    replicaId: env.TWINFED_REPLICA_ID || os.hostname() || 'coordinator',
    driverLeaseTtlMs: num(env.TWINFED_DRIVER_LEASE_TTL_MS) ?? REPLICA_DEFAULTS.driverLeaseTtlMs,
    catchUpPollMs: num(env.TWINFED_CATCH_UP_POLL_MS) ?? REPLICA_DEFAULTS.catchUpPollMs,
    redisUrl: env.TWINFED_REDIS_URL || undefined,
    redisPrefix: env.TWINFED_REDIS_PREFIX || DEFAULT_REDIS_PREFIX,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new TwinfedError('CONFIG_INVALID', `Invalid coordinator configuration: ${issues}`);
  }
  const c = parsed.data;
  storeLocation(c); // a malformed store location is a configuration error now, not at start
  return Object.freeze({
    ...c,
    dataDir: path.resolve(c.dataDir),
    ...(c.tlsCert !== undefined && c.tlsKey !== undefined
      ? { tlsCert: path.resolve(c.tlsCert), tlsKey: path.resolve(c.tlsKey) }
      : {}),
  });
}

/**
 * A trust-proxy list (`10.0.0.5, 10.1.0.0/16, loopback`) as its entries; `undefined` when empty. Each entry must be
 * an IP address, a CIDR, or one of proxy-addr's names (loopback, linklocal, uniquelocal).
 */
export function parseTrustProxy(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const e of entries) {
    const [addr, bits, extra] = e.split('/');
    const named = ['loopback', 'linklocal', 'uniquelocal'].includes(e);
    const family = isIP(addr ?? '');
    const okBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!named && (family === 0 || !okBits || extra !== undefined)) {
      throw new TwinfedError(
        'CONFIG_INVALID',
        `Invalid coordinator configuration: trustProxy: "${e}" is not an IP address or CIDR (e.g. 10.0.0.5 or 10.0.0.0/24).`,
      );
    }
  }
  return entries;
}

/** Where the configured store lives (see store/location.ts). */
export function storeLocation(config: Pick<CoordinatorConfig, 'store' | 'dataDir' | 'storePoolSize'>): StoreLocation {
  return parseStoreLocation(config.store, { dataDir: config.dataDir, poolSize: config.storePoolSize });
}
