import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { formatNitroCli } from '../../src/measure/format.js';
import { measureEifFile } from '../../src/measure/node/measure-file.js';
import { expectedPcrsFromEif, expectedPcrsFromParts } from '../../src/measure/node/parts.js';
import { toHex } from '../../src/util/bytes.js';

const OFFICIAL = new URL('../../../shared/vectors/eif/official/', import.meta.url);
interface Case {
  case: string;
  cmdline: string;
  kernel: string;
  ramdisks: string[];
  eif: string;
  pcrs: Record<string, string>;
}
const cases = JSON.parse(readFileSync(new URL('expected.json', OFFICIAL), 'utf8')) as Case[];
const path = (c: Case, name: string) => new URL(`${c.case}/${name}`, OFFICIAL).pathname;

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
