import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readCpio } from '../../src/rebuild/cpio.js';
import { ramdisksFromBytes } from '../../src/rebuild/node/ramdisk-file.js';
import { parseVectorFile, VECTOR_FORMAT, type VectorCase } from '../../src/vectors/format.js';
import { libraryExecutor } from '../../src/vectors/library.js';
import { MULTI_MEMBER_ENTRIES, multiMemberSuite } from './multi-member-fixture.js';

function ramdiskRead(archive: string): VectorCase {
  const parsed = parseVectorFile(
    {
      format: VECTOR_FORMAT,
      cases: [
        {
          id: 'ramdisk/t/x',
          kind: 'ramdisk',
          description: 'd',
          input: { recipe: 'read', archive },
          expect: { result: 'reject', code: 'ERR_ARCHIVE_MALFORMED', class: 'rebuild' },
        },
      ],
    },
    new URL('file:///v/cases.json'),
  );
  if (parsed.type !== 'cases') throw new Error('cases expected');
  return parsed.cases[0]!;
}

describe('library executor', () => {
  it('stops a gzip bomb at the decompression limit', async () => {
    const bomb = new Uint8Array(gzipSync(new Uint8Array(8 * 2 ** 20)));
    expect(bomb.length).toBeLessThan(20_000);
    const run = libraryExecutor({ read: async () => bomb }, { maxDecompressedBytes: 2 ** 20 });
    const out = await run(ramdiskRead('bomb.cpio.gz'));
    expect(out).toMatchObject({ result: 'reject', code: 'ERR_ARCHIVE_MALFORMED' });
    expect((out as { message: string }).message).toMatch(/expands beyond 1048576 bytes/);
  });

  it('turns an unexpected exception into an error outcome, never a rejection', async () => {
    const run = libraryExecutor({
      read: async () => {
        throw new TypeError('boom');
      },
    });
    expect(await run(ramdiskRead('x.tar'))).toEqual({ result: 'error', message: 'TypeError: boom' });
  });

  it('skips cases whose inputs are known to be absent', async () => {
    const c = ramdiskRead('x.tar');
    const run = libraryExecutor(
      { read: async () => new Uint8Array() },
      { unavailable: new Map([[c.id, 'not here']]) },
    );
    expect(await run(c)).toEqual({ result: 'skip', reason: 'not here' });
  });

  // Defect: the library executor gunzipped only the first gzip member (Node's DecompressionStream
  // stops silently at NUL padding), so it counted 2 entries where the kernel unpacks 9.
  it('reads a ramdisk of several members as the kernel and the ramdisk commands do', async () => {
    const { bytes } = await multiMemberSuite();
    const [cli] = await ramdisksFromBytes(bytes, 'multi.cpio.gz');
    expect(readCpio(cli!.cpio)).toHaveLength(MULTI_MEMBER_ENTRIES);
    const run = libraryExecutor({ read: async () => bytes });
    expect(await run(ramdiskRead('multi.cpio.gz'))).toEqual({
      result: 'accept',
      entries: MULTI_MEMBER_ENTRIES,
    });
  });

  it('refuses bytes after a gzip member that the kernel would not skip, as the ramdisk commands do', async () => {
    const { bytes } = await multiMemberSuite();
    const junk = new Uint8Array([...bytes, 0, 0, 0x41, 0x42]);
    const out = await libraryExecutor({ read: async () => junk })(ramdiskRead('junk.cpio.gz'));
    expect(out).toMatchObject({ result: 'reject', code: 'ERR_ARCHIVE_MALFORMED' });
    expect((out as { message: string }).message).toBe(
      `junk.cpio.gz, offset ${bytes.length + 2}: bytes that are neither NUL padding, a newc cpio archive nor gzip; the kernel would try to unpack them, so they are not ignored`,
    );
  });
});
