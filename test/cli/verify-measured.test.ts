// `verify --eif` and `verify --kernel/--cmdline/--ramdisk`: expected PCRs measured from an
// image, matched against a document issued by the test PKI with the image's PCRs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { toBase64 } from '../../src/util/bytes.js';
import { type Case, OFFICIAL, OFFICIAL_CASES } from './measure-support.js';
import { cli } from './verify-support.js';

const cases = OFFICIAL_CASES;
const c = cases.find((x) => x.case === 'nitro-two-ramdisks')!;
const other = cases.find((x) => x.case === 'aarch64')!;
const p = (k: Case, f: string) => new URL(`${k.case}/${f}`, OFFICIAL).pathname;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ev-verify-eif-'));
  const pki = await createTestPki();
  writeFileSync(join(dir, 'root.pem'), pki.rootPem);
  const pcrs = { 0: c.pcrs.PCR0!, 1: c.pcrs.PCR1!, 2: c.pcrs.PCR2!, 3: '00'.repeat(48), 4: '11'.repeat(48) };
  writeFileSync(join(dir, 'doc.b64'), toBase64(await issueAttestation(pki, { pcrs })));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verify with PCRs measured from an image', () => {
  test('--eif: verified, and the report names the measured sections', async () => {
    const r = await cli(['verify', 'doc.b64', '--root', 'root.pem', '--eif', p(c, 'out.eif')], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ +0 match +7c5e62da/m);
    expect(r.stdout).toContain(
      `expected PCRs measured from EIF ${p(c, 'out.eif')}, kernel (32768 bytes), cmdline (119 bytes), metadata (240 bytes), ramdisk (20000 bytes), ramdisk (50001 bytes)`,
    );
  });

  test('--kernel/--cmdline/--ramdisk --json: verified, measuredFrom lists the part files', async () => {
    const r = await cli(
      [
        'verify',
        'doc.b64',
        '--root',
        'root.pem',
        '--kernel',
        p(c, 'kernel'),
        '--cmdline',
        c.cmdline,
        '--ramdisk',
        p(c, 'ramdisk0'),
        '--ramdisk',
        p(c, 'ramdisk1'),
        '--json',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.measuredFrom).toEqual([
      {
        flag: '--kernel',
        describe: `EIF parts (as eif_build would assemble them), kernel ${p(c, 'kernel')} (32768 bytes), cmdline (119 bytes), ramdisk ${p(c, 'ramdisk0')} (20000 bytes), ramdisk ${p(c, 'ramdisk1')} (50001 bytes)`,
      },
    ]);
  });

  test('another image: rejected with ERR_PCR_MISMATCH', async () => {
    const r = await cli(['verify', 'doc.b64', '--root', 'root.pem', '--eif', p(other, 'out.eif'), '--json'], {
      cwd: dir,
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).code).toBe('ERR_PCR_MISMATCH');
  });

  test('incomplete parts are a usage error; a malformed EIF is reported by its code', async () => {
    const a = await cli(['verify', 'doc.b64', '--root', 'root.pem', '--kernel', p(c, 'kernel'), '--json'], {
      cwd: dir,
    });
    expect([a.code, JSON.parse(a.stdout).code]).toEqual([2, 'ERR_USAGE']);
    const b = await cli(['verify', 'doc.b64', '--root', 'root.pem', '--eif', p(c, 'kernel'), '--json'], {
      cwd: dir,
    });
    expect(JSON.parse(b.stdout).code).toBe('ERR_EIF_MAGIC');
  });
});
