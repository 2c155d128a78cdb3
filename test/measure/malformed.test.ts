// Malformed EIFs: every strict-reader rule, asserted by error code, through both the
// in-memory reader and the streaming file reader (main thread and worker threads).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { EnclaveVerifyError } from '../../src/errors.js';
import { encodeEifHeader, encodeSectionHeader, type SectionKind } from '../../src/measure/eif-format.js';
import { measureEifBytes } from '../../src/measure/eif-reader.js';
import { buildEifBytes } from '../../src/measure/eif-writer.js';
import { eifBuildMetadata } from '../../src/measure/metadata.js';
import { measureEifFile } from '../../src/measure/node/measure-file.js';
import { encodeSignatureSection } from '../../src/measure/signature.js';
import { concatBytes, utf8 } from '../../src/util/bytes.js';
import { crc32 } from '../../src/util/crc32.js';

const OFFICIAL = new URL('../../vectors/real/eif/official/', import.meta.url);
const base = new Uint8Array(readFileSync(new URL('nitro-two-ramdisks/out.eif', OFFICIAL)));
const signedBase = new Uint8Array(readFileSync(new URL('signed-p384/out.eif', OFFICIAL)));
const dir = mkdtempSync(join(tmpdir(), 'eif-malformed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Recompute the header CRC so that only the intended defect is reported. */
function fixCrc(b: Uint8Array): Uint8Array {
  if (b.length >= 548)
    new DataView(b.buffer, b.byteOffset).setUint32(544, crc32(b.subarray(548), crc32(b.subarray(0, 544))));
  return b;
}
function edit(src: Uint8Array, f: (v: DataView, b: Uint8Array) => void, keepCrc = false): Uint8Array {
  const b = src.slice();
  f(new DataView(b.buffer), b);
  return keepCrc ? b : fixCrc(b);
}
const setU64 = (v: DataView, at: number, n: number) => {
  v.setUint32(at, Math.floor(n / 2 ** 32));
  v.setUint32(at + 4, n >>> 0);
};
// nitro-two-ramdisks layout: kernel@548, cmdline@33328, metadata@33459, ramdisk@33711, ramdisk@53723
const OFF = { kernel: 548, cmdline: 33328, metadata: 33459, ramdisk0: 33711, ramdisk1: 53723 };

/** An EIF from raw sections (type number or kind, data), contiguous, correct CRC. */
function assemble(sections: Array<[SectionKind | number, Uint8Array]>, version = 4): Uint8Array {
  let offset = 548;
  const parts: Uint8Array[] = [];
  const table: Array<{ offset: number; size: number }> = [];
  for (const [kind, data] of sections) {
    const h = encodeSectionHeader(typeof kind === 'number' ? 'kernel' : kind, data.length);
    if (typeof kind === 'number') new DataView(h.buffer).setUint16(0, kind);
    parts.push(h, data);
    table.push({ offset, size: data.length });
    offset += 12 + data.length;
  }
  return fixCrc(concatBytes(encodeEifHeader({ version, flags: 0, sections: table, crc32: 0 }), ...parts));
}
const META = eifBuildMetadata({ kernelFileName: 'k', buildTime: 't' });
const K = utf8('kernel-bytes');
const C = utf8('console=ttyS0');
const R = utf8('ramdisk-bytes');

const cases: Array<[string, Uint8Array, string]> = [
  ['empty file', new Uint8Array(), 'ERR_EIF_TRUNCATED'],
  ['three bytes', utf8('.ei'), 'ERR_EIF_TRUNCATED'],
  ['wrong magic', edit(base, (_, b) => b.set(utf8('EIF!'), 0)), 'ERR_EIF_MAGIC'],
  ['a gzip file', new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), 'ERR_EIF_MAGIC'],
  ['header cut at 100 bytes', base.slice(0, 100), 'ERR_EIF_TRUNCATED'],
  ['version 5', edit(base, (v) => v.setUint16(4, 5)), 'ERR_EIF_VERSION'],
  ['version 0', edit(base, (v) => v.setUint16(4, 0)), 'ERR_EIF_VERSION'],
  ['unknown flag bit', edit(base, (v) => v.setUint16(6, 2)), 'ERR_EIF_VERSION'],
  ['zero sections', edit(base, (v) => v.setUint16(26, 0)), 'ERR_EIF_LAYOUT'],
  ['33 sections', edit(base, (v) => v.setUint16(26, 33)), 'ERR_EIF_LAYOUT'],
  ['count lower than the table', edit(base, (v) => v.setUint16(26, 4)), 'ERR_EIF_LAYOUT'],
  ['count higher than the table', edit(base, (v) => v.setUint16(26, 6)), 'ERR_EIF_LAYOUT'],
  ['reserved field set', edit(base, (v) => v.setUint16(24, 1)), 'ERR_EIF_LAYOUT'],
  ['unused field set', edit(base, (v) => v.setUint32(540, 1)), 'ERR_EIF_LAYOUT'],
  ['last 10 bytes cut', fixCrc(base.slice(0, base.length - 10)), 'ERR_EIF_TRUNCATED'],
  ['cut inside the header table', base.slice(0, 400), 'ERR_EIF_TRUNCATED'],
  ['one trailing byte', fixCrc(concatBytes(base, new Uint8Array(1))), 'ERR_EIF_LAYOUT'],
  ['gap before section 1', edit(base, (v) => setU64(v, 28 + 8, OFF.cmdline + 1)), 'ERR_EIF_LAYOUT'],
  ['section 1 overlaps section 0', edit(base, (v) => setU64(v, 28 + 8, OFF.cmdline - 1)), 'ERR_EIF_LAYOUT'],
  ['section 0 overlaps the header', edit(base, (v) => setU64(v, 28, 500)), 'ERR_EIF_LAYOUT'],
  ['size larger than the file', edit(base, (v) => setU64(v, 284 + 4 * 8, 2 ** 40)), 'ERR_EIF_LAYOUT'],
  ['size beyond 2^53', edit(base, (v) => v.setUint32(284 + 4 * 8, 0xffffffff)), 'ERR_EIF_LAYOUT'],
  ['offset beyond 2^53', edit(base, (v) => v.setUint32(28 + 4 * 8, 0xffffffff)), 'ERR_EIF_LAYOUT'],
  [
    'section header size disagrees with the table',
    edit(base, (v) => setU64(v, OFF.cmdline + 4, 120)),
    'ERR_EIF_LAYOUT',
  ],
  ['section type 0', edit(base, (v) => v.setUint16(OFF.ramdisk1, 0)), 'ERR_EIF_SECTION'],
  ['section type 6', edit(base, (v) => v.setUint16(OFF.ramdisk1, 6)), 'ERR_EIF_SECTION'],
  ['section flags set', edit(base, (v) => v.setUint16(OFF.ramdisk1 + 2, 1)), 'ERR_EIF_SECTION'],
  ['duplicate kernel', edit(base, (v) => v.setUint16(OFF.cmdline, 1)), 'ERR_EIF_SECTION'],
  ['duplicate cmdline', edit(base, (v) => v.setUint16(OFF.ramdisk1, 2)), 'ERR_EIF_SECTION'],
  ['duplicate metadata', edit(base, (v) => v.setUint16(OFF.ramdisk1, 5)), 'ERR_EIF_SECTION'],
  ['missing metadata in v4', edit(base, (v) => v.setUint16(OFF.metadata, 3)), 'ERR_EIF_SECTION'],
  [
    'no ramdisk',
    assemble([
      ['kernel', K],
      ['cmdline', C],
      ['metadata', META],
    ]),
    'ERR_EIF_SECTION',
  ],
  [
    'no kernel',
    assemble([
      ['metadata', META],
      ['ramdisk', R],
    ]),
    'ERR_EIF_SECTION',
  ],
  [
    'cmdline before kernel',
    assemble([
      ['cmdline', C],
      ['kernel', K],
      ['metadata', META],
      ['ramdisk', R],
    ]),
    'ERR_EIF_SECTION',
  ],
  [
    'ramdisk before cmdline',
    assemble([
      ['kernel', K],
      ['ramdisk', R],
      ['cmdline', C],
      ['metadata', META],
    ]),
    'ERR_EIF_SECTION',
  ],
  [
    'metadata in a v3 file',
    assemble(
      [
        ['kernel', K],
        ['cmdline', C],
        ['metadata', META],
        ['ramdisk', R],
      ],
      3,
    ),
    'ERR_EIF_SECTION',
  ],
  [
    'signature in a v2 file',
    assemble(
      [
        ['kernel', K],
        ['cmdline', C],
        ['ramdisk', R],
        ['signature', new Uint8Array([0x80])],
      ],
      2,
    ),
    'ERR_EIF_SECTION',
  ],
  [
    'CRC mismatch (ramdisk byte flipped)',
    edit(
      base,
      (_, b) => {
        b[OFF.ramdisk1 + 100]! ^= 1;
      },
      true,
    ),
    'ERR_EIF_CRC',
  ],
  ['CRC field wrong', edit(base, (v) => v.setUint32(544, 0), true), 'ERR_EIF_CRC'],
  [
    'metadata not JSON',
    assemble([
      ['kernel', K],
      ['cmdline', C],
      ['metadata', utf8('{nope')],
      ['ramdisk', R],
    ]),
    'ERR_EIF_METADATA',
  ],
  [
    'metadata not UTF-8',
    assemble([
      ['kernel', K],
      ['cmdline', C],
      ['metadata', new Uint8Array([0xff, 0xfe])],
      ['ramdisk', R],
    ]),
    'ERR_EIF_METADATA',
  ],
  [
    'metadata without BuildMetadata',
    assemble([
      ['kernel', K],
      ['cmdline', C],
      ['metadata', utf8('{"ImageName":"a","ImageVersion":"b","DockerInfo":null,"CustomMetadata":null}')],
      ['ramdisk', R],
    ]),
    'ERR_EIF_METADATA',
  ],
  [
    'metadata a JSON array',
    assemble([
      ['kernel', K],
      ['cmdline', C],
      ['metadata', utf8('[]')],
      ['ramdisk', R],
    ]),
    'ERR_EIF_METADATA',
  ],
  [
    'signature not CBOR',
    assemble([
      ['kernel', K],
      ['cmdline', C],
      ['metadata', META],
      ['ramdisk', R],
      ['signature', utf8('hello')],
    ]),
    'ERR_EIF_SIGNATURE',
  ],
  [
    'signature an empty array',
    assemble([
      ['kernel', K],
      ['cmdline', C],
      ['metadata', META],
      ['ramdisk', R],
      ['signature', new Uint8Array([0x80])],
    ]),
    'ERR_EIF_SIGNATURE',
  ],
  [
    'signature with trailing CBOR bytes',
    assemble([
      ['kernel', K],
      ['cmdline', C],
      ['metadata', META],
      ['ramdisk', R],
      ['signature', new Uint8Array([0x80, 0x00])],
    ]),
    'ERR_EIF_SIGNATURE',
  ],
  [
    'signature with byte strings instead of uint arrays',
    assemble([
      ['kernel', K],
      ['cmdline', C],
      ['metadata', META],
      ['ramdisk', R],
      [
        'signature',
        fromHexStr('81a2737369676e696e675f63657274696669636174654100697369676e6174757265' + '4100'),
      ],
    ]),
    'ERR_EIF_SIGNATURE',
  ],
  [
    'signature with a hostile array length',
    assemble([
      ['kernel', K],
      ['cmdline', C],
      ['metadata', META],
      ['ramdisk', R],
      ['signature', new Uint8Array([0x9b, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
    ]),
    'ERR_EIF_SIGNATURE',
  ],
  [
    'certificate that is not PEM',
    assemble([
      ['kernel', K],
      ['cmdline', C],
      ['metadata', META],
      ['ramdisk', R],
      [
        'signature',
        encodeSignatureSection([
          { signingCertificate: utf8('not a cert'), signature: new Uint8Array([0x80]) },
        ]),
      ],
    ]),
    'ERR_EIF_SIGNATURE',
  ],
  [
    'metadata section over 1 MiB',
    assemble([
      ['kernel', K],
      ['cmdline', C],
      ['metadata', new Uint8Array(1024 * 1024 + 1)],
      ['ramdisk', R],
    ]),
    'ERR_EIF_METADATA',
  ],
];

function fromHexStr(h: string): Uint8Array {
  return new Uint8Array(h.match(/../g)!.map((x) => Number.parseInt(x, 16)));
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    if (!(e instanceof EnclaveVerifyError)) return `non-library error: ${(e as Error).stack}`;
    expect(e.message).toMatch(/\w.*\w/);
    return e.code;
  }
}

describe('malformed EIFs', () => {
  cases.forEach(([name, bytes, code], i) => {
    test(`${name} -> ${code}`, async () => {
      expect(await codeOf(measureEifBytes(bytes))).toBe(code);
      const file = join(dir, `case-${i}.eif`);
      writeFileSync(file, bytes);
      expect(await codeOf(measureEifFile(file, { parallel: 'never' }))).toBe(code);
      expect(await codeOf(measureEifFile(file, { parallel: 'always', chunkSize: 4096 }))).toBe(code);
    });
  });

  test('allowCrcMismatch reports CheckCRC false instead of failing', async () => {
    const bad = edit(base, (v) => v.setUint32(544, 0), true);
    const m = await measureEifBytes(bad, { allowCrcMismatch: true });
    expect(m.crc).toEqual({ stored: 0, computed: 0x37528bfc, ok: false });
  });

  test('a signature over another PCR0 gives SignatureCheck false, not an error', async () => {
    // The signed vector's kernel changed by one byte: PCR0 changes, the signature does not.
    const b = edit(signedBase, (_, x) => {
      x[600]! ^= 1;
    });
    const m = await measureEifBytes(b);
    expect(m.signature?.signatureCheck).toBe(false);
    expect(m.signature?.reason).toMatch(/different PCR0/);
    const file = join(dir, 'resigned.eif');
    writeFileSync(file, b);
    expect((await measureEifFile(file)).signature?.signatureCheck).toBe(false);
  });

  test('a damaged COSE signature gives SignatureCheck false', async () => {
    const sigStart = 9945 + 12;
    // Last byte of the section is the last byte of the ECDSA signature (as a CBOR uint).
    const b = edit(signedBase, (_, x) => {
      x[x.length - 1] = x[x.length - 1] === 0x21 ? 0x22 : 0x21;
    });
    expect(b.length).toBeGreaterThan(sigStart);
    const m = await measureEifBytes(b);
    expect(m.signature?.signatureCheck).toBe(false);
    expect(m.signature?.reason).toMatch(/does not verify/);
  });

  test('random header and section-header corruption never escapes as a non-library error', async () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const small = await buildEifBytes({ kernel: K, cmdline: 'x', ramdisks: [R, R], metadata: META });
    for (let i = 0; i < 300; i++) {
      const b = small.slice();
      for (let k = 0; k < 1 + (rnd() % 4); k++) {
        const at = rnd() % 2 === 0 ? rnd() % 548 : 548 + (rnd() % (b.length - 548));
        b[at] = rnd() & 0xff;
      }
      const code = await codeOf(measureEifBytes(b));
      expect(code).toMatch(/^(no error|ERR_EIF_[A-Z]+)$/);
    }
  });
});

test('a signature entry with byte strings is rejected for its types, not as bad CBOR', async () => {
  const section = fromHexStr('81a2737369676e696e675f63657274696669636174654100697369676e61747572654100');
  const eif = assemble([
    ['kernel', K],
    ['cmdline', C],
    ['metadata', META],
    ['ramdisk', R],
    ['signature', section],
  ]);
  await expect(measureEifBytes(eif)).rejects.toThrow(/signing_certificate is not an array of byte values/);
});
