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
  /**
   * Busy time by the module that did it: each sample goes to the nearest frame (the sampled one or a caller) in a
   * package or one of the workspace's files, so node's own work (headers, streams, hashing) counts for the module
   * that asked for it; native leaves without a caller of that kind (garbage collector, program) keep their name.
   * Largest first (`frame` is the module).
   */
  readonly byModule?: ProfileEntry[];
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

/** The module a frame belongs to: a package (`express`, `@scope/name`), a workspace file's package and folder
 * (`coordinator/http`), or undefined for node's own frames and natives. */
function moduleOf(url: string): string | undefined {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const m = /\/(shared|sqlite-kit|models|coordinator|site-client|tests)\/dist\/(.*)$/.exec(url);
  if (!m) return undefined;
  const dir = m[2]!.split('/').slice(0, -1).join('/');
  return dir ? `${m[1]}/${dir}` : m[1];
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
  const byModule = new Map<string, number>();
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
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const moduleOfNode = (id: number): string => {
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const m = moduleOf(byId.get(at)?.callFrame.url ?? '');
        if (m) return m;
      }
      const leaf = byId.get(id)?.callFrame;
      return leaf?.url ? 'node (no package caller)' : (leaf?.functionName ?? '?');
    };
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
      const module = moduleOfNode(node.id);
      byModule.set(module, (byModule.get(module) ?? 0) + ms);
    }
  }
  const busy = totalMs - idleMs;
  const largest = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, k)
      .map(([frame, selfMs]) => ({ frame, selfMs, selfPct: busy > 0 ? (100 * selfMs) / busy : 0 }));
  return { totalMs, idleMs, top: largest(self, n), byModule: largest(byModule, n), ...(window ? { window } : {}) };
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
