#!/usr/bin/env node
// Canary statements verified per CPU-second: verifyStatement (strict parse, key checks, payload
// rules, times, JCS of the payload, both signatures) against the bare crypto any verifier must do
// for the same statement in the same run (one Ed25519 and one ML-DSA-65 verification over the
// already-built signed bytes). Target: the full check costs at most 1.25x the bare crypto, i.e.
// everything that is not signature arithmetic stays small. Modes run in interleaved rounds; the
// median per-round ratio counts (neighbouring measurements see the same machine load).
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { canonicalJson } from '../../dist/canary/jcs.js';
import {
  decodeBase64UrlStrict,
  parseKeysDocument,
  parseStatement,
  statementSignedBytes,
  verifyStatement,
} from '../../dist/index.js';

const TARGET_RATIO = 1.25;
const ROUNDS = 9;
const ROUND_MS = 400;

const vector = JSON.parse(
  readFileSync(new URL('../../vectors/real/canary/statement-v0-vector.json', import.meta.url), 'utf8'),
);
const text = JSON.stringify(vector.statement);
const keys = parseKeysDocument(canonicalJson(vector.keys));
const now = new Date(vector.verification_time);
const envelope = parseStatement(text);
const message = statementSignedBytes(envelope.payload);
const [edSig, mlSig] = envelope.signers[0].signatures.map((s) => decodeBase64UrlStrict(s.sig));

const modes = {
  bare: async () => {
    if (!ed25519.verify(edSig, message, keys.ed25519, { zip215: false })) throw new Error('ed25519');
    if (!ml_dsa65.verify(mlSig, message, keys.mlDsa65)) throw new Error('ml-dsa');
  },
  full: () => verifyStatement(text, keys, { now }),
};
for (const run of Object.values(modes)) for (let i = 0; i < 20; i++) await run();

async function round(run) {
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < ROUND_MS) {
    await run();
    n++;
  }
  const cpu = process.cpuUsage(cpu0);
  return n / ((cpu.user + cpu.system) / 1e6);
}

const rates = { bare: [], full: [] };
const ratios = [];
for (let r = 0; r < ROUNDS; r++) {
  const bare = await round(modes.bare);
  const full = await round(modes.full);
  rates.bare.push(bare);
  rates.full.push(full);
  ratios.push(bare / full);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratio = median(ratios);
console.log(`bare crypto (Ed25519 + ML-DSA-65 verify): ${median(rates.bare).toFixed(0)} statements/CPU-s`);
console.log(`verifyStatement (full check):             ${median(rates.full).toFixed(0)} statements/CPU-s`);
console.log(`full / bare time: ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x)`);
process.exit(ratio <= TARGET_RATIO ? 0 : 1);
