/**
 * tar writer (POSIX ustar, PAX records for names and values ustar cannot hold), used to
 * extract a ramdisk into one portable file. Hard links are written as links to the first name
 * of their inode; mtimes, modes and owners are kept.
 */
import { concatBytes } from '../util/bytes.js';
import { pathToBytes } from './paths.js';
import type { FileTree, Inode } from './tree.js';

const BLOCK = 512;
const enc = new TextEncoder();

function octal(block: Uint8Array, offset: number, length: number, value: number): boolean {
  const text = value.toString(8);
  if (text.length > length - 1) return false;
  block.set(enc.encode(text.padStart(length - 1, '0')), offset);
  return true;
}

function paxRecord(key: string, value: Uint8Array): Uint8Array {
  // "<len> key=value\n" where len counts its own digits
  const body = value.length + key.length + 3;
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  const head = enc.encode(`${len} ${key}=`);
  const out = new Uint8Array(len);
  out.set(head);
  out.set(value, head.length);
  out[len - 1] = 0x0a;
  return out;
}

function header(
  name: Uint8Array,
  typeflag: string,
  inode: Inode,
  size: number,
  link: Uint8Array,
): Uint8Array[] {
  const block = new Uint8Array(BLOCK);
  const pax: Uint8Array[] = [];
  const ascii = (b: Uint8Array) => b.every((c) => c < 0x80);
  if (name.length <= 100 && ascii(name)) block.set(name, 0);
  else {
    pax.push(paxRecord('path', name));
    block.set(
      name.subarray(0, 100).map((c) => (c < 0x80 ? c : 0x5f)),
      0,
    );
  }
  if (link.length <= 100 && ascii(link)) block.set(link, 157);
  else pax.push(paxRecord('linkpath', link));
  octal(block, 100, 8, inode.mode & 0o7777);
  if (!octal(block, 108, 8, inode.uid)) pax.push(paxRecord('uid', enc.encode(String(inode.uid))));
  if (!octal(block, 116, 8, inode.gid)) pax.push(paxRecord('gid', enc.encode(String(inode.gid))));
  if (!octal(block, 124, 12, size)) pax.push(paxRecord('size', enc.encode(String(size))));
  if (!octal(block, 136, 12, inode.mtime)) pax.push(paxRecord('mtime', enc.encode(String(inode.mtime))));
  block[156] = typeflag.charCodeAt(0);
  block.set(enc.encode('ustar\x0000'), 257);
  if (inode.type === 'char' || inode.type === 'block') {
    octal(block, 329, 8, inode.rdevMajor ?? 0);
    octal(block, 337, 8, inode.rdevMinor ?? 0);
  }
  const out: Uint8Array[] = [];
  if (pax.length > 0) {
    const body = concatBytes(...pax);
    const xb = new Uint8Array(BLOCK);
    xb.set(enc.encode('PaxHeader'), 0);
    octal(xb, 100, 8, 0o644);
    octal(xb, 108, 8, 0);
    octal(xb, 116, 8, 0);
    octal(xb, 124, 12, body.length);
    octal(xb, 136, 12, 0);
    xb[156] = 0x78; // 'x'
    xb.set(enc.encode('ustar\x0000'), 257);
    checksum(xb);
    out.push(xb, body, new Uint8Array((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  checksum(block);
  out.push(block);
  return out;
}

function checksum(block: Uint8Array): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
}

/**
 * Stream `tree` as a tar archive (members named `./path`, the root as `./`).
 *
 * @example
 * ```ts
 * for await (const chunk of writeTar(tree)) out.write(chunk);
 * ```
 */
export async function* writeTar(tree: FileTree): AsyncGenerator<Uint8Array> {
  const first = new Map<Inode, Uint8Array>();
  for (const { path, inode } of tree.entries()) {
    const name = pathToBytes(path === '' ? './' : inode.type === 'dir' ? `./${path}/` : `./${path}`);
    const linked = inode.type !== 'dir' ? first.get(inode) : undefined;
    if (linked) {
      yield* header(name, '1', inode, 0, linked);
      continue;
    }
    first.set(inode, name);
    switch (inode.type) {
      case 'dir':
        yield* header(name, '5', inode, 0, new Uint8Array(0));
        break;
      case 'symlink':
        yield* header(name, '2', inode, 0, pathToBytes(inode.target ?? ''));
        break;
      case 'file': {
        const data = inode.data ? await inode.data.bytes() : new Uint8Array(0);
        yield* header(name, '0', inode, data.length, new Uint8Array(0));
        yield data;
        const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
        if (pad > 0) yield new Uint8Array(pad);
        break;
      }
      case 'fifo':
        yield* header(name, '6', inode, 0, new Uint8Array(0));
        break;
      case 'char':
        yield* header(name, '3', inode, 0, new Uint8Array(0));
        break;
      case 'block':
        yield* header(name, '4', inode, 0, new Uint8Array(0));
        break;
      case 'socket':
        break; // tar has no socket type
    }
  }
  yield new Uint8Array(BLOCK * 2);
}
