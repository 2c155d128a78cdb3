#!/usr/bin/env node
// Writes vectors/real/cases.json: cases over the real documents, EIFs and expected-PCR files in
// vectors/real (copied from the workplace's shared vectors with their provenance by
// scripts/vectors/copy-shared.mjs), referenced by relative path. Facts (PCRs, times, nonces,
// expected failures) come from the manifests that ship with that data.
//
//   node scripts/vectors/real.mjs
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const project = new URL('../../', import.meta.url);
const real = new URL('vectors/real/', project);
const out = new URL('vectors/real/cases.json', project);
const base = './';
const FORMAT = 'enclave-verify-vectors/1';
// Long after every intermediate certificate of the real documents expired (the root lasts to 2049).
const LATER = '2031-01-01T00:00:00.000Z';

const json = (rel) => JSON.parse(readFileSync(new URL(rel, real), 'utf8'));
const hexOfBase64 = (b64) => Buffer.from(b64, 'base64').toString('hex');
const cases = [];

// Attestation documents.
for (const doc of json('nitro/manifest.json')) {
  const id = `attestation/real/${doc.name}`;
  const file = `nitro/${doc.file}`;
  const pcrs = { 0: doc.pcr0, 1: doc.pcr1, 2: doc.pcr2 };
  // Every document verifies at its own timestamp (some sources pick another instant; the
  // document's own time is the one rule that fits all).
  const when = 'document';
  const whenText = 'at its own timestamp';
  if (doc.expected.startsWith('FAIL')) {
    const code = /signature/i.test(doc.expected) ? 'ERR_SIGNATURE_INVALID' : 'ERR_CHAIN_UNTRUSTED';
    cases.push({
      id,
      kind: 'attestation',
      description: `${doc.name} ${whenText}: ${doc.expected.replace(/^FAIL: /, '')} (${doc.note ?? doc.repo})`,
      input: { file },
      options: { at: when, allowDebug: true },
      expect: { result: 'reject', code, class: 'trust' },
    });
    continue;
  }
  if (doc.pcr012_all_zero) {
    cases.push({
      id: `${id}/refused-debug`,
      kind: 'attestation',
      description: `${doc.name} ${whenText}: a genuine debug-mode document is refused by default`,
      input: { file },
      options: { at: when },
      expect: { result: 'reject', code: 'ERR_DEBUG_MODE', class: 'policy' },
    });
  }
  cases.push({
    id: `${id}/valid`,
    kind: 'attestation',
    description: `${doc.name} verifies ${whenText} against the AWS Nitro root${doc.pcr012_all_zero ? ' when debug mode is allowed' : ''}; PCR0-2 exact`,
    input: { file },
    options: { at: when, ...(doc.pcr012_all_zero ? { allowDebug: true } : {}) },
    expect: { result: 'accept', pcrs },
  });
  cases.push({
    id: `${id}/expired-later`,
    kind: 'attestation',
    description: `${doc.name} at ${LATER}: its short-lived certificates have expired`,
    input: { file },
    options: { at: LATER, allowDebug: true },
    expect: { result: 'reject', code: 'ERR_CERT_EXPIRED', class: 'trust' },
  });
  if (doc.name.startsWith('anjuna')) {
    cases.push({
      id: `${id}/pcr-mismatch`,
      kind: 'attestation',
      description: `${doc.name} with PCR0 expected to be another value (its PCR1) is refused`,
      input: { file },
      options: { at: when, expectedPcrs: { 0: doc.pcr1, 1: doc.pcr1 } },
      expect: { result: 'reject', code: 'ERR_PCR_MISMATCH', class: 'policy' },
    });
    cases.push({
      id: `${id}/pcr-several-allowed`,
      kind: 'attestation',
      description: `${doc.name}: PCR0 matches one of several allowed values`,
      input: { file },
      options: { at: when, expectedPcrs: { 0: [doc.pcr1, doc.pcr0] } },
      expect: { result: 'accept', pcrs },
    });
  }
}

// The Caution evidence: the document with the nonce the canary sent.
const evidence = json('caution/evidence-v0-vector.json');
const caution = json('nitro/manifest.json').find((d) => d.name.startsWith('caution'));
const nonce = hexOfBase64(evidence.nonce);
const cautionCommon = { kind: 'attestation', input: { file: `nitro/${caution.file}` } };
cases.push({
  ...cautionCommon,
  id: 'attestation/real/caution-evidence/nonce',
  description: `Caution canary evidence: verifies at ${evidence.observed_at} with the nonce it was requested with`,
  options: { at: new Date(evidence.observed_at).toISOString(), nonce, maxAgeMs: 3_600_000 },
  expect: { result: 'accept', pcrs: { 0: caution.pcr0, 1: caution.pcr1, 2: caution.pcr2 } },
});
cases.push({
  ...cautionCommon,
  id: 'attestation/real/caution-evidence/other-nonce',
  description: 'Caution canary evidence with any other nonce is refused',
  options: { at: new Date(evidence.observed_at).toISOString(), nonce: `${nonce.slice(0, -2)}00` },
  expect: { result: 'reject', code: 'ERR_NONCE_MISMATCH', class: 'policy' },
});
cases.push({
  ...cautionCommon,
  id: 'attestation/real/caution-evidence/stale',
  description: 'Caution canary evidence checked with a 5-minute freshness bound 14 minutes later is stale',
  options: { at: new Date(evidence.observed_at).toISOString(), maxAgeMs: 300_000 },
  expect: { result: 'reject', code: 'ERR_STALE', class: 'policy' },
});

// EIFs written by the official eif_build.
for (const c of json('eif/official/expected.json')) {
  const pcrs = {};
  for (const [k, v] of Object.entries(c.pcrs)) if (/^PCR\d+$/.test(k)) pcrs[k.slice(3)] = v;
  cases.push({
    id: `eif/real/${c.case}`,
    kind: 'eif',
    description: `official eif_build output (${c.ramdisks.length} ramdisk(s)${pcrs[8] ? ', signed' : ''}): PCRs and describe-eif facts`,
    input: { file: `eif/official/${c.case}/${c.eif}` },
    expect: {
      result: 'accept',
      pcrs,
      describe: { EifVersion: 4, IsSigned: pcrs[8] !== undefined, CheckCRC: true },
    },
  });
}

// Expected-PCR files as published by Caution and eif_build.
const canary = json('caution/canary.json');
for (const t of canary.targets) {
  cases.push({
    id: `expected-pcrs/real/canary-${t.id}`,
    kind: 'expected-pcrs',
    description: `Caution canary config, target ${t.id}`,
    input: { file: 'caution/canary.json' },
    options: { target: t.id },
    expect: { result: 'accept', pcrs: t.expected_pcrs },
  });
}
const lines = (rel, re) => {
  const pcrs = {};
  for (const m of readFileSync(new URL(rel, real), 'utf8').matchAll(re)) pcrs[m.groups.i] = m.groups.hex;
  return pcrs;
};
cases.push({
  id: 'expected-pcrs/real/caution-verify-lines',
  kind: 'expected-pcrs',
  description: '`caution verify --pcrs` output: PCRn: hex lines',
  input: { file: 'caution/caution-verify-pcrs.txt' },
  expect: {
    result: 'accept',
    pcrs: lines('caution/caution-verify-pcrs.txt', /PCR(?<i>\d+): (?<hex>[0-9a-f]+)/g),
  },
});
cases.push({
  id: 'expected-pcrs/real/eif-build-pcrs',
  kind: 'expected-pcrs',
  description: 'eif_build --pcrs_output file: "<hex> PCRn" lines',
  input: { file: 'caution/eif_build-enclave.pcrs' },
  expect: {
    result: 'accept',
    pcrs: lines('caution/eif_build-enclave.pcrs', /(?<hex>[0-9a-f]+) PCR(?<i>\d+)/g),
  },
});
cases.push({
  id: 'expected-pcrs/real/canary-unknown-target',
  kind: 'expected-pcrs',
  description: 'Caution canary config with a target id it does not define',
  input: { file: 'caution/canary.json' },
  options: { target: 'no-such-target' },
  expect: { result: 'reject', code: 'ERR_EXPECTED_PCRS_FORMAT', class: 'input' },
});

// nitro-cli ramdisks (vectors/real/nitro-cli, made by linuxkit + Docker 20.10): every image in
// both layouts must give the oracle's customer ramdisk and PCRs; the docker-save form also with
// the bootstrap blobs (PCR0/PCR1), the OCI form from the image alone (PCR2).
const nitroCases = readdirSync(new URL('nitro-cli/', real), { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'bootstrap')
  .map((d) => d.name)
  .sort();
const blobs = {
  kernel: 'nitro-cli/bootstrap/kernel',
  cmdline: 'nitro-cli/bootstrap/cmdline',
  init: 'nitro-cli/bootstrap/init',
  nsm: 'nitro-cli/bootstrap/nsm.ko',
};
for (const name of nitroCases) {
  const e = json(`nitro-cli/${name}/expected.json`);
  const ramdisk = {
    result: 'accept',
    cpioSha256: e.customer_ramdisk_sha256,
    cpioSize: e.customer_ramdisk_size,
  };
  cases.push({
    id: `ramdisk/real/nitro-cli/${name}/docker-save`,
    kind: 'ramdisk',
    description: `nitro-cli customer ramdisk of ${name} (docker save tar) and PCR0-2 with the bootstrap blobs: ${e.notes.split('. pcr0')[0]}`,
    input: { recipe: 'nitro-cli', image: `nitro-cli/${name}/image.docker.tar`, ...blobs },
    options: {},
    expect: { ...ramdisk, pcrs: { 0: e.pcr0, 1: e.pcr1, 2: e.pcr2 } },
  });
  cases.push({
    id: `ramdisk/real/nitro-cli/${name}/oci`,
    kind: 'ramdisk',
    description: `nitro-cli customer ramdisk of ${name} from the OCI layout tar, image only (PCR2)`,
    input: { recipe: 'nitro-cli', image: `nitro-cli/${name}/image.oci.tar` },
    options: {},
    expect: { ...ramdisk, pcrs: { 2: e.pcr2 } },
  });
}

const file = {
  format: FORMAT,
  description:
    'Real attestation documents, official EIFs and published expected-PCR files in vectors/real (provenance in each directory). Generated by scripts/vectors/real.mjs.',
  base,
  cases,
};
writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
console.log(`wrote ${cases.length} cases to ${out.pathname}`);
