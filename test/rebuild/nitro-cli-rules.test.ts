// SPEC 3.3, rule by rule, on small images built here: Docker's layer extraction, container
// creation and export, linuxkit's filter and files section, and the cpio it writes.
import { describe, expect, it } from 'vitest';
import { isEnclaveVerifyError } from '../../src/errors.js';
import { readCpio } from '../../src/rebuild/cpio.js';
import type { DockerImageConfig } from '../../src/rebuild/docker-export.js';
import { LINUXKIT_MTIME, relativeLink } from '../../src/rebuild/linuxkit.js';
import { nitroCliCmdEnv, nitroCliCustomerEntries, writeLinuxkitCpio } from '../../src/rebuild/nitro-cli.js';
import { memorySource, readTar } from '../../src/rebuild/tar.js';
import { concatBytes } from '../../src/util/bytes.js';

/** Expect `f` (a function or a promise) to fail with this code and a message matching `re`. */
async function expectError(f: (() => unknown) | Promise<unknown>, code: string, re: RegExp): Promise<void> {
  try {
    await (typeof f === 'function' ? f() : f);
  } catch (e) {
    if (!isEnclaveVerifyError(e)) throw e;
    expect([e.code, re.test(e.message) ? 'message ok' : e.message]).toEqual([code, 'message ok']);
    return;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

interface T {
  name: string;
  type?: '0' | '1' | '2' | '5' | '6';
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  body?: string;
  link?: string;
}

/** A ustar layer tar with exactly these members, in this order. */
function tar(entries: T[]): Uint8Array {
  const enc = new TextEncoder();
  const blocks: Uint8Array[] = [];
  const oct = (b: Uint8Array, o: number, n: number, v: number) =>
    b.set(enc.encode(v.toString(8).padStart(n - 1, '0')), o);
  for (const e of entries) {
    const h = new Uint8Array(512);
    const body = enc.encode(e.body ?? '');
    h.set(enc.encode(e.name), 0);
    oct(h, 100, 8, e.mode ?? (e.type === '5' ? 0o755 : 0o644));
    oct(h, 108, 8, e.uid ?? 0);
    oct(h, 116, 8, e.gid ?? 0);
    oct(h, 124, 12, body.length);
    oct(h, 136, 12, e.mtime ?? 1700000000);
    h[156] = (e.type ?? '0').charCodeAt(0);
    if (e.link) h.set(enc.encode(e.link), 157);
    h.set(enc.encode('ustar\x0000'), 257);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    blocks.push(h, body, new Uint8Array((512 - (body.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  return concatBytes(...blocks);
}

const CONFIG: DockerImageConfig = { cmd: ['/app'], entrypoint: null, env: null, workingDir: '' };

async function build(layers: T[][], config: Partial<DockerImageConfig> = {}, implicitMtime?: number) {
  const c = await nitroCliCustomerEntries({
    layers: layers.map((l) => readTar(memorySource(tar(l)))),
    config: { ...CONFIG, ...config },
    ...(implicitMtime !== undefined ? { implicitMtime } : {}),
  });
  const parts: Uint8Array[] = [];
  for await (const x of writeLinuxkitCpio(c.entries)) parts.push(x);
  const cpio = readCpio(concatBytes(...parts));
  const byName = new Map(cpio.map((e) => [e.name, e]));
  return { ...c, cpio, byName, names: cpio.map((e) => e.name) };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('nitro-cli recipe: Docker export and linuxkit rules (SPEC 3.3)', () => {
  it('applies file and directory whiteouts and opaque directories', async () => {
    const r = await build([
      [
        { name: 'a/', type: '5' },
        { name: 'a/x', body: 'x' },
        { name: 'a/y', body: 'y' },
        { name: 'b', body: 'b' },
        { name: 'd/', type: '5' },
        { name: 'd/old', body: 'old' },
      ],
      [
        { name: 'a/', type: '5' },
        { name: 'a/.wh.x' },
        { name: '.wh.b' },
        { name: '.wh.never-existed' },
        { name: 'd/', type: '5', mode: 0o700 },
        { name: 'd/.wh..wh..opq' },
        { name: 'd/new', body: 'new' },
      ],
    ]);
    expect(r.names.filter((n) => /^rootfs\/(a|b|d)(\/|$)/.test(n))).toEqual([
      'rootfs/a/',
      'rootfs/a/y',
      'rootfs/d/',
      'rootfs/d/new',
    ]);
    expect(r.byName.get('rootfs/d/')!.mode).toBe(0o040700);
    expect(r.names.some((n) => n.includes('.wh.') || n.includes('never-existed'))).toBe(false);
  });

  it('turns hard links into relative symlinks to the first name in export order, in both name orders', async () => {
    const r = await build([
      [
        { name: 'z', body: 'shared', mode: 0o640 },
        { name: 'a', type: '1', link: 'z', mode: 0o640 },
        { name: 'x/', type: '5' },
        { name: 'x/f', body: 'f' },
        { name: 'y/', type: '5' },
        { name: 'y/g', type: '1', link: 'x/f' },
      ],
    ]);
    const a = r.byName.get('rootfs/a')!;
    const z = r.byName.get('rootfs/z')!;
    expect([a.mode, text(a.data)]).toEqual([0o100640, 'shared']);
    expect([z.mode, text(z.data)]).toEqual([0o120640, 'a']);
    expect(text(r.byName.get('rootfs/y/g')!.data)).toBe('../x/f');
    expect(relativeLink('rootfs/usr/bin', 'rootfs/lib/x')).toBe('../../lib/x');
  });

  it("applies a hard-link member's own mode, owner and mtime to the shared inode", async () => {
    const r = await build([
      [
        { name: 'f', body: 'data', mode: 0o644, mtime: 100 },
        { name: 'h', type: '1', link: 'f', mode: 0o600, uid: 7, mtime: 200 },
      ],
    ]);
    const f = r.byName.get('rootfs/f')!;
    expect([f.mode, f.uid, f.mtime]).toEqual([0o100600, 7, 200]);
    expect([r.byName.get('rootfs/h')!.mode, r.byName.get('rootfs/h')!.mtime]).toEqual([0o120600, 200]);
  });

  it('keeps setuid/setgid/sticky bits, uid 1000 and fifos; lists siblings in byte order, contents after their directory', async () => {
    const r = await build([
      [
        { name: 'bin/', type: '5' },
        { name: 'bin/su', body: 'su', mode: 0o4755, uid: 1000, gid: 1000 },
        { name: 'a-b', body: '' },
        { name: 'a/', type: '5' },
        { name: 'a/z', body: '' },
        { name: 'a0', body: '' },
        { name: 'fifo', type: '6', mode: 0o600 },
        { name: 'tmp/', type: '5', mode: 0o1777 },
      ],
    ]);
    const su = r.byName.get('rootfs/bin/su')!;
    expect([su.mode, su.uid, su.gid]).toEqual([0o104755, 1000, 1000]);
    expect(r.byName.get('rootfs/fifo')!.mode).toBe(0o010600);
    expect(r.byName.get('rootfs/tmp/')!.mode).toBe(0o041777);
    const order = r.names.filter((n) => /^rootfs\/a/.test(n));
    expect(order).toEqual(['rootfs/a/', 'rootfs/a/z', 'rootfs/a-b', 'rootfs/a0']);
  });

  it('replaces etc/hosts and etc/resolv.conf, drops etc/hostname, .dockerenv and a root Dockerfile', async () => {
    const r = await build([
      [
        { name: 'etc/', type: '5', mode: 0o750 },
        { name: 'etc/hosts', body: '10.0.0.1 evil\n', mode: 0o600 },
        { name: 'etc/resolv.conf', body: 'nameserver 6.6.6.6\n' },
        { name: 'etc/hostname', body: 'box\n' },
        { name: '.dockerenv', body: '' },
        { name: 'Dockerfile', body: 'FROM x\n' },
        { name: 'src/', type: '5' },
        { name: 'src/Dockerfile', body: 'FROM y\n' },
      ],
    ]);
    const hosts = r.byName.get('rootfs/etc/hosts')!;
    expect([hosts.mode, hosts.mtime]).toEqual([0o100755, LINUXKIT_MTIME]);
    expect(text(hosts.data)).toMatch(
      /^127\.0\.0\.1 {7}localhost\n::1 {5}localhost ip6-localhost ip6-loopback\n/,
    );
    const resolv = r.byName.get('rootfs/etc/resolv.conf')!;
    expect([resolv.mode, text(resolv.data), resolv.mtime]).toEqual([
      0o120755,
      '/run/resolvconf/resolv.conf',
      LINUXKIT_MTIME,
    ]);
    expect(text(r.byName.get('rootfs/etc/mtab')!.data)).toBe('/proc/mounts');
    expect(r.byName.get('rootfs/etc/')!.mode).toBe(0o040750);
    expect(r.byName.get('rootfs/etc/')!.mtime).toBe(LINUXKIT_MTIME);
    for (const gone of [
      'rootfs/etc/hostname',
      'rootfs/.dockerenv',
      'rootfs/Dockerfile',
      'rootfs/dev/console',
    ]) {
      expect(r.byName.has(gone)).toBe(false);
    }
    expect(r.byName.has('rootfs/src/Dockerfile')).toBe(true);
    // Docker's init layer and the YAML's files section always add these.
    for (const dir of ['rootfs/dev/', 'rootfs/dev/pts/', 'rootfs/dev/shm/', 'rootfs/proc/', 'rootfs/sys/']) {
      expect(r.byName.get(dir)?.mtime).toBe(LINUXKIT_MTIME);
    }
    expect(r.names.slice(-9)).toEqual([
      'rootfs',
      'rootfs/dev',
      'rootfs/run',
      'rootfs/sys',
      'rootfs/var',
      'rootfs/proc',
      'rootfs/tmp',
      'cmd',
      'env',
    ]);
    expect(r.names[0]).toBe('rootfs');
  });

  it('creates a parent missing from a layer 0755 root:root at the assumed extraction time, hiding the lower one, and names it', async () => {
    const layers: T[][] = [
      [
        { name: 'opt/', type: '5', mode: 0o700, uid: 5 },
        { name: 'opt/a', body: 'a' },
      ],
      [{ name: 'opt/tool/run', body: 'run' }],
    ];
    const r = await build(layers, {}, 1234);
    const opt = r.byName.get('rootfs/opt/')!;
    expect([opt.mode, opt.uid, opt.mtime]).toEqual([0o040755, 0, 1234]);
    expect(r.byName.has('rootfs/opt/a')).toBe(true);
    expect(r.implicitEntries).toEqual(['rootfs/opt/', 'rootfs/opt/tool/']);
    const zero = await build(layers);
    expect(zero.byName.get('rootfs/opt/')!.mtime).toBe(0);
    // A parent listed after its children sets mode, owner and mtime: nothing implicit remains.
    const later = await build([
      [
        { name: 'srv/x', body: 'x' },
        { name: 'srv/', type: '5', mode: 0o711, mtime: 42 },
      ],
    ]);
    expect([later.byName.get('rootfs/srv/')!.mode, later.byName.get('rootfs/srv/')!.mtime]).toEqual([
      0o040711, 42,
    ]);
    expect(later.implicitEntries).toEqual([]);
  });

  it('creates a missing WorkingDir as docker create does, and names it', async () => {
    const r = await build([[{ name: 'app/', type: '5' }]], { workingDir: '/app/data' }, 99);
    expect(r.byName.get('rootfs/app/data/')!.mtime).toBe(99);
    expect(r.implicitEntries).toEqual(['rootfs/app/', 'rootfs/app/data/']);
  });

  it('writes cmd from Cmd, else Entrypoint, and env from Env (empty when null)', async () => {
    const base = { workingDir: '', env: null };
    expect(nitroCliCmdEnv({ ...base, cmd: ['/a', 'b c'], entrypoint: ['/e'] })).toEqual({
      cmd: '/a\nb c\n',
      env: '',
    });
    expect(nitroCliCmdEnv({ ...base, cmd: null, entrypoint: ['/e', '-x'] }).cmd).toBe('/e\n-x\n');
    expect(nitroCliCmdEnv({ ...base, cmd: [], entrypoint: ['/e'] }).cmd).toBe('');
    expect(nitroCliCmdEnv({ ...base, cmd: [''], entrypoint: null }).cmd).toBe('\n');
    expect(nitroCliCmdEnv({ workingDir: '', cmd: ['/a'], entrypoint: null, env: ['A=1', 'B='] }).env).toBe(
      'A=1\nB=\n',
    );
    return expectError(
      () => nitroCliCmdEnv({ ...base, cmd: null, entrypoint: null }),
      'ERR_RECIPE',
      /neither Cmd nor Entrypoint/,
    );
  });

  it('writes linuxkit newc: inodes from 721, device 3:1, lowercase hex, trailer, 512-byte padding', async () => {
    const layers = [[{ name: 'f', body: 'x' }]];
    const c = await nitroCliCustomerEntries({
      layers: layers.map((l) => readTar(memorySource(tar(l)))),
      config: CONFIG,
    });
    const parts: Uint8Array[] = [];
    for await (const x of writeLinuxkitCpio(c.entries)) parts.push(x);
    const bytes = concatBytes(...parts);
    expect(bytes.length % 512).toBe(0);
    const entries = readCpio(bytes);
    expect(entries.map((e) => e.ino)).toEqual(entries.map((_, i) => 721 + i));
    expect(entries.every((e) => e.devMajor === 3 && e.devMinor === 1)).toBe(true);
    expect(entries.filter((e) => e.type === 'dir').every((e) => e.nlink === 2)).toBe(true);
    const head = new TextDecoder().decode(bytes.subarray(0, 110));
    expect(head).toBe(head.toLowerCase());
    const trailer = new TextDecoder().decode(bytes).lastIndexOf('TRAILER!!!');
    const t = new TextDecoder().decode(bytes.subarray(trailer - 110, trailer));
    expect(t.slice(6, 14)).toBe((721 + entries.length).toString(16).padStart(8, '0'));
    expect(t.slice(62, 78)).toBe('0000000300000001');
  });

  it('refuses hostile layers with the archive error codes', async () => {
    await expectError(build([[{ name: '../escape', body: 'x' }]]), 'ERR_ARCHIVE_UNSAFE', /'\.\.'/);
    await expectError(build([[{ name: '/etc/passwd', body: 'x' }]]), 'ERR_ARCHIVE_UNSAFE', /absolute/);
    await expectError(
      build([[{ name: 'h', type: '1', link: 'missing' }]]),
      'ERR_ARCHIVE_MALFORMED',
      /does not hold/,
    );
    await expectError(build([[{ name: 'h', type: '1', link: '../x' }]]), 'ERR_ARCHIVE_UNSAFE', /'\.\.'/);
    await expectError(
      build([
        [
          { name: 'd/', type: '5' },
          { name: 'h', type: '1', link: 'd' },
        ],
      ]),
      'ERR_ARCHIVE_UNSAFE',
      /directory/,
    );
    await expectError(
      build([
        [
          { name: 'f', body: 'x' },
          { name: 'f/x', body: 'y' },
        ],
      ]),
      'ERR_ARCHIVE_MALFORMED',
      /which is a file/,
    );
    await expectError(
      build([
        [
          { name: 'l', type: '2', link: 'l' },
          { name: 'l/x', body: 'y' },
        ],
      ]),
      'ERR_ARCHIVE_UNSAFE',
      /loops/,
    );
    const huge = tar([{ name: 'big', body: 'x' }]);
    huge.set(new TextEncoder().encode('77777777777'), 124); // 8 GiB claimed, checksum now wrong
    await expectError(
      nitroCliCustomerEntries({ layers: [readTar(memorySource(huge))], config: CONFIG }),
      'ERR_ARCHIVE_MALFORMED',
      /checksum|past the end/,
    );
  });
});
