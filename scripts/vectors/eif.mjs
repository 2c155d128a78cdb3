#!/usr/bin/env node
// Writes vectors/eif/: EIFs built from generated parts with the library's eif_build writer, and
// malformed EIFs, one per rule of the strict reader, plus cases.json. Expected PCRs are computed
// here independently (node:crypto, SPEC 2.2), not by the reader under test.
//
//   npm run build && node scripts/vectors/eif.mjs
import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import * as x509 from '@peculiar/x509';
import { buildEifBytes } from '../../dist/measure/eif-writer.js';
import { eifBuildMetadata } from '../../dist/measure/metadata.js';

const dir = new URL('../../vectors/eif/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (f.endsWith('.eif') || f.endsWith('.pem')) rmSync(new URL(f, dir));

const sha384 = (...parts) => {
  const h = createHash('sha384');
  for (const p of parts) h.update(p);
  return h.digest();
};
const extend = (digest) => sha384(Buffer.alloc(48), digest).toString('hex');
/** Deterministic filler: SHA-256 in counter mode over a label. */
function filler(label, n) {
  const out = Buffer.alloc(n);
  for (let i = 0, o = 0; o < n; i++, o += 32)
    createHash('sha256').update(`${label}:${i}`).digest().copy(out, o);
  return new Uint8Array(out);
}
const BUILD_TIME = '2025-01-01T00:00:00+00:00';
const CAUTION_CMDLINE =
  'reboot=k panic=1 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd nit.target=/run.sh';

function expectedPcrs(kernel, cmdline, ramdisks, certDer) {
  const c = Buffer.from(cmdline, 'utf8');
  const pcrs = {
    0: extend(sha384(kernel, c, ...ramdisks)),
    1: extend(sha384(kernel, c, ramdisks[0])),
    2: extend(sha384(...ramdisks.slice(1))),
  };
  if (certDer) pcrs[8] = extend(sha384(certDer));
  return pcrs;
}

const cases = [];
const write = (name, bytes) => writeFileSync(new URL(name, dir), bytes);

async function signer() {
  const alg = { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  x509.cryptoProvider.set(webcrypto);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=enclave-verify vector signer (TEST ONLY), O=enclave-verify',
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    signingAlgorithm: alg,
    keys,
  });
  return {
    der: new Uint8Array(cert.rawData),
    pem: cert.toString('pem'),
    signer: {
      certificatePem: new TextEncoder().encode(cert.toString('pem')),
      alg: -35,
      sign: async (tbs) =>
        new Uint8Array(await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, keys.privateKey, tbs)),
    },
  };
}

async function valid(name, description, { kernel, cmdline, ramdisks, arch, imageName, custom, sign }) {
  const metadata = eifBuildMetadata({
    kernelFileName: 'bzImage',
    ...(imageName ? { name: imageName } : {}),
    buildTime: BUILD_TIME,
    ...(custom ? { customMetadataJson: custom } : {}),
  });
  const bytes = await buildEifBytes({
    kernel,
    cmdline,
    ramdisks,
    metadata,
    ...(arch ? { arch } : {}),
    ...(sign ? { signer: sign.signer } : {}),
  });
  write(`${name}.eif`, bytes);
  const describe = {
    EifVersion: 4,
    IsSigned: Boolean(sign),
    CheckCRC: true,
    ImageName: imageName ?? 'bzImage',
    // eif_build 0.3.1 writes the --name value as ImageVersion too, or "1.0".
    ImageVersion: imageName ?? '1.0',
    Metadata: {
      BuildTime: BUILD_TIME,
      BuildTool: 'eif_build',
      BuildToolVersion: '0.3.1',
      OperatingSystem: 'OS',
      KernelVersion: 'kernel',
    },
  };
  if (sign) describe.SignatureCheck = true;
  cases.push({
    id: `eif/synthetic/${name}`,
    kind: 'eif',
    description,
    input: { file: `${name}.eif` },
    expect: { result: 'accept', pcrs: expectedPcrs(kernel, cmdline, ramdisks, sign?.der), describe },
  });
  return bytes;
}

function patch(bytes, edits, { fixCrc = true } = {}) {
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  edits(view, out);
  return fixCrc ? repairCrc(out) : out;
}
function repairCrc(out) {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(544, crc32(out.subarray(548), crc32(out.subarray(0, 544))));
  return out;
}
const setU64 = (view, at, v) => view.setBigUint64(at, BigInt(v));
const sectionOffset = (view, i) => Number(view.getBigUint64(28 + 8 * i));
const sectionSize = (view, i) => Number(view.getBigUint64(284 + 8 * i));

function invalid(name, description, bytes, code) {
  write(`${name}.eif`, bytes);
  cases.push({
    id: `eif/malformed/${name}`,
    kind: 'eif',
    description,
    input: { file: `${name}.eif` },
    expect: { result: 'reject', code, class: 'image' },
  });
}

const kernel = filler('kernel', 2048);
const r0 = filler('ramdisk0', 1500);
const r1 = filler('ramdisk1', 700);
const base = await valid(
  'caution-single-ramdisk',
  "Caution's layout: one ramdisk, so PCR0 == PCR1 and PCR2 is the empty constant",
  {
    kernel,
    cmdline: CAUTION_CMDLINE,
    ramdisks: [r0],
  },
);
const two = await valid(
  'two-ramdisks',
  'nitro-cli layout: bootstrap + customer ramdisk; PCR2 covers the second',
  {
    kernel,
    cmdline: 'console=ttyS0',
    ramdisks: [r0, r1],
  },
);
await valid('aarch64-named', 'aarch64 flag, --name (ImageName and, as eif_build 0.3.1 does, ImageVersion)', {
  kernel: filler('arm-kernel', 1024),
  cmdline: 'console=ttyAMA0',
  ramdisks: [r1],
  arch: 'aarch64',
  imageName: 'vector-app',
});
await valid('empty-and-unicode', 'an empty first ramdisk, a UTF-8 command line and custom metadata', {
  kernel,
  cmdline: 'app.name=café-✓ quiet',
  ramdisks: [new Uint8Array(0), r1, filler('ramdisk2', 1)],
  custom: '{"zeta": 1, "alpha": {"b": [true, null], "a": "x"}}',
});
const sig = await signer();
write('signing-cert.pem', sig.pem);
const signed = await valid(
  'signed',
  'signed with a P-384 test certificate: PCR8 and a passing signature check',
  {
    kernel,
    cmdline: 'console=ttyS0',
    ramdisks: [r0],
    sign: sig,
  },
);

// A signed image whose signature section signs another image's PCR0: still readable, the check says no.
{
  const other = await buildEifBytes({
    kernel: filler('other-kernel', 64),
    cmdline: 'console=ttyS0',
    ramdisks: [r0],
    metadata: eifBuildMetadata({ kernelFileName: 'bzImage', buildTime: BUILD_TIME }),
    signer: sig.signer,
  });
  const v = new DataView(other.buffer);
  const sigIndex = v.getUint16(26) - 1;
  const sigSection = other.subarray(sectionOffset(v, sigIndex) + 12);
  const sv = new DataView(signed.buffer);
  const at = sectionOffset(sv, sv.getUint16(26) - 1);
  const out = new Uint8Array(at + 12 + sigSection.length);
  out.set(signed.subarray(0, at + 12));
  out.set(sigSection, at + 12);
  const ov = new DataView(out.buffer);
  setU64(ov, 284 + 8 * (sv.getUint16(26) - 1), sigSection.length);
  setU64(ov, at + 4, sigSection.length);
  write('signature-for-other-image.eif', repairCrc(out));
  cases.push({
    id: 'eif/malformed/signature-for-other-image',
    kind: 'eif',
    description:
      'signed, but the signature covers another PCR0: describe-eif reports SignatureCheck false; a verifier rejects it',
    input: { file: 'signature-for-other-image.eif' },
    expect: { result: 'reject', code: 'ERR_EIF_SIGNATURE', class: 'image' },
  });
}

// Malformed images: each breaks one rule; the CRC is repaired unless the CRC is the point.
invalid(
  'bad-magic',
  'first four bytes are not ".eif"',
  patch(base, (_v, b) => b.set([0x45, 0x49, 0x46, 0x2e], 0)),
  'ERR_EIF_MAGIC',
);
invalid(
  'version-5',
  'unknown format version 5',
  patch(base, (v) => v.setUint16(4, 5)),
  'ERR_EIF_VERSION',
);
invalid(
  'version-0',
  'format version 0',
  patch(base, (v) => v.setUint16(4, 0)),
  'ERR_EIF_VERSION',
);
invalid(
  'unknown-flag',
  'flag bit 1 set (only bit 0, arm64, is defined)',
  patch(base, (v) => v.setUint16(6, 2)),
  'ERR_EIF_VERSION',
);
invalid(
  'header-only-300-bytes',
  'file ends inside the 548-byte header',
  base.slice(0, 300),
  'ERR_EIF_TRUNCATED',
);
invalid(
  'truncated-last-section',
  'the last section ends past the end of the file',
  repairCrc(base.slice(0, base.length - 10)),
  'ERR_EIF_TRUNCATED',
);
invalid(
  'trailing-bytes',
  '16 bytes after the last section',
  repairCrc(new Uint8Array([...base, ...new Uint8Array(16)])),
  'ERR_EIF_LAYOUT',
);
invalid(
  'too-many-sections',
  'num_sections is 33 (at most 32 fit the table)',
  patch(base, (v) => v.setUint16(26, 33)),
  'ERR_EIF_LAYOUT',
);
invalid(
  'section-count-one-more',
  'num_sections counts one section more than the file holds',
  patch(base, (v) => v.setUint16(26, v.getUint16(26) + 1)),
  'ERR_EIF_LAYOUT',
);
invalid(
  'offset-table-overlap',
  'the offset table points the ramdisk 4 bytes into the metadata section',
  patch(base, (v) => setU64(v, 28 + 8 * 3, sectionOffset(v, 3) - 4)),
  'ERR_EIF_LAYOUT',
);
invalid(
  'size-table-disagrees',
  'the size table and the section header disagree on the ramdisk size',
  patch(base, (v) => setU64(v, 284 + 8 * 3, sectionSize(v, 3) - 1)),
  'ERR_EIF_LAYOUT',
);
invalid(
  'size-2-pow-63',
  'a section size of 2^63 in the table and in its header',
  patch(base, (v) => {
    setU64(v, 284 + 8 * 3, 2n ** 63n);
    setU64(v, sectionOffset(v, 3) + 4, 2n ** 63n);
  }),
  'ERR_EIF_LAYOUT',
);
invalid(
  'unused-table-entry',
  'a non-zero offset in an unused table entry',
  patch(base, (v) => setU64(v, 28 + 8 * 31, 548)),
  'ERR_EIF_LAYOUT',
);
invalid(
  'gap-between-sections',
  '8 unused bytes between the metadata and ramdisk sections (offset table updated)',
  (() => {
    const v0 = new DataView(base.buffer);
    const at = sectionOffset(v0, 3);
    const out = new Uint8Array(base.length + 8);
    out.set(base.subarray(0, at));
    out.set(base.subarray(at), at + 8);
    return patch(out, (v) => setU64(v, 28 + 8 * 3, at + 8));
  })(),
  'ERR_EIF_LAYOUT',
);
invalid(
  'duplicate-kernel',
  'the cmdline section typed as a second kernel',
  patch(base, (v) => v.setUint16(sectionOffset(v, 1), 1)),
  'ERR_EIF_SECTION',
);
invalid(
  'duplicate-cmdline',
  'the kernel section typed as a second cmdline',
  patch(base, (v) => v.setUint16(sectionOffset(v, 0), 2)),
  'ERR_EIF_SECTION',
);
invalid(
  'section-type-0',
  'a section of type 0 (invalid)',
  patch(base, (v) => v.setUint16(sectionOffset(v, 3), 0)),
  'ERR_EIF_SECTION',
);
invalid(
  'section-type-6',
  'a section of type 6 (unknown)',
  patch(base, (v) => v.setUint16(sectionOffset(v, 3), 6)),
  'ERR_EIF_SECTION',
);
invalid(
  'no-ramdisk',
  'the only ramdisk typed as a second metadata section',
  patch(base, (v) => v.setUint16(sectionOffset(v, 3), 5)),
  'ERR_EIF_SECTION',
);
invalid(
  'crc-mismatch',
  'one ramdisk byte changed after the CRC was written',
  patch(base, (_v, b) => (b[b.length - 1] ^= 1), { fixCrc: false }),
  'ERR_EIF_CRC',
);
invalid(
  'crc-field-zeroed',
  'the CRC field zeroed',
  patch(base, (v) => v.setUint32(544, 0), { fixCrc: false }),
  'ERR_EIF_CRC',
);
invalid(
  'metadata-not-json',
  'a metadata section that is not JSON',
  await buildEifBytes({
    kernel,
    cmdline: 'x',
    ramdisks: [r0],
    metadata: new TextEncoder().encode('not json {'),
  }),
  'ERR_EIF_METADATA',
);
invalid(
  'signature-not-cbor',
  'a signature section holding random bytes',
  (() => {
    const v0 = new DataView(signed.buffer);
    const at = sectionOffset(v0, v0.getUint16(26) - 1);
    return patch(signed, (_v, b) => b.set(filler('garbage', b.length - at - 12), at + 12));
  })(),
  'ERR_EIF_SIGNATURE',
);
void two;

writeFileSync(
  new URL('cases.json', dir),
  `${JSON.stringify(
    {
      format: 'enclave-verify-vectors/1',
      description:
        'EIFs built from generated parts with the eif_build writer (PCRs computed independently) and malformed EIFs. Generated by scripts/vectors/eif.mjs.',
      cases,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${cases.length} cases to ${new URL('cases.json', dir).pathname}`);
