import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarImageFiles, treeFromImage } from '../../src/rebuild/image.js';
import { treeFromTar } from '../../src/rebuild/load.js';
import { openFileSource } from '../../src/rebuild/node/fs.js';
import { nodeImageIo } from '../../src/rebuild/node/image-io.js';
import { rebuildCaution } from '../../src/rebuild/node/rebuild.js';
import { pathFromText } from '../../src/rebuild/paths.js';
import { memorySource, readTar, type TarEntry } from '../../src/rebuild/tar.js';
import { writeTar } from '../../src/rebuild/tar-write.js';
import type { FileTree } from '../../src/rebuild/tree.js';
import { sh, tempDir } from './oracle.js';

const text = async (tree: FileTree, path: string) => {
  const n = tree.get(pathFromText(path));
  return n?.data ? new TextDecoder().decode(await n.data.bytes()) : undefined;
};

async function entries(bytes: Uint8Array): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for await (const e of readTar(memorySource(bytes))) out.push(e);
  return out;
}

const L = 'l'.repeat(120);
const TARS = `
mkdir -p src/${L} && cd src
printf 'deep' > "${L}/${'f'.repeat(110)}" && ln -s "${L}/${'f'.repeat(110)}" "link-${'k'.repeat(105)}"
ln "${L}/${'f'.repeat(110)}" "hard-${'h'.repeat(105)}"
printf 'utf' > 'Ünïcödé 名前.txt'
cd ..
tar --format=gnu -C src -cf gnu.tar .
tar --format=pax -C src -cf pax.tar .
tar --format=ustar -C src -cf ustar.tar 'Ünïcödé 名前.txt'
`;

describe('tar reader on GNU, PAX and ustar archives written by GNU tar', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ dir, cleanup } = tempDir('ev-tar-'));
    sh(TARS, dir);
  });
  afterAll(() => cleanup());

  for (const fmt of ['gnu', 'pax']) {
    it(`reads long names, long link names, hard links and UTF-8 names (${fmt})`, async () => {
      const tree = await treeFromTar(memorySource(readFileSync(`${dir}/${fmt}.tar`)));
      const file = `${L}/${'f'.repeat(110)}`;
      expect(await text(tree, file)).toBe('deep');
      expect(tree.get(`link-${'k'.repeat(105)}`)).toMatchObject({ type: 'symlink', target: file });
      expect(tree.get(`hard-${'h'.repeat(105)}`)).toBe(tree.get(file));
      expect(await text(tree, 'Ünïcödé 名前.txt')).toBe('utf');
    });
  }

  it('reads ustar names', async () => {
    const list = await entries(readFileSync(`${dir}/ustar.tar`));
    expect(list.map((e) => e.path)).toEqual([pathFromText('Ünïcödé 名前.txt')]);
  });

  it('writes tars that GNU tar lists and our reader reads back identically', async () => {
    const tree = await treeFromTar(memorySource(readFileSync(`${dir}/pax.tar`)));
    const parts: Uint8Array[] = [];
    for await (const c of writeTar(tree)) parts.push(c);
    const bytes = Buffer.concat(parts);
    writeFileSync(`${dir}/ours.tar`, bytes);
    const listed = sh('tar --quoting-style=literal -tf ours.tar | sort', dir).toString();
    expect(listed).toContain(`./${L}/${'f'.repeat(110)}\n`);
    expect(listed).toContain('./Ünïcödé 名前.txt\n');
    const again = await treeFromTar(memorySource(bytes));
    expect(again.entries().map((e) => e.path)).toEqual(tree.entries().map((e) => e.path));
  });
});

function tarBlock(name: string, opts: { size?: number; type?: string; link?: string } = {}): Uint8Array {
  const b = new Uint8Array(512);
  const enc = new TextEncoder();
  b.set(enc.encode(name).subarray(0, 100), 0);
  b.set(enc.encode('0000644\0'), 100);
  b.set(enc.encode('0000000\0'), 108);
  b.set(enc.encode('0000000\0'), 116);
  b.set(enc.encode(`${(opts.size ?? 0).toString(8).padStart(11, '0')}\0`), 124);
  b.set(enc.encode('00000000000\0'), 136);
  b[156] = (opts.type ?? '0').charCodeAt(0);
  if (opts.link) b.set(enc.encode(opts.link), 157);
  b.set(enc.encode('ustar\x0000'), 257);
  b.fill(0x20, 148, 156);
  const sum = b.reduce((a, c) => a + c, 0);
  b.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  return b;
}

describe('tar reader refuses hostile archives', () => {
  const archive = (...blocks: Uint8Array[]) => Buffer.concat([...blocks, new Uint8Array(1024)]);
  const code = async (bytes: Uint8Array) => {
    try {
      await entries(bytes);
      return 'none';
    } catch (e) {
      return (e as { code?: string }).code;
    }
  };

  it('absolute paths and .. escapes: ERR_ARCHIVE_UNSAFE', async () => {
    expect(await code(archive(tarBlock('/etc/passwd')))).toBe('ERR_ARCHIVE_UNSAFE');
    expect(await code(archive(tarBlock('a/../../etc/passwd')))).toBe('ERR_ARCHIVE_UNSAFE');
    expect(await code(archive(tarBlock('x', { type: '1', link: '../outside' })))).toBe('ERR_ARCHIVE_UNSAFE');
  });

  it('giant sizes, bad checksums and truncation: ERR_ARCHIVE_MALFORMED without allocating', async () => {
    const giant = tarBlock('big', { size: 0o77777777777 });
    expect(await code(archive(giant))).toBe('ERR_ARCHIVE_MALFORMED');
    const bad = tarBlock('x');
    bad[0] = 0x79;
    expect(await code(archive(bad))).toBe('ERR_ARCHIVE_MALFORMED');
    expect(await code(tarBlock('x', { size: 10 }))).toBe('ERR_ARCHIVE_MALFORMED');
    const paxBody = new TextEncoder().encode('99 path=x\n'.padEnd(512, '\0'));
    const pax = tarBlock('PaxHeader', { type: 'x', size: 10 });
    expect(await code(archive(pax, paxBody, tarBlock('y')))).toBe('ERR_ARCHIVE_MALFORMED');
  });

  it('takes the size from a PAX record over the header field', async () => {
    const rec = '10 size=5\n';
    const pax = tarBlock('PaxHeader', { type: 'x', size: rec.length });
    const body = new TextEncoder().encode(rec.padEnd(512, '\0'));
    const data = new TextEncoder().encode('hello'.padEnd(512, '\0'));
    const list = await entries(archive(pax, body, tarBlock('f', { size: 0 }), data));
    expect(list).toHaveLength(1);
    expect(new TextDecoder().decode(await list[0]!.data.bytes())).toBe('hello');
  });

  it('a hard link to a name not yet in the tree: ERR_ARCHIVE_MALFORMED', async () => {
    const bytes = archive(tarBlock('x', { type: '1', link: 'nothing' }));
    await expect(treeFromTar(memorySource(bytes))).rejects.toMatchObject({ code: 'ERR_ARCHIVE_MALFORMED' });
  });
});

// Three layers: plain, with whiteouts and an opaque directory, gzip with a whiteout of a whole
// directory and a hard link to a lower layer's file.
const IMAGE = `
set -e
mkdir -p l1/etc l1/d l1/keep l1/usr/bin && cd l1
printf a1 > etc/a && printf b > etc/b && printf x > d/x && printf y > d/y && printf k > keep/k
printf sh > usr/bin/sh && ln -s usr/bin bin && printf h > hl1 && ln hl1 hl2
cd .. && tar -C l1 -cf layer1.tar .
mkdir -p l2/etc l2/d l2/usr/bin l2/keep && cd l2
: > etc/.wh.b && : > d/.wh..wh..opq && printf z > d/z && printf new > usr/bin/new && printf a2 > etc/a
chmod 700 keep
cd .. && tar -C l2 -cf layer2.tar .
mkdir -p l3 && : > l3/.wh.keep && tar -C l3 -cf layer3.tar . && mkdir l3b && cd l3b && tar -xf ../layer3.tar
cd .. && rm -rf l3b
# hard link to a lower layer's file: write the member by hand with python's tarfile
python3 - <<'PY'
import tarfile
with tarfile.open('layer3.tar', 'a') as t:
    i = tarfile.TarInfo('hl3'); i.type = tarfile.LNKTYPE; i.linkname = 'hl1'; t.addfile(i)
PY
gzip -n -k layer3.tar
mkdir -p oci/blobs/sha256 save/l1 save/l2 save/l3
put() { d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" oci/blobs/sha256/$d; echo "sha256:$d"; }
L1=$(put layer1.tar); L2=$(put layer2.tar); L3=$(put layer3.tar.gz)
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' > config.json
C=$(put config.json)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":1},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":1},{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":1},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":1}]}' "$C" "$L1" "$L2" "$L3" > manifest.json
M=$(put manifest.json)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":1,"platform":{"architecture":"amd64","os":"linux"}}]}' "$M" > oci/index.json
printf '{"imageLayoutVersion":"1.0.0"}' > oci/oci-layout
tar -C oci -cf oci.tar .
cp layer1.tar save/l1/layer.tar && cp layer2.tar save/l2/layer.tar && cp layer3.tar save/l3/layer.tar
printf '[{"Config":"c.json","RepoTags":["app:latest"],"Layers":["l1/layer.tar","l2/layer.tar","l3/layer.tar"]}]' > save/manifest.json
tar -C save -cf save.tar .
`;

describe('container images: layers in order, whiteouts, OCI and docker save', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ dir, cleanup } = tempDir('ev-image-'));
    sh(IMAGE, dir);
  });
  afterAll(() => cleanup());

  for (const [name, io] of [
    ['oci.tar', 'memory'],
    ['oci.tar', 'disk'],
    ['save.tar', 'memory'],
  ] as const) {
    it(`applies the layers of ${name} (blobs and layers in ${io})`, async () => {
      const src = openFileSource(`${dir}/${name}`);
      const nodeIo = nodeImageIo();
      try {
        const { tree, layers } = await treeFromImage(
          await tarImageFiles(src),
          io === 'disk' ? nodeIo.options : {},
        );
        expect(layers).toHaveLength(3);
        expect(await text(tree, 'etc/a')).toBe('a2');
        expect(tree.get('etc/b')).toBeUndefined();
        expect([...tree.get('d')!.children!.keys()]).toEqual(['z']);
        expect(tree.get('keep')).toBeUndefined();
        expect(tree.get('bin')).toMatchObject({ type: 'symlink', target: 'usr/bin' });
        expect(await text(tree, 'usr/bin/new')).toBe('new');
        expect(await text(tree, 'usr/bin/sh')).toBe('sh');
        expect(tree.get('hl3')).toBe(tree.get('hl1'));
        expect(tree.get('hl2')).toBe(tree.get('hl1'));
        expect(tree.entries().some((e) => e.path.includes('.wh.'))).toBe(false);
      } finally {
        nodeIo.cleanup();
        src.close();
      }
    });
  }

  it('rebuilds from an OCI layout directory (format detected) with the same archive as from its tar', async () => {
    const a = await rebuildCaution({ app: `${dir}/oci`, overlays: [], outDir: `${dir}/out-dir` });
    const b = await rebuildCaution({ app: `${dir}/oci.tar`, overlays: [], outDir: `${dir}/out-tar` });
    expect([a.appFormat, b.appFormat]).toEqual(['image', 'image']);
    expect(a.layers?.map((l) => l.compressed)).toEqual([false, false, true]);
    expect(a.cpioGz.sha256).toBe(b.cpioGz.sha256);
    expect(a.entries).toBe(b.entries);
  });

  it('refuses a blob whose digest does not match', async () => {
    sh(
      'cp -a oci bad && cd bad/blobs/sha256 && for f in *; do if [ "$(wc -c < $f)" -gt 2000 ]; then printf x >> $f; break; fi; done && cd ../.. && tar -cf ../bad.tar .',
      dir,
    );
    const src = openFileSource(`${dir}/bad.tar`);
    try {
      await expect(treeFromImage(await tarImageFiles(src))).rejects.toMatchObject({
        code: 'ERR_ARCHIVE_MALFORMED',
      });
    } finally {
      src.close();
    }
  });
});
