// The Node image reader's fast path: OCI layer blobs checked in the same pass as their
// decompression, and decompressed layers split between memory and a temporary file. Both must
// give byte-identical ramdisks and still refuse a blob that is not the one the manifest names.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { EnclaveVerifyError } from '../../src/errors.js';
import { type ImageFiles, openImage } from '../../src/rebuild/image.js';
import { openFileSource } from '../../src/rebuild/node/fs.js';
import { nodeImageIo } from '../../src/rebuild/node/image-io.js';
import { rebuildNitroCli } from '../../src/rebuild/node/nitro-cli.js';
import { readAll } from '../../src/rebuild/tar.js';

function header(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write(type === '5' ? '0000755' : '0000644', 100);
  h.write('0000000', 108);
  h.write('0000000', 116);
  h.write(size.toString(8).padStart(11, '0'), 124);
  h.write((1700000000).toString(8).padStart(11, '0'), 136);
  h.write(type, 156);
  h.write('ustar\x0000', 257);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

/** Deterministic bytes that gzip cannot shrink much (a SHA-256 counter stream). */
function bytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  for (let o = 0, i = 0; o < size; o += 32, i++) {
    createHash('sha256').update(`${seed}:${i}`).digest().copy(out, o);
  }
  return out;
}

function layerTar(files: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, body] of files) {
    parts.push(header(name, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** An OCI layout directory with two gzip layers (about 2.5 MiB and 1.5 MiB uncompressed). */
function ociLayout(tamper?: (blobs: string, layerDigests: string[]) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'ev-image-io-'));
  dirs.push(dir);
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer) => {
    const hex = createHash('sha256').update(b).digest('hex');
    writeFileSync(join(blobs, hex), b);
    return { digest: `sha256:${hex}`, size: b.length };
  };
  const layers = [
    layerTar([
      ['app/a.bin', bytes(1_500_000, 1)],
      ['app/b.txt', Buffer.from('hello\n'.repeat(2000))],
      ['app/c.bin', bytes(1_000_000, 2)],
    ]),
    layerTar([
      ['app/b.txt', Buffer.from('replaced\n')],
      ['app/d.bin', bytes(1_500_000, 3)],
    ]),
  ].map((t) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(gzipSync(t)) }));
  const config = put(Buffer.from(JSON.stringify({ config: { Cmd: ['/app/a.bin'], Env: ['A=1'] } })));
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers,
      }),
    ),
  );
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }],
    }),
  );
  tamper?.(
    blobs,
    layers.map((l) => l.digest.slice(7)),
  );
  return dir;
}

function files(root: string): ImageFiles {
  return { get: (p) => (existsSync(join(root, p)) ? openFileSource(join(root, p)) : undefined) };
}

describe('node image reader', () => {
  it('gives the same layer bytes from memory, from disk and split across both', async () => {
    const dir = ociLayout();
    const read = async (memoryBudget: number) => {
      const io = nodeImageIo({ memoryBudget });
      try {
        const image = await openImage(files(dir), io.options);
        const out: string[] = [];
        for (let i = 0; i < image.layers.length; i++) {
          const src = await image.layerSource(i);
          // Odd-sized reads cross zlib's chunks and the memory/file boundary.
          const h = createHash('sha256');
          for (let o = 0; o < src.size; o += 300_007) h.update(await src.read(o, 300_007));
          out.push(`${src.size}:${h.digest('hex')}`);
          expect(
            createHash('sha256')
              .update(await readAll(src))
              .digest('hex'),
          ).toBe(out[out.length - 1]!.split(':')[1]);
        }
        return out;
      } finally {
        io.cleanup();
      }
    };
    const inMemory = await read(64 * 1024 * 1024);
    expect(inMemory.map((x) => Number(x.split(':')[0]))).toEqual([2515456, 1502720]);
    expect(await read(0)).toEqual(inMemory);
    expect(await read(1024 * 1024)).toEqual(inMemory); // layer 0 split after its first chunk
    expect(await read(3.5 * 1024 * 1024)).toEqual(inMemory); // layer 1 split
  });

  it('rebuilds the image, and refuses a swapped layer blob', async () => {
    const dir = ociLayout();
    const a = await rebuildNitroCli({ image: dir, outDir: join(dir, 'out') });
    expect(a.customer.size).toBe(4003840);
    // A layer blob replaced by another valid gzip stream under the old name: the digest is
    // checked in the decompression pass, before any of its entries is used.
    const swapped = ociLayout((blobs, digests) => {
      writeFileSync(join(blobs, digests[1]!), gzipSync(layerTar([['evil', Buffer.from('x')]])));
    });
    const err = await rebuildNitroCli({ image: swapped, outDir: join(swapped, 'out') }).catch((e) => e);
    expect(err).toBeInstanceOf(EnclaveVerifyError);
    expect(err.code).toBe('ERR_ARCHIVE_MALFORMED');
    expect(err.message).toMatch(/has digest sha256:[0-9a-f]{64}, not sha256:[0-9a-f]{64}/);
    // A corrupt blob under a name it does not match is reported as the wrong blob, as when
    // digests were checked in a pass of their own.
    const corrupt = ociLayout((blobs, digests) => {
      writeFileSync(join(blobs, digests[0]!), Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]));
    });
    const err2 = await rebuildNitroCli({ image: corrupt, outDir: join(corrupt, 'out') }).catch((e) => e);
    expect(err2.code).toBe('ERR_ARCHIVE_MALFORMED');
    expect(err2.message).toMatch(/has digest sha256:[0-9a-f]{64}, not/);
  });
});
