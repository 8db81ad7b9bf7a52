#!/usr/bin/env node
/** Entry point of the `twinfed` binary: the only place that reads the process environment and streams. */
import { runCli } from './program';

void runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
);
