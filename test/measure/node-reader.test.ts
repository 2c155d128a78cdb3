import { describe, expect, test } from 'vitest';
import { formatNitroCli } from '../../src/measure/format.js';
import { measureEifFile } from '../../src/measure/node/measure-file.js';
import { expectedPcrsFromEif, expectedPcrsFromParts } from '../../src/measure/node/parts.js';
import { toHex } from '../../src/util/bytes.js';
import { OFFICIAL, OFFICIAL_CASES, type OfficialCase } from '../support/official-eif.js';

const cases = OFFICIAL_CASES;
const path = (c: OfficialCase, name: string) => new URL(`${c.case}/${name}`, OFFICIAL).pathname;

describe('streaming EIF reader', () => {
  for (const c of cases) {
    for (const parallel of ['never', 'always'] as const) {
      test(`${c.case} (${parallel === 'always' ? 'worker threads, small chunks' : 'main thread'})`, async () => {
        const progress: number[] = [];
        const m = await measureEifFile(path(c, c.eif), {
          parallel,
          chunkSize: parallel === 'always' ? 1000 : 4096,
          onProgress: (d) => progress.push(d),
        });
        expect(JSON.parse(formatNitroCli(m.pcrs)).Measurements).toEqual(c.pcrs);
        expect(m.crc.ok).toBe(true);
        expect(progress.at(-1)).toBe(m.fileSize);
        if (c.pcrs.PCR8) expect(m.signature?.signatureCheck).toBe(true);
      });
    }
    test(`${c.case}: expectedPcrsFromEif and expectedPcrsFromParts agree`, async () => {
      const a = await expectedPcrsFromEif(path(c, c.eif));
      const b = await expectedPcrsFromParts({
        kernel: path(c, c.kernel),
        cmdline: c.cmdline,
        ramdisks: c.ramdisks.map((r) => path(c, r)),
        ...(c.pcrs.PCR8 ? { signingCertificate: path(c, 'signing-cert.pem') } : {}),
      });
      const hex = (m: Map<number, Uint8Array[]>) => [...m].map(([i, v]) => [i, v.map(toHex)]);
      expect(hex(a.expected)).toEqual(hex(b.expected));
      expect(toHex(a.expected.get(0)![0]!)).toBe(c.pcrs.PCR0);
      expect(b.measured.parts.filter((p) => p.kind === 'ramdisk').length).toBe(c.ramdisks.length);
      expect(a.description[0]).toBe(`EIF ${path(c, c.eif)}`);
    });
  }
});

describe('worker split of hashing and CRC', () => {
  test.each([
    ['CRC boundary inside the application ramdisk', [10_000, 1_000, 100_000]],
    ['three application ramdisks, one empty', [3_000, 500, 40_000, 0, 60_000]],
    ['single ramdisk: the second worker only checksums', [5_000, 70_000]],
  ])('%s', async (_name, sizes) => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { buildEifBytes } = await import('../../src/measure/eif-writer.js');
    const { measureEifBytes } = await import('../../src/measure/eif-reader.js');
    const { eifBuildMetadata } = await import('../../src/measure/metadata.js');
    const [kernelSize, ...ramdiskSizes] = sizes as number[];
    let seed = 1;
    const bytes = (n: number) =>
      Uint8Array.from({ length: n }, () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed >> 16;
      });
    const eif = await buildEifBytes({
      kernel: bytes(kernelSize!),
      cmdline: 'console=ttyS0',
      ramdisks: ramdiskSizes.map(bytes),
      metadata: eifBuildMetadata({ kernelFileName: 'k', buildTime: 't' }),
    });
    const want = await measureEifBytes(eif);
    const dir = mkdtempSync(join(tmpdir(), 'eif-split-'));
    try {
      writeFileSync(join(dir, 'x.eif'), eif);
      for (const chunkSize of [1000, 7777, 1 << 20]) {
        const got = await measureEifFile(join(dir, 'x.eif'), { parallel: 'always', chunkSize });
        expect([toHex(got.pcrs.pcr0), toHex(got.pcrs.pcr1), toHex(got.pcrs.pcr2)]).toEqual([
          toHex(want.pcrs.pcr0),
          toHex(want.pcrs.pcr1),
          toHex(want.pcrs.pcr2),
        ]);
        expect(got.crc).toEqual({ stored: want.crc.stored, computed: want.crc.stored, ok: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('segment workers', () => {
  test('a range past the end of the file is ERR_EIF_TRUNCATED, and stop() after it is harmless', async () => {
    const { open } = await import('node:fs/promises');
    const { runSegmentWorker } = await import('../../src/measure/node/hash-workers.js');
    const c = cases[0]!;
    const fh = await open(path(c, c.eif), 'r');
    try {
      const size = (await fh.stat()).size;
      const job = runSegmentWorker(fh.fd, [
        { offset: size - 10, length: 100, hash: true, crc: true, markAfter: false },
      ]);
      await expect(job.result).rejects.toMatchObject({ code: 'ERR_EIF_TRUNCATED' });
      await job.stop();
      await job.stop();
    } finally {
      await fh.close();
    }
  });
});
