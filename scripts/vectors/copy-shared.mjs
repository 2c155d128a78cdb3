#!/usr/bin/env node
// Copies the public vectors the project's tests use from the workplace's ../shared/vectors into
// vectors/real/, so a clone tests itself without ../shared beside it. Each directory gets a
// PROVENANCE.md: where every file came from upstream (repository, path, commit, as recorded in the
// shared manifests) and the SHA-256 and size of every copied file. A provenance note that shipped
// with the shared directory is kept beside it as UPSTREAM.md.
//
//   node scripts/vectors/copy-shared.mjs [--check]
//
// --check copies nothing: it recomputes every SHA-256 listed in the PROVENANCE.md files and exits
// 1 when a copied file differs from what its provenance records.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const project = fileURLToPath(new URL('../../', import.meta.url));
const shared = join(project, '..', 'shared', 'vectors');
const target = join(project, 'vectors', 'real');
const DIRS = ['nitro', 'nitrotpm', 'caution', 'canary', 'eif', 'nitro-cli'];
// Notes that came with a shared directory; kept under another name so ours can be PROVENANCE.md.
const UPSTREAM_NOTES = new Set(['PROVENANCE.md']);

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

/** Upstream origin of each file, from the manifests shipped with the shared vectors. */
function upstream(dir) {
  const origin = new Map();
  if (dir === 'nitro') {
    const manifest = JSON.parse(readFileSync(join(shared, 'nitro', 'manifest.json'), 'utf8'));
    for (const doc of manifest) origin.set(doc.file, `${doc.repo} \`${doc.path}\` @ ${doc.commit}`);
    origin.set(
      'aws_nitro_root_g1.pem',
      'AWS Nitro Enclaves root G1, published by AWS (SHA-256 of DER pinned in src/)',
    );
  }
  return origin;
}

const SOURCE_NOTES = {
  nitro: 'Real attestation documents of AWS Nitro hardware; per-file sources below (from manifest.json).',
  nitrotpm: 'Real NitroTPM attestation documents of EC2 instances; sources and commits in UPSTREAM.md.',
  caution:
    "Caution's expected-PCR formats and the evidence record of the Caution document (CautionHosting repositories).",
  canary:
    'Caution Canary public vectors (github.com/CautionHosting/canary); paths and commits in UPSTREAM.md.',
  eif: "EIFs built by AWS's eif_build from generated parts (exact commands and inputs in official/expected.json); published values in public-vectors.json.",
  'nitro-cli':
    'Images and the ramdisks/PCRs linuxkit v1.5.2 (with AWS patches) over Docker 20.10 produced for them; how in README.md.',
};

function provenance(dir, files) {
  const origin = upstream(dir);
  const lines = [
    `# Provenance: vectors/real/${dir}/`,
    '',
    `Copied byte for byte from the enclave-verify workplace's \`shared/vectors/${dir}/\` by`,
    '`scripts/vectors/copy-shared.mjs` (re-check: `node scripts/vectors/copy-shared.mjs --check`).',
    SOURCE_NOTES[dir],
    '',
    '| file | bytes | sha256 | upstream |',
    '|---|---|---|---|',
  ];
  for (const { rel, bytes, hash } of files)
    lines.push(`| ${rel} | ${bytes} | ${hash} | ${origin.get(rel) ?? 'see above'} |`);
  return `${lines.join('\n')}\n`;
}

function copy() {
  for (const dir of DIRS) {
    const from = join(shared, dir);
    const to = join(target, dir);
    const files = [];
    for (const path of walk(from)) {
      let rel = relative(from, path);
      if (UPSTREAM_NOTES.has(rel)) rel = 'UPSTREAM.md';
      const dest = join(to, rel);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(path, dest);
      files.push({ rel, bytes: statSync(dest).size, hash: sha256(dest) });
    }
    writeFileSync(join(to, 'PROVENANCE.md'), provenance(dir, files));
    console.log(`vectors/real/${dir}: ${files.length} files`);
  }
}

function check() {
  let bad = 0;
  let count = 0;
  for (const dir of DIRS) {
    const text = readFileSync(join(target, dir, 'PROVENANCE.md'), 'utf8');
    for (const m of text.matchAll(/^\| (\S[^|]*?) \| (\d+) \| ([0-9a-f]{64}) \|/gm)) {
      count++;
      const path = join(target, dir, m[1]);
      if (sha256(path) !== m[3]) {
        bad++;
        console.error(`MISMATCH vectors/real/${dir}/${m[1]}`);
      }
    }
  }
  console.log(`${count} files checked, ${bad} mismatched`);
  process.exitCode = bad ? 1 : 0;
}

if (process.argv.includes('--check')) check();
else copy();
