/**
 * The one logger factory of twinfed (pino), for the coordinator and the site client alike, with one redaction
 * list. Callers should not pass secrets, raw weights or patient rows to a logger in the first place; the
 * redaction is the net under the rope.
 */
import pino from 'pino';
import pinoPretty from 'pino-pretty';
import { MAC_HEADER, SIGNATURE_HEADER } from './auth/headers';

/** The structured logger passed down through the coordinator and the site client. */
export type Logger = pino.Logger;

/**
 * Keys whose values never reach a log line, at the top level of a log object or one level down: tokens, keys,
 * the request-signature and request-MAC headers, weights and patient rows (`rows`, `x`, `y`).
 */
const REDACTED_KEYS = [
  'token',
  'secretKey',
  'signSecretKey',
  'boxSecretKey',
  'authorization',
  SIGNATURE_HEADER,
  MAC_HEADER,
  'weights',
  'rows',
  'x',
  'y',
];

/** Request headers that carry credentials, wherever an HTTP request object is logged as `req`. */
const REDACTED_HEADERS = ['authorization', SIGNATURE_HEADER, MAC_HEADER];

const key = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `["${k}"]`);

/** The pino redaction paths of {@link REDACTED_KEYS} and {@link REDACTED_HEADERS}. */
const REDACT_PATHS: readonly string[] = [
  ...REDACTED_KEYS.flatMap((k) => [key(k).replace(/^\./, ''), `*${key(k)}`]),
  ...REDACTED_HEADERS.map((h) => `req.headers${key(h)}`),
];

/** Options of {@link createLogger}. */
interface CreateLoggerOptions {
  level: pino.LevelWithSilentOrString;
  /** Fields on every line that name the program (`{ name: 'twinfed-coordinator' }`, `{ component: 'site-client' }`). */
  bindings: Readonly<Record<string, string>>;
  /** Where lines go: a stream, or stdout / stderr (synchronous writes). Default stderr. */
  destination?: pino.DestinationStream | 'stdout' | 'stderr';
  /** Human-readable lines (pino-pretty, to stderr) instead of JSON. */
  pretty?: boolean;
}

/** A pino logger with the redaction list applied: JSON lines without pid or hostname, or pretty lines. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const config = {
    level: options.level,
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    base: { ...options.bindings },
  };
  if (options.pretty) {
    return pino(
      config,
      pinoPretty({
        destination: 2,
        colorize: true,
        ignore: ['pid', 'hostname', ...Object.keys(options.bindings)].join(','),
        sync: true,
      }),
    );
  }
  const d = options.destination ?? 'stderr';
  return pino(config, typeof d === 'string' ? pino.destination({ dest: d === 'stdout' ? 1 : 2, sync: true }) : d);
}

/** A logger that drops everything (tests, library callers that do not care). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
