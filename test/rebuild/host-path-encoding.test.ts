// Defect: host paths encoded as Latin-1. The directory a user names (`--out`, `--app DIR`) is a
// JS string and must reach the file system as UTF-8, while archive member names stay raw bytes.
// Before the fix, extracting into `ünïcødé-€` wrote to a Latin-1 spelling of it (or failed).
import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCpio, writeCpioBytes } from '../../src/rebuild/cpio.js';
import { treeFromDirectory, writeTreeToDirectory } from '../../src/rebuild/node/fs.js';
import { pathFromText } from '../../src/rebuild/paths.js';
import { FileTree, makeInode, memoryData } from '../../src/rebuild/tree.js';
import { runCli } from '../support/cli.js';

const isRoot = process.getuid?.() === 0;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Raw bytes of a byte-string archive name, as a Buffer path for the file system. */
const raw = (byteString: string) => Buffer.from(byteString, 'latin1');
const utf8 = (s: string) => new TextEncoder().encode(s);

// Names: UTF-8 text, and bytes that are not UTF-8 at all (0xff, 0xfe), which must arrive as is.
const TEXT_DIR = pathFromText('ünïcødé');
const TEXT_FILE = `${TEXT_DIR}/${pathFromText('ファイル')}`;
const BAD_FILE = 'bad\xffname';
const BAD_LINK = 'link\xfe';
const BAD_FIFO = 'pipe\xff';
const BAD_DEV = 'null\xfe';

function sampleTree(): FileTree {
  const tree = new FileTree(makeInode('dir', 0o755, { mtime: 1700000000 }));
  tree.set(TEXT_DIR, makeInode('dir', 0o750, { mtime: 1700000000 }));
  tree.set(TEXT_FILE, makeInode('file', 0o644, { mtime: 1700000000, data: memoryData(utf8('日本\n')) }));
  const shared = makeInode('file', 0o600, {
    mtime: 1700000000,
    data: memoryData(new Uint8Array([0, 0xff, 7])),
  });
  tree.set(BAD_FILE, shared);
  tree.set(`${TEXT_DIR}/hard\xff`, shared);
  tree.set(BAD_LINK, makeInode('symlink', 0o777, { mtime: 1700000000, target: `../${BAD_FILE}` }));
  tree.set(BAD_FIFO, makeInode('fifo', 0o644, { mtime: 1700000000 }));
  if (isRoot) tree.set(BAD_DEV, makeInode('char', 0o666, { mtime: 1700000000, rdevMajor: 1, rdevMinor: 3 }));
  return tree;
}

/** Every entry of an archive as [name, mode, size, sha256 of data], sorted: what must round-trip. */
const summary = (cpio: Uint8Array) =>
  readCpio(cpio)
    .map((e) => [e.name, e.mode.toString(8), e.data.length, sha(e.data)])
    .sort();

describe('host paths are UTF-8, archive names raw bytes (the Latin-1 host path defect)', () => {
  let base: string;
  let cpio: Uint8Array;
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'ev-host-path-'));
    cpio = await writeCpioBytes(sampleTree());
    writeFileSync(join(base, 'rootfs.cpio.gz'), gzipSync(cpio));
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('ramdisk extract --out into a non-ASCII directory writes exactly the archive there', async () => {
    const out = join(base, 'ünïcødé-€');
    const r = await runCli(['ramdisk', 'extract', 'rootfs.cpio.gz', '--out', out, '--json'], { cwd: base });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, out, entries: isRoot ? 8 : 7 });
    // The directory as the user spelled it (UTF-8 on disk), and nothing written beside it.
    expect(readdirSync(base).sort()).toEqual(['rootfs.cpio.gz', 'ünïcødé-€']);
    const names = (readdirSync(raw(pathFromText(out)), { encoding: 'buffer' }) as Buffer[])
      .map((n) => n.toString('latin1'))
      .sort();
    expect(names).toEqual([BAD_FILE, BAD_LINK, ...(isRoot ? [BAD_DEV] : []), BAD_FIFO, TEXT_DIR].sort());
    expect(readFileSync(join(out, 'ünïcødé', 'ファイル'), 'utf8')).toBe('日本\n');
    const at = (name: string) => Buffer.concat([raw(pathFromText(out)), Buffer.from('/'), raw(name)]);
    expect([...readFileSync(at(BAD_FILE))]).toEqual([0, 0xff, 7]);
    expect(lstatSync(at(`${TEXT_DIR}/hard\xff`)).ino).toBe(lstatSync(at(BAD_FILE)).ino);
    expect((readlinkSync(at(BAD_LINK), { encoding: 'buffer' }) as Buffer).toString('latin1')).toBe(
      `../${BAD_FILE}`,
    );
    expect(lstatSync(at(BAD_FIFO)).isFIFO()).toBe(true);
    if (isRoot) expect(lstatSync(at(BAD_DEV)).rdev).toBe(lstatSync('/dev/null').rdev);
    expect(lstatSync(at(TEXT_DIR)).mode & 0o7777).toBe(0o750);
    expect(lstatSync(at(TEXT_DIR)).mtimeMs).toBe(1700000000_000);
  });

  it('a non-ASCII directory read back into a tree gives the same archive entries, byte for byte', async () => {
    const out = join(base, 'ünïcødé-€');
    const again = await writeCpioBytes(treeFromDirectory(out));
    expect(summary(again)).toEqual(summary(cpio));
  });

  it('writeTreeToDirectory and treeFromDirectory agree on a root spelled in Greek, Han and emoji', async () => {
    const out = join(base, 'κλειδί', '鍵🔑');
    await writeTreeToDirectory(sampleTree(), out);
    expect(readdirSync(base).sort()).toEqual(['rootfs.cpio.gz', 'κλειδί', 'ünïcødé-€'].sort());
    expect(summary(await writeCpioBytes(treeFromDirectory(out)))).toEqual(summary(cpio));
  });
});
