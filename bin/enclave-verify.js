#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the `prepare` script).
import { main, nodeContext } from '../dist/cli/main.js';

// A reader that stops early (`enclave-verify verify doc | head`) closes the pipe. Node ignores
// SIGPIPE, so writes fail with EPIPE; that is not a failure of the check. The command runs to
// its end (cleaning up its temporary files and servers) and keeps its exit code instead of
// dying with a stack trace; `deployment --watch` stops at its next probe once nobody reads.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const code = await main(process.argv.slice(2), nodeContext());
// Let pending stdout writes drain instead of calling process.exit() mid-flush.
process.exitCode = code;
