// Bun and Deno entry: import the built package entry, run the cases in the payload file named
// by the first argument, print one JSON object.
import * as lib from '../../dist/index.js';
import { runRuntimeCases } from './cases.mjs';

const args = globalThis.Deno ? globalThis.Deno.args : globalThis.Bun.argv.slice(2);
const text = globalThis.Deno
  ? await globalThis.Deno.readTextFile(args[0])
  : await globalThis.Bun.file(args[0]).text();
const runtime = globalThis.Deno ? `deno ${globalThis.Deno.version.deno}` : `bun ${globalThis.Bun.version}`;
console.log(JSON.stringify({ runtime, ...(await runRuntimeCases(lib, JSON.parse(text))) }));
