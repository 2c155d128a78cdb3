#!/usr/bin/env node
// Writes vectors/attestation/: one forged attestation document per rule of SPEC 1.1-1.5, signed
// by a synthetic Nitro-shaped test PKI (names say TEST / NOT AWS), plus the trusted test root and
// cases.json (how to verify each file and the outcome expected). The catalogue itself lives in
// src/forge/cases.ts; this script only serialises it. Keys are random: re-running rewrites every
// file, with the same ids, options and outcomes. Run `npm run build` first.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAttestationCases } from '../dist/forge/index.js';
import { ERROR_CODES } from '../dist/index.js';

const out = fileURLToPath(new URL('../vectors/attestation/', import.meta.url));
mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) if (f.endsWith('.cbor')) rmSync(join(out, f));

const set = await buildAttestationCases();
writeFileSync(join(out, 'test-root.pem'), set.rootPem);
for (const c of set.cases) writeFileSync(join(out, `${c.id}.cbor`), c.bytes);

const cases = {
  format: 'enclave-verify/attestation-cases@1',
  description:
    'Synthetic AWS Nitro attestation documents (enclave and NitroTPM), one per rule of SPEC 1.1-1.5. Verify each "file" trusting ONLY "root" ' +
    '(a test root, not AWS), at options.at ("document" = the document timestamp, else an ISO 8601 instant), with the ' +
    'optional expectations in options (hex bytes; expectedPcrs maps an index to allowed hex values; documentKind ' +
    'requires "enclave" or "nitrotpm"). "expect" is "ok" ' +
    'or the enclave-verify error code; "class" is its coarse family (input, trust, policy) for other implementations.',
  generator: 'scripts/gen-test-pki.mjs (catalogue: src/forge/cases.ts)',
  issuedAt: set.issuedAt.toISOString(),
  root: 'test-root.pem',
  cases: set.cases.map((c) => ({
    id: c.id,
    file: `${c.id}.cbor`,
    group: c.group,
    rule: c.rule,
    expect: c.expect,
    ...(c.expect === 'ok' ? {} : { class: ERROR_CODES[c.expect] }),
    options: c.options,
  })),
};
writeFileSync(join(out, 'cases.json'), `${JSON.stringify(cases, null, 2)}\n`);
console.log(`wrote ${set.cases.length} cases to ${out}`);
