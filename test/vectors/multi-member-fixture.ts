// A ramdisk shaped like issue 15's finding 1, for the vector executors: gzip(clean cpio) + NUL
// padding + gzip(cpio with another /init) + NUL padding + a plain cpio. The kernel unpacks all
// three archives; every reader of `ramdisk` vector cases must count all of their entries.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeCpioBytes } from '../../src/rebuild/cpio.js';
import { FileTree, makeInode, memoryData } from '../../src/rebuild/tree.js';
import { VECTOR_FORMAT } from '../../src/vectors/format.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

async function cpioOf(files: Record<string, string>): Promise<Uint8Array> {
  const tree = new FileTree();
  for (const [path, text] of Object.entries(files))
    tree.set(path, makeInode('file', 0o755, { mtime: 1700000000, data: memoryData(utf8(text)) }));
  return writeCpioBytes(tree);
}

/** Entries the three archives hold: '.', init | '.', init, etc, etc/motd | '.', bin, bin/sh. */
export const MULTI_MEMBER_ENTRIES = 2 + 4 + 3;

/** The archive bytes, and a one-case vector file (`cases.json` beside `multi.cpio.gz`) reading it. */
export async function multiMemberSuite(): Promise<{ file: string; bytes: Uint8Array; id: string }> {
  const first = gzipSync(await cpioOf({ init: '#!/bin/sh\necho clean\n' }));
  const second = gzipSync(await cpioOf({ init: '#!/bin/sh\necho evil\n', 'etc/motd': 'hi\n' }));
  const third = await cpioOf({ 'bin/sh': 'not really a shell\n' });
  // The plain archive starts 4-aligned, where the kernel looks for a cpio header.
  const head = [...first, 0, 0, 0, 0, ...second, 0, 0, 0, 0];
  const pad = new Array((4 - (head.length % 4)) % 4).fill(0);
  const bytes = new Uint8Array([...head, ...pad, ...third]);
  const dir = mkdtempSync(join(tmpdir(), 'ev-multi-member-'));
  writeFileSync(join(dir, 'multi.cpio.gz'), bytes);
  const id = 'ramdisk/read/gzip-nul-gzip-nul-cpio';
  const suite = {
    format: VECTOR_FORMAT,
    description: 'a ramdisk of two gzip members and a plain cpio with NUL padding between',
    cases: [
      {
        id,
        kind: 'ramdisk',
        description: 'every member is read, as the kernel unpacks them',
        input: { recipe: 'read', archive: 'multi.cpio.gz' },
        expect: { result: 'accept', entries: MULTI_MEMBER_ENTRIES },
      },
    ],
  };
  writeFileSync(join(dir, 'cases.json'), `${JSON.stringify(suite, null, 2)}\n`);
  return { file: join(dir, 'cases.json'), bytes, id };
}
