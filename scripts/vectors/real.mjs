#!/usr/bin/env node
// Writes vectors/real/cases.json: cases over the real documents, EIFs and expected-PCR files in
// vectors/real (copied from the workplace's shared vectors with their provenance by
// scripts/vectors/copy-shared.mjs), referenced by relative path. Facts (PCRs, times, nonces,
// expected failures) come from the manifests that ship with that data. It also writes
// vectors/real/tampered/: copies of the NitroTPM documents with one byte changed each.
//
//   node scripts/vectors/real.mjs
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

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

// NitroTPM documents (SPEC 1.5): EC2 instances' attestations, PCRs under nitrotpm_pcrs. Each
// verifies at its own time with every measured PCR expected (all 24 values reported exactly);
// the rules that differ from enclaves and tampered copies are refused with their exact codes.
const isReset = (hex) => /^(00)+$/.test(hex) || /^(ff)+$/.test(hex);
const tpmDocs = json('nitrotpm/manifest.json');
mkdirSync(new URL('tampered/', real), { recursive: true });
for (const [n, doc] of tpmDocs.entries()) {
  const id = `attestation/real/nitrotpm/${doc.name}`;
  const file = `nitrotpm/${doc.file}`;
  const measured = Object.fromEntries(Object.entries(doc.nitrotpm_pcrs).filter(([, v]) => !isReset(v)));
  const unmeasured = Object.keys(doc.nitrotpm_pcrs).find((i) => /^(00)+$/.test(doc.nitrotpm_pcrs[i]));
  const other = tpmDocs[(n + 1) % tpmDocs.length];
  const common = { kind: 'attestation', input: { file } };
  cases.push({
    ...common,
    id: `${id}/valid`,
    description: `${doc.name} (NitroTPM, ${doc.module_id}) verifies at its own timestamp with its nonce, public key and all ${Object.keys(measured).length} measured PCRs expected; all 24 PCRs exact`,
    options: {
      at: 'document',
      expectedPcrs: measured,
      nonce: doc.nonce,
      publicKey: doc.public_key,
      documentKind: 'nitrotpm',
    },
    expect: { result: 'accept', pcrs: doc.nitrotpm_pcrs, documentKind: 'nitrotpm' },
  });
  cases.push({
    ...common,
    id: `${id}/enclave-required`,
    description: `${doc.name} is refused where an enclave document is required`,
    options: { at: 'document', expectedPcrs: { 4: doc.nitrotpm_pcrs[4] }, documentKind: 'enclave' },
    expect: { result: 'reject', code: 'ERR_KIND_MISMATCH', class: 'policy' },
  });
  cases.push({
    ...common,
    id: `${id}/expected-unmeasured-pcr`,
    description: `${doc.name}: PCR${unmeasured} is all zero (nothing measured), so an expectation of that very value is a mismatch`,
    options: {
      at: 'document',
      expectedPcrs: { 4: doc.nitrotpm_pcrs[4], [unmeasured]: doc.nitrotpm_pcrs[unmeasured] },
    },
    expect: { result: 'reject', code: 'ERR_PCR_MISMATCH', class: 'policy' },
  });
  cases.push({
    ...common,
    id: `${id}/pcr1-of-another-instance`,
    description: `${doc.name} with PCR1 expected to be ${other.name}'s (another instance's firmware data) is refused`,
    options: { at: 'document', expectedPcrs: { 1: other.nitrotpm_pcrs[1] } },
    expect: { result: 'reject', code: 'ERR_PCR_MISMATCH', class: 'policy' },
  });
  cases.push({
    ...common,
    id: `${id}/expired-later`,
    description: `${doc.name} at ${LATER}: its short-lived certificates have expired`,
    options: { at: LATER, expectedPcrs: { 4: doc.nitrotpm_pcrs[4] } },
    expect: { result: 'reject', code: 'ERR_CERT_EXPIRED', class: 'trust' },
  });
  // Tampered copies, written next to the cases (vectors/real/tampered/), each one byte changed.
  const bytes = readFileSync(new URL(file, real));
  // The first occurrence: the payload's field (module_id appears again in the leaf's subject).
  const at = (needle) => {
    const i = bytes.indexOf(needle);
    if (i < 0) throw new Error(`${doc.name}: ${needle} not found`);
    return i;
  };
  const tampered = [
    [
      'pcr4-flipped',
      at(Buffer.from(doc.nitrotpm_pcrs[4], 'hex')),
      'one bit of PCR4 flipped: the signature no longer verifies',
      'ERR_SIGNATURE_INVALID',
      'trust',
    ],
    [
      'module-id-changed',
      at(Buffer.from(doc.module_id)) + 2,
      'one character of module_id changed: the signature no longer verifies',
      'ERR_SIGNATURE_INVALID',
      'trust',
    ],
    [
      'pcr-map-renamed',
      at(Buffer.from('nitrotpm_pcrs')) + 12,
      'the key nitrotpm_pcrs renamed to nitrotpm_pcrr: the document has no PCR map',
      'ERR_DOCUMENT_INVALID',
      'input',
    ],
  ];
  for (const [name, offset, what, code, cls] of tampered) {
    const copy = Buffer.from(bytes);
    copy[offset] = name === 'pcr-map-renamed' ? 'r'.charCodeAt(0) : copy[offset] ^ 0x01;
    const out = `tampered/${doc.name}_${name}.cbor`;
    writeFileSync(new URL(out, real), copy);
    cases.push({
      kind: 'attestation',
      id: `${id}/tampered-${name}`,
      description: `${doc.name} with ${what}`,
      input: { file: out },
      options: {
        at: doc.timestamp_utc.replace(/\.(\d{3})\d*\+00:00$/, '.$1Z'),
        expectedPcrs: { 4: doc.nitrotpm_pcrs[4] },
      },
      expect: { result: 'reject', code, class: cls },
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
