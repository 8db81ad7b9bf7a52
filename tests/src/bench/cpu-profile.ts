import fs from 'node:fs';
import path from 'node:path';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) that the summary reads. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
  /** Microseconds of the monotonic clock `process.hrtime` reads too (on Linux): sample i is at startTime + Σ timeDeltas[0..i]. */
  startTime?: number;
}

/** A part of a profiled process's life, in microseconds of the monotonic clock (`process.hrtime.bigint() / 1000n`). */
export interface ProfileWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

/** One function's self time in a profile. */
export interface ProfileEntry {
  /** `name (file:line)`, the file relative to the repository or to node_modules. */
  readonly frame: string;
  readonly selfMs: number;
  /** Share of the busy time (everything but `(idle)`), percent. */
  readonly selfPct: number;
}

/** The top of a profile by self time. */
export interface ProfileSummary {
  /** Sampled time, idle included, ms. */
  readonly totalMs: number;
  /** Time the event loop waited with nothing to run, ms. */
  readonly idleMs: number;
  readonly top: ProfileEntry[];
  /** Set when only the samples of this window were summed (e.g. the federation, without enrollment). */
  readonly window?: ProfileWindow;
}

/** Where a frame comes from, short: `express/lib/router.js`, `coordinator/dist/http/app.js`, `node:internal/…`. */
function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const m = /\/(shared|sqlite-kit|models|coordinator|site-client|tests)\/dist\/(.*)$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : url.replace(/^file:\/\//, '');
}

/**
 * Sums self time per function (same name and source line) over a `.cpuprofile` and returns the `n` largest
 * entries, beside the idle time. The sampling profiler counts wall time on the main thread: a synchronous
 * fsync inside a SQLite commit appears as self time of the function that committed.
 */
export function summariseCpuProfile(profile: CpuProfile, n = 20, window?: ProfileWindow): ProfileSummary {
  return summariseCpuProfiles([profile], n, window);
}

/**
 * {@link summariseCpuProfile} over several processes' profiles at once (e.g. the processes simulating the sites):
 * a function's self time is its sum over all of them, idle likewise.
 */
export function summariseCpuProfiles(profiles: readonly CpuProfile[], n = 20, window?: ProfileWindow): ProfileSummary {
  const self = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const profile of profiles) {
    if (window && profile.startTime === undefined)
      throw new Error('a profile without startTime cannot be cut to a window');
    const timeOf = new Map<number, number>();
    let at = profile.startTime ?? 0;
    profile.samples.forEach((id, i) => {
      const delta = profile.timeDeltas[i] ?? 0;
      at += delta;
      if (!window || (at >= window.fromUs && at <= window.toUs)) timeOf.set(id, (timeOf.get(id) ?? 0) + delta);
    });
    for (const node of profile.nodes) {
      const ms = (timeOf.get(node.id) ?? 0) / 1000;
      if (ms === 0) continue;
      totalMs += ms;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)') {
        idleMs += ms;
        continue;
      }
      const frame = url ? `${functionName || '(anonymous)'} (${shortUrl(url)}:${lineNumber + 1})` : functionName;
      self.set(frame, (self.get(frame) ?? 0) + ms);
    }
  }
  const busy = totalMs - idleMs;
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([frame, selfMs]) => ({ frame, selfMs, selfPct: busy > 0 ? (100 * selfMs) / busy : 0 }));
  return { totalMs, idleMs, top, ...(window ? { window } : {}) };
}

/**
 * Reads and summarises the `.cpuprofile` files that `node --cpu-prof --cpu-prof-dir=<dir>` wrote into `dir`: exactly
 * `processes` of them (one per profiled process), summed.
 */
export function summariseCpuProfileDir(dir: string, n = 20, window?: ProfileWindow, processes = 1): ProfileSummary {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length !== processes)
    throw new Error(`expected ${processes} .cpuprofile file(s) in ${dir}, found ${files.length}`);
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile;
  return summariseCpuProfiles(files.sort().map(read), n, window);
}
