#!/usr/bin/env node
// Writes vectors/ramdisk/: application and overlay tars for Caution's ramdisk recipe, with the
// expected archive digests taken from the REFERENCE pipeline (GNU tar, StageX's cpio 2.15 and
// busybox 1.37.0 gzip, named by ORACLE_CPIO / ORACLE_BUSYBOX), never from this library; plus
// hostile tar and cpio archives for the readers, and cases.json.
//
//   eval "$(bash ../shared/tools/oracles.sh)" && node scripts/vectors/ramdisk.mjs
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Checked before vectors/ramdisk/ is emptied below.
const { ORACLE_CPIO, ORACLE_BUSYBOX } = process.env;
if (!ORACLE_CPIO || !ORACLE_BUSYBOX)
  throw new Error(
    'reference tools missing: set ORACLE_CPIO and ORACLE_BUSYBOX (eval "$(bash ../shared/tools/oracles.sh)")',
  );

const project = new URL('../../', import.meta.url);
const dir = new URL('vectors/ramdisk/', project);
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) rmSync(new URL(f, dir), { recursive: true });
const outDir = fileURLToPath(dir);

const sh = (script, cwd) =>
  execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    env: { ...process.env, BB: ORACLE_BUSYBOX, CPIO: ORACLE_CPIO, LC_ALL: 'C', TZ: 'UTC' },
    maxBuffer: 1 << 28,
  });
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const cases = [];

// Tars are written with fixed mtimes and sorted names so that regenerating gives the same bytes.
const TAR = 'tar --sort=name --mtime=@1700000000 --numeric-owner';

/**
 * Build the inputs with `inputs` (a shell script run in an empty directory that must leave
 * app.tar and overlay tars), run Caution's recipe with the reference tools, record the digests.
 */
function cautionCase(name, description, inputs, overlays) {
  const work = mkdtempSync(join(tmpdir(), 'ev-vectors-'));
  try {
    sh(inputs, work);
    // SPEC 3.1 with the real tools: extract, normalise, lay the overlays, zero times, archive.
    const recipe = [
      'umask 022',
      'mkdir ref && cd ref && tar -xp --numeric-owner -f ../app.tar',
      'chown -hR 0:0 .',
      'find . -type d -exec "$BB" chmod 755 {} +',
      'find . -type f -perm /111 -exec "$BB" chmod 755 {} +',
      'find . -type f ! -perm /111 -exec "$BB" chmod 644 {} +',
      'mkdir -p etc/ssl/certs',
      ...overlays.map((o) => `tar -xp --overwrite --keep-directory-symlink --numeric-owner -f ../${o}`),
      'chown -hR 0:0 .',
      'find . -exec touch -hcd @0 {} +',
      '"$BB" find . -print0 | "$BB" sort -z | "$CPIO" --null --create --format=newc --reproducible 2>/dev/null > ../rootfs.cpio',
      '"$BB" gzip --best < ../rootfs.cpio > ../rootfs.cpio.gz',
    ].join('\n');
    sh(recipe, work);
    const caseDir = join(outDir, name);
    mkdirSync(caseDir);
    for (const f of ['app.tar', ...overlays]) writeFileSync(join(caseDir, f), readFileSync(join(work, f)));
    const cpio = readFileSync(join(work, 'rootfs.cpio'));
    const gz = readFileSync(join(work, 'rootfs.cpio.gz'));
    cases.push({
      id: `ramdisk/caution/${name}`,
      kind: 'ramdisk',
      description,
      input: { recipe: 'caution', app: `${name}/app.tar`, overlays: overlays.map((o) => `${name}/${o}`) },
      expect: { result: 'accept', cpioSha256: sha256(cpio), gzipSha256: sha256(gz) },
    });
    return { cpio, gz, caseDir };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const LONG = 'l'.repeat(120);
const basic = cautionCase(
  'basic',
  'usr-merged app (bin -> usr/bin), modes to normalise, setuid, empty dirs, symlinks; an overlay writing through bin/',
  `
umask 022
mkdir -p app && cd app
mkdir -p usr/bin usr/lib etc var/empty tmp
ln -s usr/bin bin && ln -s usr/lib lib
printf '#!/bin/sh\\necho hi\\n' > usr/bin/app && chmod 4755 usr/bin/app
printf 'secret' > etc/key && chmod 600 etc/key
printf 'group' > usr/bin/gx && chmod 2710 usr/bin/gx
printf 'lib' > usr/lib/libx.so && ln -s libx.so usr/lib/libx.so.1
ln -s /usr/bin/app abs-link && ln -s does/not/exist dangling
chmod 1777 tmp
cd ..
${TAR} --format=gnu -C app -cf app.tar .
mkdir -p ov/bin ov/etc/ssl/certs
printf '#!/bin/sh\\ninit\\n' > ov/init && chmod 755 ov/init
printf 'dhcp' > ov/bin/udhcpc-script && chmod 755 ov/bin/udhcpc-script
printf 'CA' > ov/etc/ssl/certs/ca-certificates.crt
${TAR} --format=gnu --owner=0 --group=0 -C ov -cf overlay.tar init bin/udhcpc-script etc/ssl/certs/ca-certificates.crt
`,
  ['overlay.tar'],
);
cautionCase(
  'pax-names-and-links',
  'PAX app tar: UTF-8 and 120-character names, spaces, hard links; no etc/ssl/certs (created); two overlays, the second replacing a file by a symlink',
  `
umask 022
mkdir -p app && cd app
mkdir -p 'dir with space' 'ünï/日本' usr/bin etc
printf 'u' > 'ünï/日本/ファイル.txt' && printf 's' > 'dir with space/a b'
printf 'long' > "usr/${LONG}" && ln -s "usr/${LONG}" "link-${LONG}"
printf 'data' > usr/bin/tool && chmod 755 usr/bin/tool && ln usr/bin/tool usr/bin/tool-hard
printf 'ID=app\\n' > etc/os-release
cd ..
${TAR} --format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C app -cf app.tar .
mkdir -p ov1/etc && printf 'ID=enclaveos\\n' > ov1/etc/os-release && chmod 640 ov1/etc/os-release
${TAR} --format=ustar --owner=0 --group=0 -C ov1 -cf ov1.tar etc/os-release
mkdir -p ov2/usr/bin && ln -s /bootproofd ov2/usr/bin/tool
printf '{"app":"x"}' > ov2/manifest.json
${TAR} --format=gnu --owner=0 --group=0 -C ov2 -cf ov2.tar manifest.json usr/bin/tool
`,
  ['ov1.tar', 'ov2.tar'],
);

// Layout refused by the recipe (bin pointing elsewhere) and an app tar escaping the tree.
function rejectCase(name, description, inputs, overlays, code, cls) {
  const work = mkdtempSync(join(tmpdir(), 'ev-vectors-'));
  try {
    sh(inputs, work);
    const caseDir = join(outDir, name);
    mkdirSync(caseDir);
    for (const f of ['app.tar', ...overlays]) writeFileSync(join(caseDir, f), readFileSync(join(work, f)));
    cases.push({
      id: `ramdisk/caution/${name}`,
      kind: 'ramdisk',
      description,
      input: { recipe: 'caution', app: `${name}/app.tar`, overlays: overlays.map((o) => `${name}/${o}`) },
      expect: { result: 'reject', code, class: cls },
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
rejectCase(
  'bin-elsewhere',
  "the app's bin is a symlink to /opt/bin: Caution's template refuses it",
  `mkdir -p app/opt/bin && ln -s /opt/bin app/bin && ${TAR} -C app -cf app.tar .`,
  [],
  'ERR_RECIPE',
  'rebuild',
);
rejectCase(
  'app-traversal',
  "an app tar member named ../escape (written with GNU tar's --transform)",
  `mkdir -p app && printf x > app/escape && ${TAR} -C app --transform 's,^escape$,../escape,' -P -cf app.tar escape`,
  [],
  'ERR_ARCHIVE_UNSAFE',
  'rebuild',
);

// Reading archives: the reference archives of 'basic' and hostile hand-made ones.
writeFileSync(join(outDir, 'basic', 'rootfs.cpio.gz'), basic.gz);
writeFileSync(join(outDir, 'basic', 'rootfs.cpio'), basic.cpio);
const entries = sh(`"$CPIO" -it --quiet < basic/rootfs.cpio | wc -l`, outDir).toString().trim();
for (const f of ['rootfs.cpio', 'rootfs.cpio.gz']) {
  cases.push({
    id: `ramdisk/read/reference-${f.replace(/\./g, '-')}`,
    kind: 'ramdisk',
    description: `the reference tools' ${f} of the basic case: every entry read (GNU cpio lists ${entries})`,
    input: { recipe: 'read', archive: `basic/${f}` },
    expect: { result: 'accept', entries: Number(entries) },
  });
}

const enc = new TextEncoder();
function tarHeader({ name, type = '0', size, sizeField, link = '', prefix = '' }) {
  const h = new Uint8Array(512);
  const put = (at, v, w) => h.set((typeof v === 'string' ? enc.encode(v) : v).subarray(0, w), at);
  const oct = (n, w) => `${n.toString(8).padStart(w - 1, '0')}\0`;
  put(0, name, 100);
  put(100, oct(0o644, 8), 8);
  put(108, oct(0, 8), 8);
  put(116, oct(0, 8), 8);
  put(124, sizeField ?? oct(size, 12), 12);
  put(136, oct(0, 12), 12);
  put(156, type, 1);
  put(157, link, 100);
  put(257, 'ustar\u000000', 8);
  put(345, prefix, 155);
  h.fill(0x20, 148, 156);
  put(
    148,
    `${h
      .reduce((s, b) => s + b, 0)
      .toString(8)
      .padStart(6, '0')}\0 `,
    8,
  );
  return h;
}
function tarOf(members) {
  const parts = [];
  for (const m of members) {
    const data = enc.encode(m.data ?? '');
    parts.push(
      tarHeader({ ...m, size: data.length }),
      data,
      new Uint8Array((512 - (data.length % 512)) % 512),
    );
  }
  parts.push(new Uint8Array(1024));
  return Buffer.concat(parts);
}
function hostile(file, description, bytes, code) {
  writeFileSync(join(outDir, 'hostile', file), bytes);
  cases.push({
    id: `ramdisk/hostile/${file.replace(/\./g, '-')}`,
    kind: 'ramdisk',
    description,
    input: { recipe: 'read', archive: `hostile/${file}` },
    expect: { result: 'reject', code, class: 'rebuild' },
  });
}
mkdirSync(join(outDir, 'hostile'));
hostile(
  'traversal.tar',
  'tar member ../../etc/passwd',
  tarOf([{ name: '../../etc/passwd', data: 'x' }]),
  'ERR_ARCHIVE_UNSAFE',
);
hostile(
  'absolute.tar',
  'tar member /etc/passwd',
  tarOf([{ name: '/etc/passwd', data: 'x' }]),
  'ERR_ARCHIVE_UNSAFE',
);
hostile(
  'prefix-traversal.tar',
  'ustar prefix ".." joined to the name',
  tarOf([{ name: 'x', prefix: '..', data: 'x' }]),
  'ERR_ARCHIVE_UNSAFE',
);
hostile(
  'hardlink-escape.tar',
  'hard link to ../../etc/shadow',
  tarOf([{ name: 'h', type: '1', link: '../../etc/shadow' }]),
  'ERR_ARCHIVE_UNSAFE',
);
hostile(
  'giant-size.tar',
  'a 1-byte member whose size field says 8 GiB',
  tarOf([{ name: 'big', data: 'x', sizeField: `${(2 ** 33 - 1).toString(8).padStart(11, '0')}\0` }]),
  'ERR_ARCHIVE_MALFORMED',
);
hostile(
  'bad-checksum.tar',
  'a header whose checksum does not match',
  (() => {
    const t = tarOf([{ name: 'a', data: 'x' }]);
    t[0] = 0x62;
    return t;
  })(),
  'ERR_ARCHIVE_MALFORMED',
);
const hex8 = (n) => n.toString(16).padStart(8, '0');
function newc(name, data, over = {}) {
  const f = {
    ino: 1,
    mode: 0o100644,
    uid: 0,
    gid: 0,
    nlink: 1,
    mtime: 0,
    filesize: data.length,
    devmajor: 0,
    devminor: 0,
    rdevmajor: 0,
    rdevminor: 0,
    namesize: enc.encode(name).length + 1,
    check: 0,
    ...over,
  };
  const head = Buffer.from(`070701${Object.values(f).map(hex8).join('')}${name}\0`);
  const pad = (n) => Buffer.alloc((4 - (n % 4)) % 4);
  return Buffer.concat([head, pad(head.length), Buffer.from(data), pad(data.length)]);
}
const trailer = newc('TRAILER!!!', '', { mode: 0, nlink: 1 });
hostile(
  'traversal.cpio',
  'newc member ../escape',
  Buffer.concat([newc('../escape', 'x'), trailer]),
  'ERR_ARCHIVE_UNSAFE',
);
hostile(
  'absolute.cpio',
  'newc member /etc/passwd',
  Buffer.concat([newc('/etc/passwd', 'x'), trailer]),
  'ERR_ARCHIVE_UNSAFE',
);
hostile(
  'giant-size.cpio',
  'a newc member declaring 4 GiB - 1 of data',
  Buffer.concat([newc('big', 'x', { filesize: 0xffffffff }), trailer]),
  'ERR_ARCHIVE_MALFORMED',
);
hostile('no-trailer.cpio', 'a newc archive without TRAILER!!!', newc('a', 'x'), 'ERR_ARCHIVE_MALFORMED');
hostile(
  'corrupt.cpio.gz',
  'a gzip stream cut in the middle',
  basic.gz.subarray(0, Math.floor(basic.gz.length / 2)),
  'ERR_ARCHIVE_MALFORMED',
);

writeFileSync(
  new URL('cases.json', dir),
  `${JSON.stringify(
    {
      format: 'enclave-verify-vectors/1',
      description:
        'Caution ramdisk rebuilds with digests from the reference tools (GNU tar, StageX cpio 2.15, busybox 1.37.0 gzip), reading the reference archives, and hostile tar/cpio input. Generated by scripts/vectors/ramdisk.mjs.',
      cases,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${cases.length} cases to ${new URL('cases.json', dir).pathname}`);
