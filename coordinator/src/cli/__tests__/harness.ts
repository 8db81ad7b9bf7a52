/** Runs the CLI in-process with captured output. */
import { runCli, type CliDeps } from '../program';

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
