#!/usr/bin/env node
// Writes vectors/expected-pcrs/: one file per expected-PCR format people publish (nitro-cli,
// describe-eif, eif_build .pcrs, `PCRn: hex` lines, plain maps, Caution canary configs) and
// malformed ones, plus cases.json. PCR values are SHA-384 digests of fixed labels, so the
// expected values in the cases are known without running the library.
//
//   node scripts/vectors/expected-pcrs.mjs
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';

const dir = new URL('../../vectors/expected-pcrs/', import.meta.url);
mkdirSync(dir, { recursive: true });
const pcr = (label) => createHash('sha384').update(label).digest('hex');
const P = { 0: pcr('pcr0'), 1: pcr('pcr1'), 2: pcr('pcr2'), 8: pcr('pcr8') };
const cases = [];
const write = (name, text) => writeFileSync(new URL(name, dir), text);
const accept = (name, description, pcrs, options) =>
  cases.push({
    id: `expected-pcrs/synthetic/${name.replace(/\.[a-z]+$/, '')}${options?.target ? `-${options.target}` : ''}`,
    kind: 'expected-pcrs',
    description,
    input: { file: name },
    ...(options ? { options } : {}),
    expect: { result: 'accept', pcrs },
  });
const reject = (name, description, options) =>
  cases.push({
    id: `expected-pcrs/synthetic/${name.replace(/\.[a-z]+$/, '')}${options?.target ? `-${options.target}` : ''}`,
    kind: 'expected-pcrs',
    description,
    input: { file: name },
    ...(options ? { options } : {}),
    expect: { result: 'reject', code: 'ERR_EXPECTED_PCRS_FORMAT', class: 'input' },
  });
const three = { 0: P[0], 1: P[1], 2: P[2] };

write(
  'nitro-cli.json',
  `${JSON.stringify({ Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: P[0], PCR1: P[1], PCR2: P[2] } }, null, 2)}\n`,
);
accept('nitro-cli.json', 'nitro-cli build-enclave output: Measurements with HashAlgorithm text', three);
write(
  'nitro-cli-signed.json',
  `${JSON.stringify({ Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: P[0], PCR1: P[1], PCR2: P[2], PCR8: P[8] } }, null, 2)}\n`,
);
accept('nitro-cli-signed.json', 'nitro-cli output of a signed image: PCR8 as well', P);
write(
  'describe-eif.json',
  `${JSON.stringify(
    {
      EifVersion: 4,
      Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: P[0], PCR1: P[1], PCR2: P[2] },
      IsSigned: false,
      CheckCRC: true,
      ImageName: 'demo',
      ImageVersion: 'demo',
      Metadata: { BuildTime: '2025-01-01T00:00:00+00:00', BuildTool: 'eif_build' },
    },
    null,
    2,
  )}\n`,
);
accept('describe-eif.json', 'nitro-cli describe-eif output: only Measurements count', three);
write('eif-build.pcrs', `${P[0]} PCR0\n${P[1]} PCR1\n${P[2]} PCR2\n`);
accept('eif-build.pcrs', 'eif_build --pcrs_output lines: "<hex> PCRn"', three);
write('caution-verify.txt', `PCR0: ${P[0]}\nPCR1: ${P[1]}\nPCR2: ${P[2]}\n`);
accept('caution-verify.txt', '`caution verify --pcrs` lines: "PCRn: <hex>"', three);
write('uppercase-crlf.txt', `# comment line\r\nPCR0: ${P[0].toUpperCase()}\r\n\r\nPCR2=0x${P[2]}\r\n`);
accept('uppercase-crlf.txt', 'PCR lines with CRLF, comments, upper-case hex, "=" and 0x prefixes', {
  0: P[0],
  2: P[2],
});
write('plain-map.json', `${JSON.stringify({ 0: P[0], 8: P[8] })}\n`);
accept('plain-map.json', 'a plain {"0": hex} map, any subset of indexes', { 0: P[0], 8: P[8] });
write('pcr-keys.json', `${JSON.stringify({ PCR1: P[1], PCR2: P[2] })}\n`);
accept('pcr-keys.json', 'a plain {"PCR1": hex} map', { 1: P[1], 2: P[2] });
const canary = {
  version: 0,
  targets: [
    { id: 'alpha', name: 'Alpha', expected_pcrs: three },
    { id: 'beta', name: 'Beta', expected_pcrs: { 0: P[8], 1: P[8], 2: P[2] } },
  ],
};
write('canary.json', `${JSON.stringify(canary, null, 2)}\n`);
accept('canary.json', 'Caution canary config, target alpha', three, { target: 'alpha' });
accept(
  'canary.json',
  'Caution canary config, target beta',
  { 0: P[8], 1: P[8], 2: P[2] },
  { target: 'beta' },
);
reject('canary.json', 'Caution canary config with two targets and none chosen');
write('canary-single.json', `${JSON.stringify({ version: 0, targets: [canary.targets[0]] }, null, 2)}\n`);
accept('canary-single.json', 'Caution canary config with one target: no choice needed', three);

write('empty.txt', '');
reject('empty.txt', 'an empty file');
write('not-hex.txt', `PCR0: ${P[0].slice(0, -2)}zz\n`);
reject('not-hex.txt', 'a PCR line whose value is not hex');
write('short-value.json', `${JSON.stringify({ 0: P[0].slice(2) })}\n`);
reject('short-value.json', 'a 47-byte PCR value (PCRs are 48 bytes)');
write('index-32.txt', `PCR32: ${P[0]}\n`);
reject('index-32.txt', 'a PCR index outside 0..31');
write('prose.txt', 'PCR0 should be the hash of the kernel\n');
reject('prose.txt', 'text that is not a PCR listing');
write('broken.json', `{"Measurements": {"PCR0": "${P[0]}"`);
reject('broken.json', 'truncated JSON');
write('no-pcrs.json', '{"HashAlgorithm": "Sha384 { ... }"}\n');
reject('no-pcrs.json', 'JSON naming no PCR');
write('number-value.json', '{"0": 12}\n');
reject('number-value.json', 'a PCR value that is a number');
reject('eif-build.pcrs', 'a target option on a file that is not a canary config', { target: 'alpha' });

writeFileSync(
  new URL('cases.json', dir),
  `${JSON.stringify(
    {
      format: 'enclave-verify-vectors/1',
      description:
        'Expected-PCR files in every supported format, and malformed ones. Generated by scripts/vectors/expected-pcrs.mjs.',
      cases,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${cases.length} cases to ${new URL('cases.json', dir).pathname}`);
