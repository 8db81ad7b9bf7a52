import { printableJson } from '@twinfed/shared';
import { loadSiteConfig, type LogLevel, type SiteConfig } from '../config';
import { createLogger, type Logger } from '../logger';
import type { FetchLike } from '../transport/http';

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
export function commandContext(deps: CliDeps, flags: CommonFlags & { coordinatorUrl?: string; pollIntervalMs?: number }): { config: SiteConfig; logger: Logger } {
  const quiet = deps.env.TWINFED_LOG_LEVEL ? undefined : 'warn';
  const config = loadSiteConfig(deps.env, {
    dataDir: flags.dataDir,
    coordinatorUrl: flags.coordinatorUrl,
    logLevel: flags.logLevel ?? (flags.debug ? 'debug' : quiet),
    pollIntervalMs: flags.pollIntervalMs,
  });
  const logger = createLogger({ level: config.logLevel, pretty: deps.stderr.isTTY === true });
  return { config, logger };
}
