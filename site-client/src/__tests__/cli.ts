/** Test support: the site CLI run in-process with captured output. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CliDeps } from '../cli/context';
import type { SitePolicy } from '../governance/policy';
import { POLICY_FILE } from '../governance/policy-file';
import { runCli } from '../cli/program';

/** Deps for one CLI run (empty env, stdout and stderr collected, `extra` on top) and what was written. */
export function io(extra: Partial<CliDeps> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const deps: CliDeps = {
    env: {},
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    ...extra,
  };
  return {
    deps,
    out: () => out.join(''),
    err: () => err.join(''),
    /** stdout as JSON lines (for `--json`). */
    lines: () =>
      out
        .join('')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Runs `twinfed-site <args>` with `deps`; resolves to the exit code. */
export const cli = (args: string[], deps: CliDeps): Promise<number> => runCli(['node', 'twinfed-site', ...args], deps);

/** A path `site` inside a fresh temp directory named `twinfed-<prefix>-…` (the path itself is not created). */
export const tmpSiteDir = (prefix: string): string =>
  path.join(fs.mkdtempSync(path.join(os.tmpdir(), `twinfed-${prefix}-`)), 'site');

/** Writes the site policy `<dataDir>/policy.json` (`{ autoApprove: true }`: plans within its rules run without a person). */
export function writeSitePolicy(dataDir: string, policy: SitePolicy): void {
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(path.join(dataDir, POLICY_FILE), JSON.stringify(policy, null, 2));
}

/** The arguments of `twinfed-site enroll` into `dataDir` against the fake coordinator (`coordinatorFetch`) at https://coord.test. */
export const enrollArgs = (dataDir: string): string[] => [
  'enroll',
  '--coordinator',
  'https://coord.test',
  '--token',
  'tok-0123456789abcdef',
  '--data-dir',
  dataDir,
];
