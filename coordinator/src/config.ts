import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_COORDINATOR_PORT, TwinfedError, limits } from '@twinfed/shared';

const ConfigSchema = z.object({
  dataDir: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
  store: z.enum(['sqlite', 'memory']),
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
  /** On SIGTERM, how long in-flight requests and round transitions may take before the database closes anyway. */
  shutdownGraceMs: z.number().int().min(0),
  /** 401 answers per client address and minute before it gets 429 for the rest of the minute (0: no limit). */
  maxAuthFailuresPerMinute: z.number().int().min(0),
});

/** The coordinator's configuration, read once from the environment and passed down. */
export type CoordinatorConfig = Readonly<z.infer<typeof ConfigSchema>>;

/**
 * Builds the configuration from environment variables (`TWINFED_DATA_DIR`, `TWINFED_HOST`, `TWINFED_PORT`,
 * `TWINFED_STORE`, `TWINFED_LOG_LEVEL`, `TWINFED_MAX_UPDATE_BYTES`, `TWINFED_MAX_CONCURRENT_UPLOADS`,
 * `TWINFED_MAX_QUEUED_UPLOADS`, `TWINFED_SHUTDOWN_GRACE_MS`) and explicit overrides (CLI flags win).
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: Partial<CoordinatorConfig> = {}): CoordinatorConfig {
  const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
  const raw = {
    dataDir: path.resolve(env.TWINFED_DATA_DIR ?? '.twinfed'),
    host: env.TWINFED_HOST ?? '127.0.0.1',
    port: num(env.TWINFED_PORT) ?? DEFAULT_COORDINATOR_PORT,
    store: env.TWINFED_STORE ?? 'sqlite',
    logLevel: env.TWINFED_LOG_LEVEL ?? 'info',
    requestWindowMs: num(env.TWINFED_REQUEST_WINDOW_MS) ?? limits.requestWindowMs,
    maxUpdateBytes: num(env.TWINFED_MAX_UPDATE_BYTES) ?? 64 * 1024 * 1024,
    maxJsonBytes: limits.maxJsonBytes,
    maxConcurrentUploads: num(env.TWINFED_MAX_CONCURRENT_UPLOADS) ?? 4,
    maxQueuedUploads: num(env.TWINFED_MAX_QUEUED_UPLOADS) ?? 64,
    shutdownGraceMs: num(env.TWINFED_SHUTDOWN_GRACE_MS) ?? 10_000,
    maxAuthFailuresPerMinute: num(env.TWINFED_MAX_AUTH_FAILURES_PER_MINUTE) ?? 30,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new TwinfedError('CONFIG_INVALID', `Invalid coordinator configuration: ${issues}`);
  }
  return Object.freeze({ ...parsed.data, dataDir: path.resolve(parsed.data.dataDir) });
}
