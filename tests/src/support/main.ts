/**
 * Runs a command-line entry point (a demo, bench or load run) with the process's argv: when it fails, prints
 * `<label> failed: <stack>` (just the message with `stack: false`) to stderr and exits with status 1.
 */
export function runMain(label: string, main: (argv: string[]) => Promise<void>, opts: { stack?: boolean } = {}): void {
  main(process.argv).catch((err: unknown) => {
    const detail =
      err instanceof Error ? (opts.stack === false ? err.message : (err.stack ?? err.message)) : String(err);
    process.stderr.write(`${label} failed: ${detail}\n`);
    process.exit(1);
  });
}
