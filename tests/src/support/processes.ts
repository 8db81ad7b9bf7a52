import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

/** A child process with its output captured line by line. */
export interface Child {
  proc: ChildProcess;
  name: string;
  /** Every stdout and stderr line so far. */
  lines: string[];
  /** Resolves with the exit code once the process has exited and all its output is in `lines`. */
  exited: Promise<number | null>;
  /** Resolves with the first line matching `re` (rejects on exit or after `timeoutMs`). */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
}

/**
 * Starts `node <script> ...args` with output captured (never inherited: site output may be verbose).
 * `onLine` sees every line (the demo forwards nothing but uses it for diagnostics on failure).
 */
export function startNode(opts: {
  name: string;
  script: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Options of node itself, before the script (e.g. `--cpu-prof`, which NODE_OPTIONS does not take). */
  nodeArgs?: string[];
  onLine?: (line: string) => void;
}): Child {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script, ...opts.args], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  const onLine = (line: string) => {
    lines.push(line);
    opts.onLine?.(line);
    for (const w of [...waiters]) {
      if (w.re.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  readline.createInterface({ input: proc.stdout }).on('line', onLine);
  readline.createInterface({ input: proc.stderr }).on('line', onLine);
  // 'close', not 'exit': 'exit' can come before the last lines of the pipes have been read.
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return {
    proc,
    name: opts.name,
    lines,
    exited,
    waitForLine: (re, timeoutMs = 30_000) =>
      new Promise<string>((resolve, reject) => {
        const hit = lines.find((l) => re.test(l));
        if (hit) return resolve(hit);
        const timer = setTimeout(
          () =>
            reject(
              new Error(`${opts.name}: no line matching ${re} within ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`),
            ),
          timeoutMs,
        );
        waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${opts.name} exited (${code}) before printing ${re}:\n${lines.slice(-20).join('\n')}`));
        });
      }),
  };
}

/** Runs `node <script> ...args` to completion; rejects with its output on a non-zero exit. */
export async function runNode(opts: {
  name: string;
  script: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}): Promise<string[]> {
  const child = startNode(opts);
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const code = await child.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${opts.name} failed (exit ${code}):\n${child.lines.join('\n')}`);
  return child.lines;
}

/** Stops a child gracefully (SIGTERM), then forcefully after `graceMs`. */
export async function stop(child: Child, graceMs = 5000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return void (await child.exited);
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** A line a child printed, as a JSON object; null when it is not one (a log line, a table row). */
export function jsonLine(line: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(line);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
