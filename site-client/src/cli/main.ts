#!/usr/bin/env node
import { exitQuietlyOnClosedPipe } from '@twinfed/shared';
import { runCli } from './program';

exitQuietlyOnClosedPipe(process.stdout);

/** The `twinfed-site` executable: the only place that touches the real process. */
function onInterrupt(handler: () => void): () => void {
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

runCli(process.argv, { env: process.env, stdout: process.stdout, stderr: process.stderr, onInterrupt }).then(
  (code) => {
    process.exitCode = code;
    // If a library left a handle open (a socket, a worker), do not hang: leave once output had time to flush.
    setTimeout(() => process.exit(code), 500).unref();
  },
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
