// Inputs of the Caution recipe tests and the same recipe done by the real tools.
import { readFileSync, writeFileSync } from 'node:fs';
import { buildCautionTree } from '../../src/rebuild/caution.js';
import { writeCpioBytes } from '../../src/rebuild/cpio.js';
import { gzipBusybox } from '../../src/rebuild/gzip/gzip.js';
import { treeFromTar } from '../../src/rebuild/load.js';
import { openFileSource } from '../../src/rebuild/node/fs.js';
import { readTar } from '../../src/rebuild/tar.js';
import type { GoldenBook } from './golden.js';
import { REFERENCE_CPIO, sh } from './oracle.js';

const LONG = 'n'.repeat(130);

// The application image, as `docker export` would give it (owners, odd modes and all), and two
// overlays in different tar dialects.
export const BUILD_INPUTS = `
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
export const REFERENCE_RECIPE = `
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

/** The library's own Caution recipe over app.tar, ov1.tar, ov2.tar in `dir`: cpio bytes. */
export async function cautionOurs(dir: string): Promise<Uint8Array> {
  const app = openFileSource(`${dir}/app.tar`);
  const ov1 = openFileSource(`${dir}/ov1.tar`);
  const ov2 = openFileSource(`${dir}/ov2.tar`);
  try {
    const tree = await treeFromTar(app, { label: 'app.tar' });
    await buildCautionTree(tree, [readTar(ov1), readTar(ov2)]);
    return await writeCpioBytes(tree);
  } finally {
    app.close();
    ov1.close();
    ov2.close();
  }
}

/**
 * `dir`/ref.cpio and ref.cpio.gz after BUILD_INPUTS: made by REFERENCE_RECIPE when the oracles
 * are set; otherwise the library's archive and gzip, written there once they equal the golden
 * hashes the real tools produced (book 'caution', shared by every test of this recipe).
 */
export async function cautionReference(
  dir: string,
  golden: GoldenBook,
): Promise<{ cpio: Uint8Array; gz: Uint8Array; ours: Uint8Array }> {
  const ours = await cautionOurs(dir);
  if (golden.live) sh(REFERENCE_RECIPE, dir);
  const cpio = golden.reference('recipe rootfs.cpio', ours, () => readFileSync(`${dir}/ref.cpio`));
  const gz = golden.reference('recipe rootfs.cpio.gz', gzipBusybox(ours), () =>
    readFileSync(`${dir}/ref.cpio.gz`),
  );
  if (!golden.live) {
    writeFileSync(`${dir}/ref.cpio`, cpio);
    writeFileSync(`${dir}/ref.cpio.gz`, gz);
  }
  return { cpio, gz, ours };
}
