import pino from 'pino';
import pinoPretty from 'pino-pretty';
import type { LogLevel } from './config';

/** The structured logger the site client passes down (pino). */
export type Logger = pino.Logger;

/**
 * Keys that must never reach a log line. Callers should not log them in the first place; this is the net
 * under the rope (weights, keys, tokens, patient rows).
 */
export const REDACTED_KEYS = ['token', 'secretKey', 'signSecretKey', 'boxSecretKey', 'weights', 'rows', 'x', 'y', 'authorization'];

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  level: LogLevel;
  /** Where lines go; stderr by default (stdout is the CLI's). */
  destination?: pino.DestinationStream;
  /** Human-readable lines (pino-pretty) instead of JSON. */
  pretty?: boolean;
}

/** A pino logger with secrets redacted; JSON to stderr unless `pretty`. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const redact = { paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`]), censor: '[redacted]' };
  const base = { level: options.level, redact, base: { component: 'site-client' } };
  if (options.pretty) {
    return pino(base, pinoPretty({ destination: 2, colorize: true, ignore: 'pid,hostname,component', sync: true }));
  }
  return pino(base, options.destination ?? pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything (tests, library callers that do not care). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
