/**
 * Turns any failure of a command into one line on stderr — `twinfed: <message> (<code>)` — plus, for
 * validation failures, one indented line per issue, and chooses the exit code. Stack traces only with --debug.
 */
import { CommanderError } from 'commander';
import { isTwinfedError, printable, type ErrorCode } from '@twinfed/shared';
import type { Output } from './context';

/** Exit status for input the user can fix (a bad plan file, a bad flag). */
const EXIT_USAGE = 2;
/** Exit status for everything else that failed. */
const EXIT_FAILURE = 1;

const INPUT_CODES: readonly ErrorCode[] = ['INVALID_PLAN', 'VALIDATION_FAILED', 'UNKNOWN_STUDY'];

/** One issue of a validation failure: where (a dotted path) and what. */
interface IssueLine {
  path: string;
  message: string;
}

/** Formats a zod-style path (`['data', 'features', 3]`) as `data.features[3]`; the empty path is `(root)`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  if (segments.length === 0) return '(root)';
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i === 0 ? '' : '.'}${String(s)}`)).join('');
}

/**
 * Issue lines from an error's details: an array of issues (the coordinator's VALIDATION_FAILED) or
 * `{ issues: [...] }`; each issue is a zod issue or `{path, message}` with a dotted string path.
 */
export function issueLines(details: unknown): IssueLine[] {
  const issues = Array.isArray(details) ? details : (details as { issues?: unknown } | null | undefined)?.issues;
  if (!Array.isArray(issues)) return [];
  return issues.flatMap((i: unknown) => {
    const { path, message } = (i ?? {}) as { path?: unknown; message?: unknown };
    if (typeof message !== 'string') return [];
    const where = Array.isArray(path)
      ? formatPath(path as PropertyKey[])
      : typeof path === 'string' && path
        ? path
        : '(root)';
    return [{ path: where, message }];
  });
}

/** Writes the error to `stderr` and returns the process exit code. */
export function reportError(e: unknown, opts: { stderr: Output; debug: boolean }): number {
  const { stderr, debug } = opts;
  if (e instanceof CommanderError) {
    // commander already wrote its message through outputError (or the help text for --help / --version).
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
    return e.code === 'commander.help' ? EXIT_FAILURE : EXIT_USAGE;
  }
  if (isTwinfedError(e)) {
    stderr.write(`twinfed: ${oneLine(e.message)} (${e.code})\n`);
    for (const i of issueLines(e.details)) stderr.write(`  - ${i.path}: ${oneLine(i.message)}\n`);
    if (debug && e.stack) stderr.write(`${e.stack}\n`);
    return INPUT_CODES.includes(e.code) ? EXIT_USAGE : EXIT_FAILURE;
  }
  const message = e instanceof Error ? e.message : String(e);
  stderr.write(`twinfed: ${oneLine(message)} (INTERNAL)\n`);
  if (debug && e instanceof Error && e.stack) stderr.write(`${e.stack}\n`);
  return EXIT_FAILURE;
}

function oneLine(text: string): string {
  return printable(text.replace(/\s*\n\s*/g, ' ').trim());
}
