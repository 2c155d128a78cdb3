import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseVectorFile, VECTOR_FORMAT, type VectorCase } from '../../src/vectors/format.js';
import { libraryExecutor } from '../../src/vectors/library.js';

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
});
