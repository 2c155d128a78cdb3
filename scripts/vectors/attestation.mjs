#!/usr/bin/env node
// Writes vectors/attestation.json: the synthetic attestation cases of vectors/attestation/
// (written by scripts/gen-test-pki.mjs from the catalogue in src/forge/cases.ts) in the suite's
// case format, so `vectors run` and other implementations run them with the rest. It only
// translates: files, options and outcomes are the catalogue's; for accepted documents it adds
// their PCR values, read with cbor-x (not with the parser under test). Re-run after
// gen-test-pki.mjs.
//
//   node scripts/vectors/attestation.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { decode } from 'cbor-x';

const vectors = new URL('../../vectors/', import.meta.url);
const source = JSON.parse(readFileSync(new URL('attestation/cases.json', vectors), 'utf8'));
if (source.format !== 'enclave-verify/attestation-cases@1') {
  throw new Error(`vectors/attestation/cases.json has format ${source.format}; update this converter`);
}
const CLASSES = { input: 'input', trust: 'trust', policy: 'policy' };

/**
 * PCR index -> hex and the document kind (`nitrotpm` when the PCRs are under `nitrotpm_pcrs`,
 * SPEC 1.5) of a well-formed document, decoded independently of this project's parser.
 */
function factsOf(file) {
  let envelope = decode(readFileSync(new URL(`attestation/${file}`, vectors)));
  if (envelope?.tag === 18) envelope = envelope.value;
  const payload = decode(envelope[2]);
  const tpm = payload.nitrotpm_pcrs !== undefined;
  const pcrs = Object.fromEntries(
    Object.entries(tpm ? payload.nitrotpm_pcrs : payload.pcrs).map(([i, v]) => [
      String(i),
      Buffer.from(v).toString('hex'),
    ]),
  );
  return { pcrs, documentKind: tpm ? 'nitrotpm' : 'enclave' };
}
const cases = source.cases.map((c) => {
  const options = { trustedRoots: [source.root], ...c.options };
  // A document refused by the parser has no readable timestamp, so "document" would leave other
  // implementations without a time: give the instant the catalogue issued its documents at.
  if (options.at === 'document' && c.class === 'input') options.at = source.issuedAt;
  const expect =
    c.expect === 'ok'
      ? { result: 'accept', ...factsOf(c.file) }
      : { result: 'reject', code: c.expect, class: CLASSES[c.class] ?? c.class };
  return {
    id: `attestation/forge/${c.id}`,
    kind: 'attestation',
    description: `${c.rule} (${c.group})`,
    input: { file: c.file },
    options,
    expect,
  };
});
writeFileSync(
  new URL('attestation.json', vectors),
  `${JSON.stringify(
    {
      format: 'enclave-verify-vectors/1',
      description: `Synthetic attestation documents, one per rule of SPEC 1.1-1.5, trusting only the test root (not AWS). Translated from ${source.generator} by scripts/vectors/attestation.mjs.`,
      base: 'attestation/',
      cases,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${cases.length} cases to ${new URL('attestation.json', vectors).pathname}`);
