import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The coordinator's structured logger. Redacts anything that could carry a secret: tokens, keys,
 * signatures and raw bodies are never logged (payloads are not passed to the logger in the first place).
 */
export function createLogger(options: { level: string; name?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      name: options.name ?? 'twinfed-coordinator',
      level: options.level,
      redact: { paths: ['req.headers.authorization', 'req.headers["x-twinfed-signature"]', '*.token', '*.secretKey', 'token'], censor: '[redacted]' },
      base: undefined,
    },
    options.destination,
  );
}
