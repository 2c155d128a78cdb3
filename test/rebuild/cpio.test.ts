import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCpio, writeCpioBytes } from '../../src/rebuild/cpio.js';
import { treeFromCpio } from '../../src/rebuild/load.js';
import { treeFromDirectory } from '../../src/rebuild/node/fs.js';
import { pathFromText } from '../../src/rebuild/paths.js';
import { FileTree, makeInode, memoryData } from '../../src/rebuild/tree.js';
import { goldenBook } from './golden.js';
import { REFERENCE_CPIO, sh, tempDir } from './oracle.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const golden = goldenBook('cpio');

/** 70000 bytes that look random but are the same on every machine (SHA-256 in counter mode). */
function pseudoRandom(n: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; i * 32 < n; i++) blocks.push(createHash('sha256').update(`block ${i}`).digest());
  return Buffer.concat(blocks).subarray(0, n);
}

// Names are found in byte order (a/h2, dir.../h3, h1, zz-last); the first three are held back and
// written newest-first once zz-last completes the set.
// A tree with every kind of entry the writer must get right, built by the shell so the
// reference tool sees exactly what our directory reader sees. Contents, modes and times are
// fixed, so the archive is the same on every machine (as root) and its golden hash holds.
const BUILD_TREE = `
umask 022
mkdir -p t && cd t
mkdir -p usr/bin usr/lib empty 'dir with spaces' 'ünïcødé/日本' a-b a/b deep/$(printf 'd%.0s' $(seq 1 120))
printf 'hello\\n' > 'dir with spaces/file with spaces'
printf 'x' > 'ünïcødé/日本/ファイル'
cp ../big usr/bin/big && chmod 4755 usr/bin/big
printf '#!/bin/sh\\n' > usr/bin/script && chmod 2711 usr/bin/script
printf 'abc' > a/b/c && chmod 1600 a/b/c
: > emptyfile && ln emptyfile emptyfile.link
printf 'shared' > h1 && ln h1 a/h2 && ln h1 'dir with spaces/h3' && ln h1 zz-last
printf 'two' > pair1 && ln pair1 pair2
ln -s usr/bin bin && ln -s usr/lib lib && ln -s /etc/passwd abs-link && ln -s ../nowhere dangling
ln -s "$(printf 'L%.0s' $(seq 1 150))" long-target-link
printf 'long name' > "deep/$(printf 'd%.0s' $(seq 1 120))/$(printf 'f%.0s' $(seq 1 110))"
mkfifo pipe && mknod chardev c 1 3 && mknod blockdev b 7 0
chmod 700 empty && chmod 1777 a-b
chown 1000:1000 pair1 && chown -h 12:34 bin
for n in 1 2 3; do printf "$n" > "n$n"; done
printf 'latin' > "$(printf 'bad\\377name')" && printf 'nl' > "$(printf 'new\\nline')"
find . -exec touch -hcd @1700000000 {} +
`;

describe('cpio newc writer vs GNU cpio 2.15 --reproducible', () => {
  let dir: string;
  let cleanup: () => void;
  let reference: Uint8Array;
  let ours: Uint8Array;
  beforeAll(async () => {
    ({ dir, cleanup } = tempDir('ev-cpio-'));
    writeFileSync(`${dir}/big`, pseudoRandom(70000));
    sh(BUILD_TREE, dir);
    ours = await writeCpioBytes(treeFromDirectory(`${dir}/t`));
    reference = golden.reference('every entry kind', ours, () => sh(`cd t && ${REFERENCE_CPIO}`, dir));
  });
  afterAll(() => cleanup());

  it('writes the same bytes as the reference pipeline for a directory read from disk', () => {
    expect(ours.length).toBe(reference.length);
    expect(sha(ours)).toBe(sha(reference));
  });

  it('reads the reference archive back: names, order, hard links with data on the last name', () => {
    const entries = readCpio(reference);
    const names = entries.map((e) => e.name);
    expect(names[0]).toBe('.');
    expect(names).toContain('bin');
    expect(names.some((n) => n.startsWith('./'))).toBe(false);
    const links = entries.filter(
      (e) => e.name === 'h1' || e.name === 'a/h2' || e.name.endsWith('/h3') || e.name === 'zz-last',
    );
    expect(links.map((e) => [e.name, e.data.length])).toEqual([
      ['h1', 0],
      [pathFromText('dir with spaces/h3'), 0],
      ['a/h2', 0],
      ['zz-last', 6],
    ]);
    expect(entries.filter((e) => e.type === 'dir').every((e) => e.nlink === 2)).toBe(true);
    expect(entries.every((e) => e.devMajor === 0 && e.devMinor === 0)).toBe(true);
    expect(entries.find((e) => e.name === 'chardev')).toMatchObject({ rdevMajor: 1, rdevMinor: 3 });
    expect(reference.length % 512).toBe(0);
  });

  it('round-trips: archive -> tree -> archive is identical', async () => {
    const again = await writeCpioBytes(treeFromCpio(readCpio(reference)));
    expect(sha(again)).toBe(sha(reference));
  });
});

describe('cpio writer details', () => {
  it('writes an empty tree as the root and the trailer in one 512-byte block', async () => {
    const bytes = await writeCpioBytes(new FileTree());
    expect(bytes.length).toBe(512);
    const entries = readCpio(bytes);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ name: '.', ino: 0, mode: 0o40755, nlink: 2 });
  });

  it('flushes hard-link sets whose other names are outside the tree newest-first, data on the oldest', async () => {
    const tree = new FileTree();
    const shared = makeInode('file', 0o644, { data: memoryData(new Uint8Array([1, 2, 3])) });
    tree.set('b', shared);
    tree.set('c', shared);
    // claim a third name the tree does not hold, as a disk tree with a link outside it would
    const entries = tree.entries().map((e) => (e.inode === shared ? { ...e, links: 3 } : e));
    tree.entries = () => entries;
    const parsed = readCpio(await writeCpioBytes(tree));
    expect(parsed.map((e) => [e.name, e.data.length, e.nlink])).toEqual([
      ['.', 0, 2],
      ['c', 0, 3],
      ['b', 3, 3],
    ]);
  });

  it('linuxkit layout (SPEC 3.3, not checked against linuxkit): inodes from 721, dev 3:1, lowercase hex', async () => {
    const tree = new FileTree();
    tree.set('dev', makeInode('dir', 0o755, { mtime: 1492533000 }));
    tree.set(
      'init',
      makeInode('file', 0o755, { mtime: 1492533000, data: memoryData(new Uint8Array(10).fill(0xab)) }),
    );
    const bytes = await writeCpioBytes(tree, { format: 'linuxkit' });
    expect(bytes.length % 512).toBe(0);
    const entries = readCpio(bytes);
    expect(entries.map((e) => [e.name, e.ino, e.devMajor, e.devMinor, e.nlink])).toEqual([
      ['.', 721, 3, 1, 2],
      ['dev', 722, 3, 1, 2],
      ['init', 723, 3, 1, 1],
    ]);
    const header = new TextDecoder().decode(bytes.subarray(0, 110));
    expect(header).toBe(header.toLowerCase());
    expect(header.slice(14, 22)).toBe('000041ed');
  });

  it('rejects malformed archives with ERR_ARCHIVE_MALFORMED', () => {
    const bad = new TextEncoder().encode(`070701${'0'.repeat(96)}`);
    expect(() => readCpio(bad)).toThrow(expect.objectContaining({ code: 'ERR_ARCHIVE_MALFORMED' }));
    const huge = new TextEncoder().encode(
      `070701${'0'.repeat(40)}FFFFFFFF${'0'.repeat(32)}00000002${'0'.repeat(8)}a\0`,
    );
    expect(() => readCpio(huge)).toThrow(expect.objectContaining({ code: 'ERR_ARCHIVE_MALFORMED' }));
  });
});
