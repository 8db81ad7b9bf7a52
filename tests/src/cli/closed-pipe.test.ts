/**
 * `twinfed … | head`: when the reader of a CLI's output goes away (a closed pipe), the CLI stops quietly with
 * status 0 — no EPIPE stack trace on the terminal.
 */
import { spawn } from 'node:child_process';
import { coordinatorCli, siteCli } from '../support/paths';

async function runWithClosedStdout(script: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.destroy(); // the reader is gone before the first byte is written
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { code, stderr };
}

describe('a CLI whose reader closed the pipe', () => {
  for (const [name, script, args] of [
    ['twinfed', coordinatorCli(), ['stats', 'query', '--help']],
    ['twinfed-site', siteCli(), ['stats', 'answer', '--help']],
  ] as const) {
    test(`${name} exits 0 without a stack trace`, async () => {
      const r = await runWithClosedStdout(script, [...args]);
      expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error' event/);
      expect(r.code).toBe(0);
    });
  }
});
