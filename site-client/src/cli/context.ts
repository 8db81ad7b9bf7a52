import { Option } from 'commander';
import {
  TwinfedError,
  createFetch,
  printableJson,
  readCaFile,
  requireSecureUrl,
  createLogger,
  type Logger,
} from '@twinfed/shared';
import { loadSiteConfig, splitUrlList, type LogLevel, type SiteConfig } from '../config';
import type { PrivacyFloors } from '../governance/policy';
import { enrollmentCredentials, type Enrollment } from '../identity/load';
import { CoordinatorEndpoints } from '../transport/endpoints';
import type { FetchLike, HttpTransportOptions } from '../transport/http';
import { SiteAuthenticator } from '../transport/site-auth';

/** The `--data-dir` option every site command takes (`description` when a command says more about what it uses it for). */
export function dataDirOption(
  description = 'the site data directory (default ./.twinfed-site, or TWINFED_SITE_DATA_DIR)',
): Option {
  return new Option('--data-dir <dir>', description);
}

/** The `--patient-system` option of the commands that write FHIR RiskAssessments (`score`, `serve`). */
export function patientSystemOption(): Option {
  return new Option(
    '--patient-system <uri>',
    'identifier system of the hospital id in FHIR RiskAssessment subjects (e.g. the MRN system)',
  );
}

/** A writable text stream (stdout, stderr, or a buffer in tests). */
export interface TextOut {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** What the CLI gets from its host process: environment, output streams, and seams for tests. */
export interface CliDeps {
  env: Record<string, string | undefined>;
  stdout: TextOut;
  stderr: TextOut;
  /** Replaces global fetch (tests). */
  fetch?: FetchLike;
  /** Registers a handler for Ctrl-C; returns the unregister function (default: process SIGINT/SIGTERM). */
  onInterrupt?: (handler: () => void) => () => void;
}

/** Options every command understands (global ones included). */
export interface CommonFlags {
  dataDir?: string;
  logLevel?: LogLevel;
  debug?: boolean;
  json?: boolean;
}

/** Writes one JSON object as a line (the `--json` output format). */
export function writeJsonLine(out: TextOut, value: unknown): void {
  out.write(`${printableJson(value)}\n`);
}

/** Config and logger for one command invocation: flags over environment; the CLI logs `warn`+ unless asked. */
export function commandContext(
  deps: CliDeps,
  flags: CommonFlags & {
    /** `--coordinator` values (repeated and/or comma-separated). */
    coordinator?: string | readonly string[];
    pollIntervalMs?: number;
    ca?: string;
    insecureHttp?: boolean;
    privacy?: PrivacyFloors;
  },
): { config: SiteConfig; logger: Logger } {
  const quiet = deps.env.TWINFED_LOG_LEVEL ? undefined : 'warn';
  const config = loadSiteConfig(deps.env, {
    dataDir: flags.dataDir,
    coordinatorUrls: splitUrlList(flags.coordinator),
    logLevel: flags.logLevel ?? (flags.debug ? 'debug' : quiet),
    pollIntervalMs: flags.pollIntervalMs,
    caFile: flags.ca,
    insecureHttp: flags.insecureHttp === true ? true : undefined,
    privacy: flags.privacy,
  });
  const logger = createLogger({
    level: config.logLevel,
    bindings: { component: 'site-client' },
    pretty: deps.stderr.isTTY === true,
  });
  return { config, logger };
}

/** How a command reaches the coordinator: its URLs (checked), the CA it trusts, and the fetch that trusts it. */
interface CoordinatorAccess {
  /** One URL, or every replica's in the order to try them. */
  baseUrls: readonly string[];
  /** PEM CA certificate (from --ca / TWINFED_CA, else the one recorded at enrollment). */
  ca: string | undefined;
  fetch: FetchLike | undefined;
}

/**
 * Resolves and checks how to reach the coordinator before anything is sent: the URLs from flag/env, else
 * `recorded` (enrollment); plain http to a host that is not loopback is refused (`INSECURE_URL`) unless
 * --insecure-http; the CA from --ca/TWINFED_CA, else the one recorded at enrollment.
 */
export function coordinatorAccess(
  deps: CliDeps,
  config: SiteConfig,
  recorded?: { coordinatorUrls: readonly string[]; tlsCa?: string | undefined },
): CoordinatorAccess {
  const baseUrls = config.coordinatorUrls ?? recorded?.coordinatorUrls;
  if (!baseUrls || baseUrls.length === 0)
    throw new TwinfedError(
      'CONFIG_INVALID',
      'Give the coordinator URL with --coordinator <url> (or TWINFED_COORDINATOR_URL; several replicas: <url1>,<url2>).',
    );
  for (const url of baseUrls) requireSecureUrl(url, { insecureHttp: config.insecureHttp, what: 'The coordinator URL' });
  const ca = config.caFile !== undefined ? readCaFile(config.caFile) : recorded?.tlsCa;
  const fetch = deps.fetch ?? (ca !== undefined ? createFetch({ ca }) : undefined);
  return { baseUrls, ca, fetch };
}

/**
 * The one authenticator of an enrolled site's transports: request MACs under the key of its box key and the
 * coordinator's pinned one, unless `requestAuth` is `signature`.
 */
export function siteAuthenticator(config: SiteConfig, enrollment: Enrollment, logger: Logger): SiteAuthenticator {
  return new SiteAuthenticator(enrollmentCredentials(enrollment), { logger, requestAuth: config.requestAuth });
}

/**
 * How an enrolled site's command talks to the coordinator: {@link coordinatorAccess} checked against what enrollment
 * recorded, and the signed HTTP transport options (site key, timeout, retries, logger). Its `baseUrl` is one
 * {@link CoordinatorEndpoints}: every transport built from these options (and the event stream given `http.baseUrl`)
 * follows the same fail-over between the coordinator's URLs.
 */
export function siteHttp(
  deps: CliDeps,
  config: SiteConfig,
  enrollment: Enrollment,
  logger: Logger,
): { access: CoordinatorAccess; http: HttpTransportOptions; credentials: SiteAuthenticator } {
  const access = coordinatorAccess(deps, config, enrollment.state); // https, or http to this machine only
  const credentials = siteAuthenticator(config, enrollment, logger);
  const http: HttpTransportOptions = {
    baseUrl: new CoordinatorEndpoints(access.baseUrls),
    credentials,
    timeoutMs: config.requestTimeoutMs,
    retry: { retries: config.httpRetries, baseMs: 250, maxMs: 30_000 },
    logger,
    ...(access.fetch ? { fetch: access.fetch } : {}),
  };
  return { access, http, credentials };
}
