import { InvalidArgumentError, Option } from 'commander';
import { parseInstant } from '../ingest/time';

/** A commander parser of numbers that pass `check`; `what` is the error message. */
export const numberArg =
  (what: string, check: (n: number) => boolean) =>
  (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`${what}.`);
    return n;
  };

/** A positive integer option. */
export const positiveInt = (what: string) =>
  numberArg(`${what} must be a positive integer`, (n) => Number.isInteger(n) && n >= 1);

/** Where a server listens. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `host:port`, `[v6]:port`, `:port` or `port` (host 127.0.0.1 when omitted). */
export function listenArg(v: string): ListenAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(v.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535)
    throw new InvalidArgumentError('give host:port, e.g. 127.0.0.1:8471 (port 0 picks a free port).');
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { host, port };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Parses an ISO 8601 instant with a zone (or a date) into ms since epoch. */
export function instantArg(v: string): number {
  const t = parseInstant(v);
  if (t === null) throw new InvalidArgumentError('give an ISO 8601 instant with a zone, e.g. 2025-01-29T00:00:00Z.');
  return t;
}

/** A line of text of 1 to `max` characters, without control characters (a name or a note kept in the audit chain). */
export const textArg =
  (what: string, max: number) =>
  (v: string): string => {
    const t = v.trim();
    // eslint-disable-next-line no-control-regex
    if (t === '' || t.length > max || /[\u0000-\u001f\u007f]/.test(t))
      throw new InvalidArgumentError(`${what} must be 1 to ${max} characters on one line.`);
    return t;
  };

/** The repeatable `--coordinator <url>` option: every value in order (each may itself be a comma-separated list). */
export function coordinatorOption(description: string): Option {
  return new Option(
    `--coordinator <url>`,
    `${description}; repeat it, or separate URLs with commas, to list every replica`,
  ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
}
