import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCautionTree, checkCautionLayout } from '../../src/rebuild/caution.js';
import { readCpio, writeCpioBytes } from '../../src/rebuild/cpio.js';
import { treeFromTar } from '../../src/rebuild/load.js';
import { openFileSource, treeFromDirectory } from '../../src/rebuild/node/fs.js';
import { pathFromText } from '../../src/rebuild/paths.js';
import { gzipBusybox } from '../../src/rebuild/gzip/gzip.js';
import { readTar } from '../../src/rebuild/tar.js';
import { FileTree, makeInode } from '../../src/rebuild/tree.js';
import { REFERENCE_CPIO, sh, tempDir } from './oracle.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const LONG = 'n'.repeat(130);

// The application image, as `docker export` would give it (owners, odd modes and all), and two
// overlays in different tar dialects.
const BUILD_INPUTS = `
umask 022
mkdir -p app && cd app
mkdir -p usr/bin usr/lib etc tmp var/empty 'with space' 'ünï/日本' private home/user
ln -s usr/bin bin && ln -s usr/lib lib
printf '#!/bin/sh\\necho app\\n' > usr/bin/app && chmod 4755 usr/bin/app
printf 'secret' > private/key && chmod 600 private/key && chmod 700 private
printf 'ro' > etc/readonly && chmod 444 etc/readonly
printf 'gx' > usr/bin/groupexec && chmod 2710 usr/bin/groupexec
printf 'ID=app\\n' > etc/os-release && ln etc/os-release usr/lib/os-release
printf 'keep' > usr/lib/libkeep.so && ln usr/lib/libkeep.so usr/lib/libkeep.so.1
ln -s ../usr/bin/app etc/app-link && ln -s /usr/lib/libkeep.so abs-lib && ln -s missing/target dangling
printf 'sp' > 'with space/a file' && printf 'u' > 'ünï/日本/ファイル.txt'
printf 'long' > "home/user/${LONG}" && ln -s "home/user/${LONG}" "link-${LONG}"
chmod 1777 tmp && mkfifo var/fifo
chown -R 1000:1000 home && chown -h 5:6 bin
cd ..
tar --format=pax --numeric-owner -C app -cf app.tar .
mkdir -p ov1/bin ov1/etc/ssl/certs ov1/usr/bin
printf '#!/bin/sh\\ndhcp\\n' > ov1/bin/udhcpc-script && chmod 755 ov1/bin/udhcpc-script
printf '#!/bin/sh\\ninit\\n' > ov1/init && chmod 755 ov1/init
printf 'CERTS' > ov1/etc/ssl/certs/ca-certificates.crt
printf 'ID=enclaveos\\n' > ov1/etc/os-release && chmod 640 ov1/etc/os-release
printf 'bb' > ov1/usr/bin/busybox && chmod 755 ov1/usr/bin/busybox && ln -s busybox ov1/usr/bin/sh
chmod 750 ov1/etc
tar --format=gnu --numeric-owner --owner=0 --group=0 -C ov1 -cf ov1.tar init bin bin/udhcpc-script etc etc/ssl etc/ssl/certs etc/ssl/certs/ca-certificates.crt etc/os-release usr/bin/busybox usr/bin/sh
mkdir -p ov2
printf '{"app_source":"x"}' > ov2/manifest.json
printf 'new app' > ov2/app && chmod 755 ov2/app
ln -s /bootproofd ov2/run.sh
tar --format=ustar --numeric-owner -C ov2 -cf ov2.tar manifest.json run.sh --transform 's,^app$,usr/bin/app,' app
`;

// The same steps done by the real tools: GNU tar, busybox chmod/touch/find/sort, GNU cpio 2.15.
const REFERENCE_RECIPE = `
umask 022
mkdir ref && cd ref && tar -xp --numeric-owner -f ../app.tar
chown -hR 0:0 .
find . -type d -exec "$BB" chmod 755 {} +
find . -type f -perm /111 -exec "$BB" chmod 755 {} +
find . -type f ! -perm /111 -exec "$BB" chmod 644 {} +
mkdir -p etc/ssl/certs
tar -xp --overwrite --keep-directory-symlink --numeric-owner -f ../ov1.tar
tar -xp --overwrite --keep-directory-symlink --numeric-owner -f ../ov2.tar
chown -hR 0:0 .
find . -exec touch -hcd @0 {} +
${REFERENCE_CPIO} > ../ref.cpio
"$BB" gzip --best < ../ref.cpio > ../ref.cpio.gz
`;

describe('Caution recipe vs the real pipeline', () => {
  let dir: string;
  let cleanup: () => void;
  let reference: Uint8Array;
  let ours: Uint8Array;
  beforeAll(async () => {
    ({ dir, cleanup } = tempDir('ev-caution-'));
    sh(BUILD_INPUTS, dir);
    sh(REFERENCE_RECIPE, dir);
    reference = readFileSync(`${dir}/ref.cpio`);
    const app = openFileSource(`${dir}/app.tar`);
    const ov1 = openFileSource(`${dir}/ov1.tar`);
    const ov2 = openFileSource(`${dir}/ov2.tar`);
    try {
      const tree = await treeFromTar(app, { label: 'app.tar' });
      await buildCautionTree(tree, [readTar(ov1), readTar(ov2)]);
      ours = await writeCpioBytes(tree);
    } finally {
      app.close();
      ov1.close();
      ov2.close();
    }
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
