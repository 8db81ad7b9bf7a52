import type { CliDeps } from '@twinfed/site-client';

/** Deps for one in-process CLI run (empty env) with what it wrote to stdout and stderr. */
export function cliIo(): { deps: CliDeps; out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    deps: { env: {}, stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}
