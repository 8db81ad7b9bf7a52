/** Runs the CLI in-process with captured output. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
export function fakeCoordinatorCli(): {
  readonly fake: FakeCoordinator;
  readonly dir: string;
  op: (...args: string[]) => string[];
} {
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

/** A valid plan for the CLI tests (fedprox over two features, three rounds). */
export const GOOD_PLAN = {
  name: 'heart-prox',
  model: { kind: 'logistic-regression', inputs: 2 },
  data: { features: ['age', 'chol'] },
  strategy: { name: 'fedprox', mu: 0.01 },
  training: { steps: 10 },
  rounds: 3,
};

/** Writes `content` (JSON-encoded unless a string) to `dir`/plan.json and returns the path. */
export async function writePlanFile(dir: string, content: unknown): Promise<string> {
  const file = path.join(dir, 'plan.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** The table printed after the line starting with `title`, as rows of cells (cells are separated by 2+ spaces). */
export function tableAfter(stdout: string, title: string): string[][] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(title));
  expect(start).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || line.startsWith('(')) break;
    rows.push(line.trim().split(/ {2,}/));
  }
  return rows;
}
