#!/usr/bin/env node
// `npm run fuzz [-- --scale N] [--seed S] [--only attestation|eif|cbor|archives]`: the fuzz
// campaigns of test/fuzz/ at N times their `npm test` size (default 10: 200,000 attestation
// documents, 100,000 EIF headers...) with a fresh seed, printed so a failure can be replayed
// with --seed. Same oracles, bounds and figures as the tests.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '10' },
    seed: { type: 'string' },
    only: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: npm run fuzz -- [--scale N] [--seed S] [--only attestation|eif|cbor|archives]...');
  process.exit(0);
}
const scale = Number(values.scale);
if (!(scale > 0)) {
  console.error('fuzz: --scale must be a positive number');
  process.exit(2);
}
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isSafeInteger(seed)) {
  console.error('fuzz: --seed must be an integer');
  process.exit(2);
}
const files = (values.only ?? ['attestation', 'eif', 'cbor', 'archives']).map(
  (n) => `test/fuzz/${n}.test.ts`,
);
console.log(
  `fuzz: scale ${scale}, seed ${seed} (replay with: npm run fuzz -- --scale ${scale} --seed ${seed})`,
);
const root = fileURLToPath(new URL('..', import.meta.url));
const run = spawnSync('npx', ['vitest', 'run', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, FUZZ_SCALE: String(scale), FUZZ_SEED: String(seed) },
});
process.exit(run.status ?? 1);
