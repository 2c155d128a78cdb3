/**
 * Ramdisk inspection for auditors: a listing of every entry of a newc archive (type, mode,
 * owner, size, SHA-256, link target) and the differences between two archives, the first
 * question when rebuilt PCRs do not match published ones.
 */
import { toHex } from '../util/bytes.js';
import { sha256 } from '../util/digest.js';
import { type CpioEntry, readCpio } from './cpio.js';
import { bytesToPath, pathToText } from './paths.js';
import type { NodeType } from './tree.js';

/** One ramdisk entry as listed by `ramdisk ls`. */
export interface RamdiskListing {
  /** Name as stored, decoded for display (UTF-8, U+FFFD for invalid bytes). */
  path: string;
  type: NodeType;
  /** Permission bits as 4 octal digits, e.g. `0755`. */
  mode: string;
  uid: number;
  gid: number;
  mtime: number;
  nlink: number;
  /** Content size; for hard links, that of the shared contents. */
  size: number;
  /** SHA-256 of the contents (regular files only). */
  sha256?: string;
  /** Symlink target. */
  target?: string;
  /** For a hard-linked file: the name whose entry carries the contents. */
  dataIn?: string;
  /** Device numbers of character and block devices, `major:minor`. */
  rdev?: string;
  /** Position in the ramdisk (0 = first entry). */
  index: number;
  /** Which archive of the ramdisk holds the entry (0 = first; the kernel unpacks all of them). */
  archive: number;
}

/**
 * List the entries of a newc archive with contents resolved across hard links.
 *
 * @example
 * ```ts
 * for (const e of await listRamdisk(readCpio(bytes))) console.log(e.mode, e.path, e.sha256);
 * ```
 */
export async function listRamdisk(entries: CpioEntry[]): Promise<RamdiskListing[]> {
  // Hard links share an inode number; GNU cpio stores the contents once, on one of them.
  const carrier = new Map<string, CpioEntry>();
  for (const e of entries) {
    if (e.type !== 'file' || e.nlink < 2) continue;
    const key = `${e.archive}:${e.devMajor}:${e.devMinor}:${e.ino}`;
    const seen = carrier.get(key);
    if (!seen || (seen.data.length === 0 && e.data.length > 0)) carrier.set(key, e);
  }
  const out: RamdiskListing[] = [];
  for (const [index, e] of entries.entries()) {
    const row: RamdiskListing = {
      path: pathToText(e.name),
      type: e.type,
      mode: (e.mode & 0o7777).toString(8).padStart(4, '0'),
      uid: e.uid,
      gid: e.gid,
      mtime: e.mtime,
      nlink: e.nlink,
      size: e.data.length,
      index,
      archive: e.archive,
    };
    if (e.type === 'file') {
      const c = e.nlink > 1 ? carrier.get(`${e.archive}:${e.devMajor}:${e.devMinor}:${e.ino}`) : undefined;
      const data = c ? c.data : e.data;
      row.size = data.length;
      row.sha256 = toHex(await sha256(data));
      if (c) row.dataIn = pathToText(c.name);
    } else if (e.type === 'symlink') {
      row.target = pathToText(bytesToPath(e.data));
    } else if (e.type === 'char' || e.type === 'block') {
      row.rdev = `${e.rdevMajor}:${e.rdevMinor}`;
    }
    out.push(row);
  }
  return out;
}

/** One difference between a rebuilt ramdisk and a reference. */
export interface RamdiskDifference {
  /** The entry's name; entries of a second or later archive read `name (archive N)`. */
  path: string;
  /** `added`: only in the rebuilt archive; `missing`: only in the reference. */
  change: 'added' | 'missing' | 'changed';
  /** For `changed`: each differing field with both values. */
  fields?: { field: string; rebuilt: unknown; reference: unknown }[];
}

/** Result of {@link diffRamdisks}. */
export interface RamdiskDiff {
  identical: boolean;
  differences: RamdiskDifference[];
  /** Same entries and contents but a different order (the archive bytes differ). */
  orderDiffers: boolean;
  /** Everything listed matches, yet the bytes differ (inode numbering, padding, header case...). */
  layoutOnly: boolean;
}

const COMPARED: (keyof RamdiskListing)[] = [
  'type',
  'mode',
  'uid',
  'gid',
  'mtime',
  'nlink',
  'size',
  'sha256',
  'target',
  'rdev',
  'dataIn',
];

/**
 * Entries that differ between two archives (by path), compared on the fields of
 * {@link RamdiskListing}.
 *
 * @example
 * ```ts
 * const d = await diffRamdisks(rebuiltCpio, referenceCpio);
 * for (const x of d.differences) console.log(x.change, x.path);
 * ```
 */
export async function diffRamdisks(rebuilt: Uint8Array, reference: Uint8Array): Promise<RamdiskDiff> {
  const a = await listRamdisk(readCpio(rebuilt));
  const b = await listRamdisk(readCpio(reference));
  // The same name in another archive is another entry: the kernel unpacks both, the later wins.
  const key = (e: RamdiskListing) => (e.archive === 0 ? e.path : `${e.path} (archive ${e.archive})`);
  const byPath = new Map(b.map((e) => [key(e), e]));
  const differences: RamdiskDifference[] = [];
  const seen = new Set<string>();
  for (const x of a) {
    seen.add(key(x));
    const y = byPath.get(key(x));
    if (!y) {
      differences.push({ path: key(x), change: 'added' });
      continue;
    }
    const fields = COMPARED.filter((f) => x[f] !== y[f]).map((f) => ({
      field: f,
      rebuilt: x[f],
      reference: y[f],
    }));
    if (fields.length > 0) differences.push({ path: key(x), change: 'changed', fields });
  }
  for (const y of b) if (!seen.has(key(y))) differences.push({ path: key(y), change: 'missing' });
  const orderDiffers =
    differences.length === 0 && a.some((x, i) => (b[i] ? key(b[i]) : undefined) !== key(x));
  const sameBytes = rebuilt.length === reference.length && rebuilt.every((v, i) => v === reference[i]);
  return {
    identical: sameBytes,
    differences,
    orderDiffers,
    layoutOnly: !sameBytes && differences.length === 0 && !orderDiffers,
  };
}
