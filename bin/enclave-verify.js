#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the `prepare` script).
import { main, nodeContext } from '../dist/cli/main.js';

const code = await main(process.argv.slice(2), nodeContext());
// Let pending stdout writes drain instead of calling process.exit() mid-flush.
process.exitCode = code;
