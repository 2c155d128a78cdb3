#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the `prepare` script).
import { main, nodeContext } from '../dist/cli/main.js';

// A reader that stops early (`enclave-verify verify doc | head`) closes the pipe. Node ignores
// SIGPIPE, so the write fails with EPIPE; that is not a failure of the check: a finished command
// keeps its exit code (verified, rejected, unusable input) instead of dying with a stack trace.
// A command still running (`deployment --watch`) has no one left to tell, so it stops with 141,
// the status shells give a program killed by SIGPIPE.
let finished = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    if (!finished) process.exit(141);
  });
}

const code = await main(process.argv.slice(2), nodeContext());
finished = true;
// Let pending stdout writes drain instead of calling process.exit() mid-flush.
process.exitCode = code;
