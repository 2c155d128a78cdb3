import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { measureEifBytes } from '../../src/measure/eif-reader.js';
import { buildEifBytes } from '../../src/measure/eif-writer.js';
import { describeEif, formatNitroCli } from '../../src/measure/format.js';
import { eifBuildMetadata } from '../../src/measure/metadata.js';
import { pcrsFromParts } from '../../src/measure/pcr.js';
import { toHex } from '../../src/util/bytes.js';
import { sha256 } from '../../src/util/digest.js';
import { OFFICIAL, OFFICIAL_CASES, type OfficialCase } from '../support/official-eif.js';

type Case = OfficialCase;
const cases = OFFICIAL_CASES;
const file = (c: Case, name: string) => new Uint8Array(readFileSync(new URL(`${c.case}/${name}`, OFFICIAL)));

/** Flags of the eif_build command line recorded in expected.json. */
function flag(c: Case, name: string): string | undefined {
  const m = new RegExp(`--${name} (?:"([^"]*)"|(\\S+))`).exec(c.command);
  return m ? (m[1] ?? m[2]) : undefined;
}

describe('official eif_build vectors', () => {
  test('there are seven cases, one signed', () => {
    expect(cases.map((c) => c.case)).toHaveLength(7);
    expect(cases.filter((c) => c.pcrs.PCR8).map((c) => c.case)).toEqual(['signed-p384']);
  });

  for (const c of cases) {
    test(`${c.case}: PCRs, CRC and size from the EIF`, async () => {
      const m = await measureEifBytes(file(c, c.eif));
      expect(m.fileSize).toBe(c.eif_size);
      expect(m.crc.stored.toString(16).padStart(8, '0')).toBe(c.crc32);
      expect(m.crc.ok).toBe(true);
      expect(JSON.parse(formatNitroCli(m.pcrs)).Measurements).toEqual(c.pcrs);
      expect(new TextDecoder().decode(m.cmdline)).toBe(c.cmdline);
      const d = describeEif(m);
      expect(d.IsSigned).toBe(c.pcrs.PCR8 !== undefined);
      if (c.pcrs.PCR8) expect(d.SignatureCheck).toBe(true);
    });

    test(`${c.case}: PCRs from the parts equal those of the EIF`, () => {
      const p = pcrsFromParts({
        kernel: file(c, c.kernel),
        cmdline: c.cmdline,
        ramdisks: c.ramdisks.map((r) => file(c, r)),
      });
      expect([toHex(p.pcr0), toHex(p.pcr1), toHex(p.pcr2)]).toEqual([c.pcrs.PCR0, c.pcrs.PCR1, c.pcrs.PCR2]);
    });

    if (!c.pcrs.PCR8) {
      test(`${c.case}: buildEifBytes reproduces out.eif byte for byte`, async () => {
        const metadataFile = flag(c, 'metadata');
        const name = flag(c, 'name');
        const metadata = eifBuildMetadata({
          kernelFileName: c.kernel,
          buildTime: flag(c, 'build-time')!,
          ...(name ? { name } : {}),
          ...(metadataFile
            ? { customMetadataJson: readFileSync(new URL(`${c.case}/${metadataFile}`, OFFICIAL), 'utf8') }
            : {}),
        });
        const eif = await buildEifBytes({
          kernel: file(c, c.kernel),
          cmdline: c.cmdline,
          ramdisks: c.ramdisks.map((r) => file(c, r)),
          metadata,
          arch: flag(c, 'arch') === 'aarch64' ? 'aarch64' : 'x86_64',
        });
        expect(toHex(await sha256(eif))).toBe(c.eif_sha256);
      });
    }
  }
});
