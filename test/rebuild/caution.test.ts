import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCautionTree, checkCautionLayout } from '../../src/rebuild/caution.js';
import { readCpio, writeCpioBytes } from '../../src/rebuild/cpio.js';
import { gzipBusybox } from '../../src/rebuild/gzip/gzip.js';
import { openFileSource, treeFromDirectory } from '../../src/rebuild/node/fs.js';
import { pathFromText } from '../../src/rebuild/paths.js';
import { readTar } from '../../src/rebuild/tar.js';
import { FileTree, makeInode } from '../../src/rebuild/tree.js';
import { BUILD_INPUTS, cautionReference } from './fixtures.js';
import { goldenBook } from './golden.js';
import { sh, tempDir } from './oracle.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const golden = goldenBook('caution');

describe('Caution recipe vs the real pipeline', () => {
  let dir: string;
  let cleanup: () => void;
  let reference: Uint8Array;
  let ours: Uint8Array;
  beforeAll(async () => {
    ({ dir, cleanup } = tempDir('ev-caution-'));
    sh(BUILD_INPUTS, dir);
    ({ cpio: reference, ours } = await cautionReference(dir, golden));
  });
  afterAll(() => cleanup());

  it('produces a cpio byte-identical to tar + chmod + touch + find | sort -z | cpio --reproducible', () => {
    expect(ours.length).toBe(reference.length);
    expect(sha(ours)).toBe(sha(reference));
  });

  it('compresses to the same rootfs.cpio.gz as busybox gzip --best', () => {
    const refGz = readFileSync(`${dir}/ref.cpio.gz`);
    expect(sha(gzipBusybox(ours))).toBe(sha(refGz));
  });

  it('wrote through bin -> usr/bin, replaced app files in place and kept modes as specified', () => {
    const byName = new Map(readCpio(reference).map((e) => [e.name, e]));
    expect(byName.get('bin')).toMatchObject({ type: 'symlink', mode: 0o120777, uid: 0, gid: 0 });
    expect(byName.has('bin/udhcpc-script')).toBe(false);
    expect(byName.get('usr/bin/udhcpc-script')).toMatchObject({ mode: 0o100755, mtime: 0 });
    expect(new TextDecoder().decode(byName.get('usr/bin/app')!.data)).toBe('new app');
    expect(byName.get('private/key')).toMatchObject({ mode: 0o100644 });
    expect(byName.get('tmp')).toMatchObject({ mode: 0o40755 });
    expect(byName.get('etc')).toMatchObject({ mode: 0o40750 });
    // the overlay wrote into the existing inode, so both names of os-release changed
    expect(byName.get('etc/os-release')).toMatchObject({ mode: 0o100640, nlink: 2 });
    const lib = byName.get('usr/lib/os-release')!;
    expect(new TextDecoder().decode(lib.data)).toBe('ID=enclaveos\n');
    expect(byName.get(pathFromText('ünï/日本/ファイル.txt'))).toBeDefined();
  });

  it('gives the same archive from the directory form of the app', async () => {
    sh('mkdir appdir && tar -C appdir -xp --numeric-owner -f app.tar', dir);
    const tree = treeFromDirectory(`${dir}/appdir`);
    const ov1 = openFileSource(`${dir}/ov1.tar`);
    const ov2 = openFileSource(`${dir}/ov2.tar`);
    try {
      await buildCautionTree(tree, [readTar(ov1), readTar(ov2)]);
      // overlay contents are read from the tar files while the archive is written
      expect(sha(await writeCpioBytes(tree))).toBe(sha(reference));
    } finally {
      ov1.close();
      ov2.close();
    }
  });
});

describe('Caution layout rules', () => {
  it('refuses bin pointing anywhere but usr/bin with ERR_RECIPE', () => {
    const tree = new FileTree();
    tree.set('bin', makeInode('symlink', 0o777, { target: '/usr/bin' }));
    expect(() => checkCautionLayout(tree)).toThrow(expect.objectContaining({ code: 'ERR_RECIPE' }));
    const tree2 = new FileTree();
    tree2.set('lib', makeInode('file', 0o644));
    expect(() => checkCautionLayout(tree2)).toThrow(expect.objectContaining({ code: 'ERR_RECIPE' }));
  });

  it('creates etc/ssl/certs 0755 when missing', () => {
    const tree = new FileTree();
    checkCautionLayout(tree);
    expect(tree.get('etc/ssl/certs')).toMatchObject({ type: 'dir', mode: 0o755 });
  });
});
