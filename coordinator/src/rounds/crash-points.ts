import fs from 'node:fs';

/**
 * Named moments of the round engine where a crash leaves a distinct state in the store. The fault tests
 * kill the coordinator at each of them (`TWINFED_TEST_CRASH_AT=<point>[:<nth>]`, read by the CLI only) to
 * prove that every one of them resumes. `TWINFED_TEST_CRASH_FILE=<file>` arms a running process instead: the
 * replica tests write a spec into the file of the replica that drives a federation right now.
 */
export const CRASH_POINTS = [
  /** The federation row exists, its initial version does not yet. */
  'federation.created',
  /** An upload was verified and decrypted, nothing stored yet. */
  'upload.verified',
  /** The envelope is durable, the site has no acknowledgement. */
  'upload.stored',
  /** The acknowledgement was handed to the HTTP layer (it may or may not reach the site). */
  'upload.responded',
  /** The round is `aggregating`, no version yet. */
  'round.aggregating',
  /** The version is published, the next round does not exist yet. */
  'version.published',
  /** The next round exists, the federation does not point at it yet. */
  'round.created',
  /** The round is open and current; its deadline timer and announcement are not yet set up. */
  'round.opened',
] as const;

/** One of {@link CRASH_POINTS}. */
export type CrashPoint = (typeof CRASH_POINTS)[number];

/** Called at each crash point; the default does nothing. */
export interface CrashPoints {
  hit(point: CrashPoint): void;
}

/** Never crashes. */
export const noCrashPoints: CrashPoints = { hit: () => undefined };

/**
 * Parses `<point>[:<nth>]` (nth ≥ 1, default 1) into crash points that call `kill` on the nth hit of that
 * point. Returns null for an empty spec; throws on an unknown point.
 */
export function crashPointsFrom(spec: string | undefined, kill: () => void): CrashPoints | null {
  if (!spec) return null;
  const [name, nthText] = spec.split(':');
  if (!(CRASH_POINTS as readonly string[]).includes(name ?? ''))
    throw new Error(`unknown crash point "${name}" (one of ${CRASH_POINTS.join(', ')})`);
  const nth = nthText === undefined ? 1 : Number(nthText);
  if (!Number.isInteger(nth) || nth < 1)
    throw new Error(`crash point count must be a positive integer, got "${nthText}"`);
  let seen = 0;
  return {
    hit: (point) => {
      if (point === name && ++seen === nth) kill();
    },
  };
}

/**
 * Crash points armed through a file: at every hit the file is read again, and a spec written there (`<point>[:<nth>]`,
 * counted from when the file's spec changed) arms the process from then on; an absent or empty file arms nothing.
 * Returns null when no file is given.
 */
export function crashPointsFromFile(file: string | undefined, kill: () => void): CrashPoints | null {
  if (!file) return null;
  let spec = '';
  let armed: CrashPoints | null = null;
  return {
    hit: (point) => {
      let now = '';
      try {
        now = fs.readFileSync(file, 'utf8').trim();
      } catch {
        now = '';
      }
      if (now !== spec) {
        spec = now;
        armed = crashPointsFrom(spec || undefined, kill);
      }
      armed?.hit(point);
    },
  };
}
