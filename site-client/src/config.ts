import * as path from 'node:path';
import { z } from 'zod';
import { TwinfedError, envFlag } from '@twinfed/shared';
import { DEFAULT_POPULATION_EPSILON_BUDGET } from './training/population-outbox';
import type { PrivacyFloors } from './governance/policy';

/** Log levels the site client understands (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Default directory holding the site's keys, pinned coordinator keys and journal. */
const DEFAULT_DATA_DIR = './.twinfed-site';

/** The site client's configuration, read once at start and passed down (frozen). */
export interface SiteConfig {
  /** Absolute path of the directory with `identity.json`, `site.json` and `rounds.json`. */
  readonly dataDir: string;
  /** Coordinator base URLs (replicas, tried in order), when given by env or flag (enrollment stores them). */
  readonly coordinatorUrls: readonly string[] | undefined;
  readonly logLevel: LogLevel;
  /** How often the runner polls `rounds/current` besides listening for push events. */
  readonly pollIntervalMs: number;
  /** Per-attempt HTTP timeout. */
  readonly requestTimeoutMs: number;
  /** Retries of one HTTP request after network errors, 429 and 503. */
  readonly httpRetries: number;
  /** Absolute path of a PEM CA certificate to trust for the coordinator's TLS (a private consortium CA). */
  readonly caFile: string | undefined;
  /** Allow plain http to a coordinator that is not on this machine. */
  readonly insecureHttp: boolean;
  /**
   * How requests and socket handshakes are authenticated: `mac` (default; signatures where the coordinator takes no
   * MACs) or `signature` (always signed).
   */
  readonly requestAuth: 'mac' | 'signature';
  /** This site's privacy floors (`privacy.*`): it refuses to train on a plan below any of them, whatever the plan says. */
  readonly privacy: PrivacyFloors;
  /** Total ε this site spends on fresh noisy population reports, every federation together (its ledger refuses more). */
  readonly populationEpsilonBudget: number;
}

/** Values that override the environment (usually command-line flags); `undefined` means "not given". */
type SiteConfigOverrides = { [K in keyof SiteConfig]?: SiteConfig[K] | undefined };

const url = z
  .string()
  .url()
  .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL')
  .transform((u) => u.replace(/\/+$/, ''));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const ConfigSchema = z.object({
  dataDir: z.string().min(1),
  coordinatorUrls: z.array(url).min(1).max(16).optional(),
  logLevel: z.enum(LOG_LEVELS),
  pollIntervalMs: int(50, 3_600_000),
  requestTimeoutMs: int(100, 3_600_000),
  httpRetries: int(0, 20),
  caFile: z.string().min(1).optional(),
  insecureHttp: z.boolean(),
  requestAuth: z.enum(['mac', 'signature']),
  privacy: z.strictObject({
    requireSecureAggregation: z.boolean(),
    requireDp: z.boolean(),
    maxEpsilon: z.coerce.number().positive().max(1000).optional(),
    minPopulationK: z.coerce.number().int().min(2).max(1000).optional(),
  }),
  populationEpsilonBudget: z.coerce.number().min(0).max(1000),
});

/**
 * Builds the frozen site configuration from environment variables and overrides (flags win):
 * `TWINFED_SITE_DATA_DIR`, `TWINFED_COORDINATOR_URL` (one URL or a comma-separated list of replicas), `TWINFED_LOG_LEVEL`, `TWINFED_POLL_INTERVAL_MS`,
 * `TWINFED_REQUEST_TIMEOUT_MS`, `TWINFED_HTTP_RETRIES`, `TWINFED_CA`, `TWINFED_INSECURE_HTTP`, `TWINFED_REQUEST_AUTH`, and the privacy floors
 * `TWINFED_REQUIRE_SECURE_AGGREGATION`, `TWINFED_REQUIRE_DP`, `TWINFED_MAX_EPSILON`, `TWINFED_MIN_POPULATION_K`, and
 * `TWINFED_POPULATION_EPSILON_BUDGET`. The only
 * place the site client reads the environment.
 */
export function loadSiteConfig(
  env: Record<string, string | undefined>,
  overrides: SiteConfigOverrides = {},
): SiteConfig {
  const pick = <T>(o: T | undefined, e: string | undefined, d: T | string): T | string =>
    o !== undefined ? o : e !== undefined && e !== '' ? e : d;
  const raw = {
    dataDir: pick(overrides.dataDir, env.TWINFED_SITE_DATA_DIR, DEFAULT_DATA_DIR),
    coordinatorUrls: overrides.coordinatorUrls ?? splitUrlList(env.TWINFED_COORDINATOR_URL),
    logLevel: pick(overrides.logLevel, env.TWINFED_LOG_LEVEL, 'info'),
    pollIntervalMs: pick(overrides.pollIntervalMs, env.TWINFED_POLL_INTERVAL_MS, 3000),
    requestTimeoutMs: pick(overrides.requestTimeoutMs, env.TWINFED_REQUEST_TIMEOUT_MS, 30_000),
    httpRetries: pick(overrides.httpRetries, env.TWINFED_HTTP_RETRIES, 5),
    caFile: overrides.caFile ?? (env.TWINFED_CA || undefined),
    insecureHttp: overrides.insecureHttp ?? envFlag(env.TWINFED_INSECURE_HTTP),
    requestAuth: pick(overrides.requestAuth, env.TWINFED_REQUEST_AUTH, 'mac'),
    privacy: {
      requireSecureAggregation:
        overrides.privacy?.requireSecureAggregation ?? envFlag(env.TWINFED_REQUIRE_SECURE_AGGREGATION),
      requireDp: overrides.privacy?.requireDp ?? envFlag(env.TWINFED_REQUIRE_DP),
      maxEpsilon: overrides.privacy?.maxEpsilon ?? (env.TWINFED_MAX_EPSILON || undefined),
      minPopulationK: overrides.privacy?.minPopulationK ?? (env.TWINFED_MIN_POPULATION_K || undefined),
    },
    populationEpsilonBudget: pick(
      overrides.populationEpsilonBudget,
      env.TWINFED_POPULATION_EPSILON_BUDGET,
      DEFAULT_POPULATION_EPSILON_BUDGET,
    ),
  };
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') ?? 'config';
    throw new TwinfedError('CONFIG_INVALID', `Invalid configuration: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const c = parsed.data;
  const { maxEpsilon, minPopulationK, ...flags } = c.privacy;
  const privacy: PrivacyFloors = Object.freeze({
    ...flags,
    ...(maxEpsilon === undefined ? {} : { maxEpsilon }),
    ...(minPopulationK === undefined ? {} : { minPopulationK }),
  });
  return Object.freeze({
    ...c,
    dataDir: path.resolve(c.dataDir),
    coordinatorUrls: c.coordinatorUrls ? Object.freeze([...new Set(c.coordinatorUrls)]) : undefined,
    caFile: c.caFile === undefined ? undefined : path.resolve(c.caFile),
    privacy,
  });
}

/** URLs given as `a,b` (and/or repeated flags, already split into items): trimmed, empty items dropped. */
export function splitUrlList(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = (typeof value === 'string' ? [value] : value)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  return items.length > 0 ? items : undefined;
}
