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
import { loadSiteConfig, type LogLevel, type SiteConfig } from '../config';
import type { PrivacyFloors } from '../training/privacy-floors';
import type { FetchLike } from '../transport/http';

/** The `--data-dir` option every site command takes (`description` when a command says more about what it uses it for). */
export function dataDirOption(
  description = 'the site data directory (default ./.twinfed-site, or TWINFED_SITE_DATA_DIR)',
): Option {
  return new Option('--data-dir <dir>', description);
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
    coordinatorUrl?: string;
    pollIntervalMs?: number;
    ca?: string;
    insecureHttp?: boolean;
    privacy?: PrivacyFloors;
  },
): { config: SiteConfig; logger: Logger } {
  const quiet = deps.env.TWINFED_LOG_LEVEL ? undefined : 'warn';
  const config = loadSiteConfig(deps.env, {
    dataDir: flags.dataDir,
    coordinatorUrl: flags.coordinatorUrl,
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

/** How a command reaches the coordinator: its URL (checked), the CA it trusts, and the fetch that trusts it. */
interface CoordinatorAccess {
  baseUrl: string;
  /** PEM CA certificate (from --ca / TWINFED_CA, else the one recorded at enrollment). */
  ca: string | undefined;
  fetch: FetchLike | undefined;
}

/**
 * Resolves and checks how to reach the coordinator before anything is sent: the URL from flag/env, else
 * `recorded` (enrollment); plain http to a host that is not loopback is refused (`INSECURE_URL`) unless
 * --insecure-http; the CA from --ca/TWINFED_CA, else the one recorded at enrollment.
 */
export function coordinatorAccess(
  deps: CliDeps,
  config: SiteConfig,
  recorded?: { coordinatorUrl: string; tlsCa?: string | undefined },
): CoordinatorAccess {
  const baseUrl = config.coordinatorUrl ?? recorded?.coordinatorUrl;
  if (!baseUrl)
    throw new TwinfedError(
      'CONFIG_INVALID',
      'Give the coordinator URL with --coordinator <url> (or TWINFED_COORDINATOR_URL).',
    );
  requireSecureUrl(baseUrl, { insecureHttp: config.insecureHttp, what: 'The coordinator URL' });
  const ca = config.caFile !== undefined ? readCaFile(config.caFile) : recorded?.tlsCa;
  const fetch = deps.fetch ?? (ca !== undefined ? createFetch({ ca }) : undefined);
  return { baseUrl, ca, fetch };
}
