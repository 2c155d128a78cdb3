import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractOverlay } from '../../src/rebuild/apply.js';
import { finalizeTree } from '../../src/rebuild/caution.js';
import { readCpio, writeCpioBytes } from '../../src/rebuild/cpio.js';
import { openFileSource, treeFromDirectory } from '../../src/rebuild/node/fs.js';
import { readTar, type TarEntry } from '../../src/rebuild/tar.js';
import { FileTree, makeInode, memoryData } from '../../src/rebuild/tree.js';
import { goldenBook } from './golden.js';
import { REFERENCE_CPIO, sh, tempDir } from './oracle.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const golden = goldenBook('overlay');

// Every kind of collision between an overlay member and what the tree already holds. GNU tar
// (always on the machine) applies the overlay live; the reference cpio of its result needs the
// oracles, else its golden hash stands in (see golden.ts).
const BUILD = `
umask 022
mkdir -p base/real/deep base/emptydir base/full base/c/d base/usr/bin && cd base
printf old > file && ln file file-link && printf tgt > target && ln -s target sym-to-file
ln -s real dirlink && ln -s nowhere dangling-dir && ln -s c chain1 && ln -s chain1/d chain2
ln -s /usr/bin abs-dirlink && printf keep > full/keep && printf f > was-file && mkfifo fifo
chmod 711 real
cd .. && mkdir -p ov/dirlink ov/dangling-dir ov/chain2 ov/abs-dirlink ov/was-file ov/full && cd ov
printf new > file && chmod 600 file
printf over > sym-to-file
printf through > dirlink/x && chmod 700 dirlink
printf nested > chain2/y
printf abs > abs-dirlink/z
ln -s elsewhere emptydir-sym && printf keep2 > full/keep
ln file hard-to-file
cd .. && mkdir -p ov/emptydir-src && ln -s somewhere ov/emptydir
tar --format=gnu --owner=0 --group=0 -C ov -cf ov.tar file sym-to-file dirlink dirlink/x chain2/y dangling-dir emptydir was-file full full/keep hard-to-file
cp -a base ref && (cd ref && tar -xp --overwrite --keep-directory-symlink -f ../ov.tar)
find ref -exec touch -hcd @0 {} +
tar --format=gnu -C ov -cf abs.tar abs-dirlink/z
`;

describe('overlay extraction vs GNU tar -xp --overwrite --keep-directory-symlink', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ dir, cleanup } = tempDir('ev-overlay-'));
    sh(BUILD, dir);
  });
  afterAll(() => cleanup());

  it('leaves the same tree (compared as GNU cpio archives of both)', async () => {
    const tree = treeFromDirectory(`${dir}/base`);
    const src = openFileSource(`${dir}/ov.tar`);
    let reference: Uint8Array;
    try {
      await extractOverlay(tree, readTar(src));
      finalizeTree(tree);
      const ours = await writeCpioBytes(tree);
      reference = golden.reference('collisions', ours, () => sh(`cd ref && ${REFERENCE_CPIO}`, dir));
      const names = (b: Uint8Array) =>
        readCpio(b).map((e) => `${e.name} ${e.mode.toString(8)} ${e.nlink} ${sha(e.data)}`);
      expect(names(ours)).toEqual(names(reference));
      expect(sha(ours)).toBe(sha(reference));
    } finally {
      src.close();
    }
    // what GNU tar did, spelled out
    const byName = new Map(readCpio(reference).map((e) => [e.name, e]));
    expect(
      new TextDecoder().decode(
        byName.get('file-link')!.data.length
          ? byName.get('file-link')!.data
          : byName.get('hard-to-file')!.data,
      ),
    ).toBe('new');
    expect(byName.get('dirlink')!.mode).toBe(0o120777);
    expect(byName.get('real')!.mode).toBe(0o40711);
    expect(byName.has('real/x')).toBe(true);
    expect(byName.has('c/d/y')).toBe(true);
    expect(byName.get('dangling-dir')!.mode & 0o170000).toBe(0o040000);
    expect(byName.get('sym-to-file')!.mode & 0o170000).toBe(0o100000);
    expect(new TextDecoder().decode(byName.get('target')!.data)).toBe('tgt');
  });

  // GNU tar would follow an absolute symlink out of the tree onto the host; we resolve it inside
  // the tree, so the reference tool cannot be run here.
  it('resolves absolute directory symlinks inside the tree, never on the host', async () => {
    const tree = treeFromDirectory(`${dir}/base`);
    const src = openFileSource(`${dir}/abs.tar`);
    try {
      await extractOverlay(tree, readTar(src));
      expect(tree.get('abs-dirlink')).toMatchObject({ type: 'symlink', target: '/usr/bin' });
      expect(new TextDecoder().decode(await tree.get('usr/bin/z')!.data!.bytes())).toBe('abs');
    } finally {
      src.close();
    }
  });
});

describe('overlay failures that tar also refuses', () => {
  const member = (path: string, type: TarEntry['type'] = 'file'): TarEntry => ({
    path,
    type,
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: 0,
    data: memoryData(new Uint8Array([1])),
    dataOffset: 0,
    linkTarget: '',
    devMajor: 0,
    devMinor: 0,
  });

  it('a file over a non-empty directory or a fifo: ERR_RECIPE', async () => {
    const tree = new FileTree();
    tree.set('d/keep', makeInode('file', 0o644, { data: memoryData(new Uint8Array()) }));
    tree.set('p', makeInode('fifo', 0o644));
    await expect(extractOverlay(tree, [member('d')])).rejects.toMatchObject({ code: 'ERR_RECIPE' });
    await expect(extractOverlay(tree, [member('p')])).rejects.toMatchObject({ code: 'ERR_RECIPE' });
  });
});
