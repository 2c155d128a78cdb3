// Hostile tar and cpio input: path traversal, absolute names, links escaping the tree, giant
// declared sizes, broken headers, and thousands of mutated archives. Every refusal must be an
// EnclaveVerifyError with the right code, within a time bound and without allocating what the
// headers claim.
import { describe, expect, it } from 'vitest';
import { EnclaveVerifyError } from '../../src/errors.js';
import { extractOverlay, lookup } from '../../src/rebuild/apply.js';
import { readCpio, writeCpioBytes } from '../../src/rebuild/cpio.js';
import { treeFromCpio, treeFromTar } from '../../src/rebuild/load.js';
import { memorySource, readTar } from '../../src/rebuild/tar.js';
import { runFuzz } from '../../src/vectors/fuzz.js';
import { createRng, mutate } from '../../src/vectors/mutate.js';
import { budget, memory, report, SEED, scaled } from './support.js';

const enc = new TextEncoder();

interface TarMember {
  name: string;
  type?: string;
  mode?: number;
  data?: Uint8Array;
  link?: string;
  /** Size field as written (octal text or raw bytes), when it must lie. */
  sizeField?: string | Uint8Array;
  prefix?: string;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header + data blocks, written by hand so that every field can lie. */
function tarMember(m: TarMember): Uint8Array {
  const data = m.data ?? new Uint8Array(0);
  const h = new Uint8Array(512);
  const put = (at: number, text: string | Uint8Array, width: number) =>
    h.set((typeof text === 'string' ? enc.encode(text) : text).subarray(0, width), at);
  put(0, m.name, 100);
  put(100, octal(m.mode ?? 0o644, 8), 8);
  put(108, octal(0, 8), 8);
  put(116, octal(0, 8), 8);
  put(124, m.sizeField ?? octal(data.length, 12), 12);
  put(136, octal(0, 12), 12);
  put(156, m.type ?? '0', 1);
  put(157, m.link ?? '', 100);
  put(257, 'ustar\u000000', 8);
  if (m.prefix) put(345, m.prefix, 155);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `, 8);
  const out = new Uint8Array(512 + Math.ceil(data.length / 512) * 512);
  out.set(h);
  out.set(data, 512);
  return out;
}

function tar(...members: TarMember[]): Uint8Array {
  const parts = [...members.map(tarMember), new Uint8Array(1024)];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A newc member written by hand; `fields` overrides header fields (8 hex digits each). */
function cpioMember(
  name: string,
  data: Uint8Array,
  mode = 0o100644,
  fields: Record<string, string> = {},
): Uint8Array {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const f = {
    ino: hex(1),
    mode: hex(mode),
    uid: hex(0),
    gid: hex(0),
    nlink: hex(1),
    mtime: hex(0),
    filesize: hex(data.length),
    devmajor: hex(0),
    devminor: hex(0),
    rdevmajor: hex(0),
    rdevminor: hex(0),
    namesize: hex(enc.encode(name).length + 1),
    check: hex(0),
    ...fields,
  };
  const head = enc.encode(`070701${Object.values(f).join('')}`);
  const nameBytes = enc.encode(`${name}\0`);
  const pad = (n: number) => (4 - (n % 4)) % 4;
  const len = head.length + nameBytes.length;
  const out = new Uint8Array(len + pad(len) + data.length + pad(data.length));
  out.set(head);
  out.set(nameBytes, head.length);
  out.set(data, len + pad(len));
  return out;
}

function cpio(...members: Uint8Array[]): Uint8Array {
  const parts = [...members, cpioMember('TRAILER!!!', new Uint8Array(0), 0)];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function codeOf(f: () => Promise<unknown> | unknown): Promise<string> {
  const t0 = performance.now();
  try {
    await f();
    return 'accepted';
  } catch (e) {
    if (e instanceof EnclaveVerifyError) return e.code;
    throw e;
  } finally {
    expect(performance.now() - t0).toBeLessThan(1000);
  }
}

const file = (name: string, text = 'x') => ({ name, data: enc.encode(text) });

/** A PAX record `<len> key=value\n`, whose length counts its own digits. */
function pax(key: string, value: string): Uint8Array {
  const body = enc.encode(` ${key}=${value}\n`).length;
  let len = body + 1;
  while (String(len).length + body !== len) len++;
  return enc.encode(`${len} ${key}=${value}\n`);
}

describe('hostile tar archives', () => {
  const cases: [string, Uint8Array, string][] = [
    ['parent traversal', tar(file('../evil')), 'ERR_ARCHIVE_UNSAFE'],
    ['traversal in the middle', tar(file('a/../../evil')), 'ERR_ARCHIVE_UNSAFE'],
    ['traversal through the ustar prefix', tar({ ...file('evil'), prefix: '..' }), 'ERR_ARCHIVE_UNSAFE'],
    ['absolute path', tar(file('/etc/passwd')), 'ERR_ARCHIVE_UNSAFE'],
    [
      'hard link to a parent path',
      tar({ name: 'h', type: '1', link: '../../etc/shadow' }),
      'ERR_ARCHIVE_UNSAFE',
    ],
    [
      'hard link to an absolute path',
      tar({ name: 'h', type: '1', link: '/etc/shadow' }),
      'ERR_ARCHIVE_UNSAFE',
    ],
    [
      'GNU long name with traversal',
      tar({ name: '././@LongLink', type: 'L', data: enc.encode('x/../../../y\0') }, file('short')),
      'ERR_ARCHIVE_UNSAFE',
    ],
    [
      'PAX path with traversal',
      tar({ name: 'pax', type: 'x', data: pax('path', '../../outside') }, file('ok')),
      'ERR_ARCHIVE_UNSAFE',
    ],
    [
      '8 GiB size field on a 1-byte member',
      tar({ ...file('big'), sizeField: octal(2 ** 33 - 1, 12) }),
      'ERR_ARCHIVE_MALFORMED',
    ],
    [
      'base-256 size of 2^62',
      tar({ ...file('big'), sizeField: Uint8Array.of(0x80, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0) }),
      'ERR_ARCHIVE_MALFORMED',
    ],
    [
      'negative base-256 size',
      tar({ ...file('neg'), sizeField: Uint8Array.of(0xff, ...Array(11).fill(0xff)) }),
      'ERR_ARCHIVE_MALFORMED',
    ],
    [
      'PAX size of 10^18',
      tar({ name: 'pax', type: 'x', data: pax('size', '1000000000000000000') }, file('ok')),
      'ERR_ARCHIVE_MALFORMED',
    ],
    [
      'GNU long name claiming 4 GiB',
      tar({ name: '././@LongLink', type: 'L', data: enc.encode('n'), sizeField: octal(2 ** 32, 12) }),
      'ERR_ARCHIVE_MALFORMED',
    ],
    [
      'size field that is not octal',
      tar({ ...file('x'), sizeField: '12345678x0\0\0' }),
      'ERR_ARCHIVE_MALFORMED',
    ],
    [
      'truncated member data',
      tar({ ...file('x', 'y'.repeat(600)) }).subarray(0, 1024),
      'ERR_ARCHIVE_MALFORMED',
    ],
  ];
  for (const [what, bytes, want] of cases) {
    it(`refuses ${what} with ${want}`, async () => {
      expect(await codeOf(() => treeFromTar(memorySource(bytes), { label: what }))).toBe(want);
    });
  }

  it('keeps overlay writes through absolute or escaping symlinks inside the tree', async () => {
    // The tree model resolves symlinks like a chroot at the tree's root: '/etc' and '../..'
    // cannot leave it, so the write lands inside the tree, never on the host.
    for (const [target, landed] of [
      ['/etc', 'etc/passwd'],
      ['../../..', 'passwd'],
      ['a/../../../etc', 'etc/passwd'],
    ] as const) {
      const tree = await treeFromTar(
        memorySource(tar({ name: 'esc', type: '2', link: target, mode: 0o777 })),
      );
      await extractOverlay(tree, readTar(memorySource(tar(file('esc/passwd', 'owned')))));
      const node = lookup(tree, landed);
      expect(`${target}: ${node?.type}`).toBe(`${target}: file`);
      expect(lookup(tree, 'esc')?.type).toBe('symlink');
    }
  });

  it(
    `survives ${scaled(3000)} mutated archives: no uncaught error, no hang, bounded memory`,
    async () => {
      const base = tar(
        { name: 'dir', type: '5', mode: 0o755 },
        file('dir/a.txt', 'hello'),
        { name: 'dir/link', type: '2', link: 'a.txt' },
        { name: 'dir/hard', type: '1', link: 'dir/a.txt' },
        { name: '././@LongLink', type: 'L', data: enc.encode(`${'l'.repeat(150)}\0`) },
        file('long', 'long name'),
        { name: 'pax', type: 'x', data: pax('path', 'pax/ünï') },
        file('ignored', 'pax name'),
      );
      await treeFromTar(memorySource(base));
      const stats = await runFuzz({
        name: 'tar',
        seed: SEED,
        count: scaled(3000),
        generate: (i) => {
          const m = mutate(base, createRng(SEED, i), { fields: [] });
          return { bytes: m.bytes, how: m.ops.join('; ') };
        },
        check: (bytes) => treeFromTar(memorySource(bytes)),
        // A mutated tar may still be a valid tar (changed contents, names, modes): only crashes,
        // hangs and memory count here.
        legitimate: () => true,
        timeLimitMs: 1000,
        memory,
      });
      report(stats);
      expect(stats.findings.uncaught).toEqual([]);
      expect(stats.uncaught + stats.hangs).toBe(0);
      expect(stats.peakHeap).toBeLessThan(256 * 2 ** 20);
    },
    budget(120_000),
  );
});

describe('hostile cpio archives', () => {
  const x = enc.encode('x');
  const cases: [string, Uint8Array, string][] = [
    ['parent traversal', cpio(cpioMember('../evil', x)), 'ERR_ARCHIVE_UNSAFE'],
    ['absolute path', cpio(cpioMember('/etc/passwd', x)), 'ERR_ARCHIVE_UNSAFE'],
    ['traversal in the middle', cpio(cpioMember('a/../../b', x)), 'ERR_ARCHIVE_UNSAFE'],
    [
      'file size of 4 GiB - 1',
      cpio(cpioMember('big', x, 0o100644, { filesize: 'ffffffff' })),
      'ERR_ARCHIVE_MALFORMED',
    ],
    [
      'name size of 4 GiB - 1',
      cpio(cpioMember('n', x, 0o100644, { namesize: 'ffffffff' })),
      'ERR_ARCHIVE_MALFORMED',
    ],
    ['name size 0', cpio(cpioMember('n', x, 0o100644, { namesize: '00000000' })), 'ERR_ARCHIVE_MALFORMED'],
    [
      'non-hex header field',
      cpio(cpioMember('n', x, 0o100644, { mode: '0000zz44' })),
      'ERR_ARCHIVE_MALFORMED',
    ],
    ['no trailer', cpioMember('a', x), 'ERR_ARCHIVE_MALFORMED'],
    ['bad magic', enc.encode('070707'.padEnd(200, '0')), 'ERR_ARCHIVE_MALFORMED'],
  ];
  for (const [what, bytes, want] of cases) {
    it(`refuses ${what} with ${want}`, async () => {
      expect(await codeOf(() => treeFromCpio(readCpio(bytes)))).toBe(want);
    });
  }

  it(
    `survives ${scaled(3000)} mutated archives: no uncaught error, no hang, bounded memory`,
    async () => {
      const tree = await treeFromTar(
        memorySource(
          tar(
            { name: 'bin', type: '5', mode: 0o755 },
            file('bin/sh', '#!/bin/sh'),
            { name: 'sbin', type: '2', link: 'bin' },
            { name: 'bin/hard', type: '1', link: 'bin/sh' },
            file('etc/conf', 'a=1'),
          ),
        ),
      );
      const base = await writeCpioBytes(tree);
      expect(treeFromCpio(readCpio(base))).toBeDefined();
      const stats = await runFuzz({
        name: 'cpio',
        seed: SEED,
        count: scaled(3000),
        generate: (i) => {
          const m = mutate(base, createRng(SEED + 7, i), { fields: [] });
          return { bytes: m.bytes, how: m.ops.join('; ') };
        },
        check: (bytes) => treeFromCpio(readCpio(bytes)),
        legitimate: () => true,
        timeLimitMs: 1000,
        memory,
      });
      report(stats);
      expect(stats.findings.uncaught).toEqual([]);
      expect(stats.uncaught + stats.hangs).toBe(0);
      expect(stats.peakHeap).toBeLessThan(256 * 2 ** 20);
    },
    budget(120_000),
  );
});
