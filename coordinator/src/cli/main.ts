#!/usr/bin/env node
/** Entry point of the `twinfed` binary: the only place that reads the process environment and streams. */
import { exitQuietlyOnClosedPipe } from '@twinfed/shared';
import { runCli } from './program';

exitQuietlyOnClosedPipe(process.stdout);

void runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
);
