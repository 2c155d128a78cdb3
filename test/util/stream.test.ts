import { describe, expect, test } from 'vitest';
import { ByteChunks, toHex } from '../../src/util/bytes.js';
import { readStreamCapped } from '../../src/util/stream.js';

function streamOf(chunks: number[][]): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false;
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const c = chunks[i++];
      if (c) controller.enqueue(Uint8Array.from(c));
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

describe('ByteChunks', () => {
  test('keeps a running length and joins in order', () => {
    const c = new ByteChunks();
    expect(toHex(c.join())).toBe('');
    c.push(Uint8Array.of(1));
    c.push(Uint8Array.of(2, 3));
    expect(c.length).toBe(3);
    expect(toHex(c.join())).toBe('010203');
  });
  test('joins more chunks than a call takes arguments', () => {
    const c = new ByteChunks();
    for (let i = 0; i < 300_000; i++) c.push(Uint8Array.of(i & 0xff));
    const all = c.join();
    expect(all.length).toBe(300_000);
    expect(all[299_999]).toBe(299_999 & 0xff);
  });
});

describe('readStreamCapped', () => {
  test('reads exactly the cap', async () => {
    const { stream } = streamOf([[1, 2], [3]]);
    expect(toHex(await readStreamCapped(stream, 3, () => new Error('too large')))).toBe('010203');
  });
  test('one byte over the cap cancels the stream and throws the caller error', async () => {
    const s = streamOf([
      [1, 2],
      [3, 4],
    ]);
    await expect(readStreamCapped(s.stream, 3, () => new Error('too large'))).rejects.toThrow('too large');
    expect(s.cancelled()).toBe(true);
  });
});
