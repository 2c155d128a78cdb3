// Issue 15, finding 1: a published ramdisk = gzip(clean cpio) + NUL bytes + a plain cpio with
// another /init. The kernel unpacks all of it; inspection and comparison must show all of it.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeEifFile } from '../../src/measure/node/write-file.js';
import { readCpio } from '../../src/rebuild/cpio.js';
import { linuxkitFiles, writeLinuxkitCpio } from '../../src/rebuild/linuxkit.js';
import { ramdisksFromBytes } from '../../src/rebuild/node/ramdisk-file.js';
import { pathFromText } from '../../src/rebuild/paths.js';
import { memoryData } from '../../src/rebuild/tree.js';
import { concatBytes } from '../../src/util/bytes.js';
import { runCli } from '../support/cli.js';

const V = join(import.meta.dirname, '../../vectors/real/nitro-cli');
const B = join(V, 'bootstrap');
const enc = (s: string) => new TextEncoder().encode(s);

async function cpioWith(files: Record<string, string>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const entries = linuxkitFiles(
    Object.entries(files).map(([p, text]) => ({
      path: pathFromText(p),
      data: memoryData(enc(text)),
      mode: 0o755,
    })),
  );
  for await (const c of writeLinuxkitCpio(entries)) parts.push(c);
  return concatBytes(...parts);
}

describe('Ramdisk inspection hides appended content', () => {
  let dir: string;
  let clean: Uint8Array;
  let hostile: Uint8Array;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ev-appended-'));
    clean = gzipSync(await cpioWith({ init: '#!/bin/sh\necho clean\n', 'etc/motd': 'hi\n' }));
    const evil = await cpioWith({ init: '#!/bin/sh\necho evil\n' });
    hostile = new Uint8Array([...clean, ...new Uint8Array(13), ...evil]);
    writeFileSync(join(dir, 'clean.cpio.gz'), clean);
    writeFileSync(join(dir, 'hostile.cpio.gz'), hostile);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every member as the kernel does: the appended /init is listed', async () => {
    const [r] = await ramdisksFromBytes(hostile, 'hostile.cpio.gz');
    expect(r!.members.map((m) => m.gzip)).toEqual([true, false]);
    const names = readCpio(r!.cpio).map((e) => `${e.archive}:${e.name}`);
    expect(names).toEqual(['0:init', '0:etc', '0:etc/motd', '1:init']);
    const ls = await runCli(['ramdisk', 'ls', 'hostile.cpio.gz', '--json'], { cwd: dir });
    expect(ls.code).toBe(0);
    const entries = JSON.parse(ls.stdout).ramdisks[0].entries as {
      path: string;
      archive: number;
      sha256?: string;
    }[];
    const inits = entries.filter((e) => e.path === 'init');
    expect(inits.map((e) => e.archive)).toEqual([0, 1]);
    expect(inits[1]!.sha256).toBe(createHash('sha256').update('#!/bin/sh\necho evil\n').digest('hex'));
    const human = await runCli(['ramdisk', 'ls', 'hostile.cpio.gz'], { cwd: dir });
    expect(human.stdout).toMatch(/ init \(archive 1\)\n/);
  });

  it('ramdisk diff reports the appended entry and exits 1', async () => {
    const d = await runCli(['ramdisk', 'diff', 'clean.cpio.gz', 'hostile.cpio.gz', '--json'], { cwd: dir });
    expect(d.code).toBe(1);
    const out = JSON.parse(d.stdout);
    expect(out.identical).toBe(false);
    expect(out.differences).toEqual([{ path: 'init (archive 1)', change: 'missing' }]);
  });

  it('extract unpacks what the kernel would: the later /init wins', async () => {
    const x = await runCli(['ramdisk', 'extract', 'hostile.cpio.gz', '--out', 'x'], { cwd: dir });
    expect(x.code).toBe(0);
    expect(readFileSync(join(dir, 'x/init'), 'utf8')).toBe('#!/bin/sh\necho evil\n');
  });

  it('bytes that are neither padding, cpio nor gzip are an error, not skipped', async () => {
    writeFileSync(join(dir, 'junk.cpio.gz'), new Uint8Array([...clean, 0, 0, 0, 0x41, 0x42]));
    const r = await runCli(['ramdisk', 'ls', 'junk.cpio.gz'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^enclave-verify: ERR_ARCHIVE_MALFORMED: .*offset \d+: bytes that are neither NUL padding/,
    );
  });

  it('rebuild --reference fails on an EIF whose customer ramdisk carries an appended archive', async () => {
    const args = [
      '--kernel',
      join(B, 'kernel'),
      '--cmdline',
      join(B, 'cmdline'),
      '--init',
      join(B, 'init'),
      '--nsm',
      join(B, 'nsm.ko'),
    ];
    const image = join(V, 'basic/image.docker.tar');
    const first = await runCli(
      ['rebuild', '--recipe', 'nitro-cli', '--image', image, ...args, '--out', 'nc'],
      { cwd: dir },
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const customer = readFileSync(join(dir, 'nc/customer-initrd.img'));
    const evil = await cpioWith({ init: 'evil' });
    writeFileSync(join(dir, 'evil-customer.img'), new Uint8Array([...customer, ...evil]));
    await writeEifFile({
      kernel: join(B, 'kernel'),
      cmdline: readFileSync(join(B, 'cmdline'), 'utf8').trim(),
      ramdisks: [join(dir, 'nc/bootstrap-initrd.img'), join(dir, 'evil-customer.img')],
      output: join(dir, 'evil.eif'),
      buildTime: '2025-01-01T00:00:00+00:00',
    });
    const good = await runCli(
      [
        'rebuild',
        '--recipe',
        'nitro-cli',
        '--image',
        image,
        ...args,
        '--out',
        'nc2',
        '--reference',
        'nc/enclave.eif',
      ],
      { cwd: dir },
    );
    expect(good.stderr).toBe('');
    expect(good.stdout).toMatch(
      /ramdisk 0 vs bootstrap ramdisk: identical\n[\s\S]*ramdisk 1 vs customer ramdisk: identical\n/,
    );
    expect(good.code).toBe(0);
    const bad = await runCli(
      [
        'rebuild',
        '--recipe',
        'nitro-cli',
        '--image',
        image,
        ...args,
        '--out',
        'nc3',
        '--reference',
        'evil.eif',
        '--json',
      ],
      { cwd: dir },
    );
    expect(bad.code).toBe(1);
    const out = JSON.parse(bad.stdout);
    expect(out.ok).toBe(false);
    const customerRef = out.reference.find((r: { ramdisk: string }) => r.ramdisk === 'customer');
    expect(customerRef.identical).toBe(false);
    expect(customerRef.diff.differences).toEqual([{ path: 'init (archive 1)', change: 'missing' }]);
  });
});
