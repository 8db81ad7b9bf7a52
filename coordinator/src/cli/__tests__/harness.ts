/** Runs the CLI in-process with captured output. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli, type CliDeps } from '../program';
import { OPERATOR_TOKEN, startFakeCoordinator, type FakeCoordinator } from './fake-coordinator';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A write target that collects text. */
export function buffer(): { write(text: string): boolean; text: string } {
  return {
    text: '',
    write(text: string) {
      this.text += text;
      return true;
    },
  };
}

/** Runs `argv` with `env` (default empty) and optional extra deps; never touches process.env or the real streams. */
export async function run(argv: string[], extra: Partial<CliDeps> = {}): Promise<RunResult> {
  const stdout = buffer();
  const stderr = buffer();
  const code = await runCli(argv, { env: {}, ...extra, stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/**
 * Registers beforeEach/afterEach hooks: a fresh fake coordinator and temp dir for every test. `op(...)` prefixes
 * the operator's `--url` and `--token`.
 */
export function fakeCoordinatorCli(): { readonly fake: FakeCoordinator; readonly dir: string; op: (...args: string[]) => string[] } {
  let fake: FakeCoordinator | undefined;
  let dir = '';
  beforeEach(async () => {
    fake = await startFakeCoordinator();
    dir = await mkdtemp(path.join(os.tmpdir(), 'twinfed-cli-'));
  });
  afterEach(async () => {
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get fake() {
      return fake!;
    },
    get dir() {
      return dir;
    },
    op: (...args: string[]) => ['--url', fake!.url, '--token', OPERATOR_TOKEN, ...args],
  };
}
