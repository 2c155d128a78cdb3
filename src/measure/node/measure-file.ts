/**
 * Measure an EIF file of any size in one read with constant memory: the main thread reads
 * the file in order (checking the layout and computing the CRC with zlib), two worker
 * threads hash it (PCR0's pass, and PCR2's pass over the application ramdisks), so the two
 * SHA-384 passes run on both cores. Small files are hashed on the main thread: starting
 * workers costs more than it saves there.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { EnclaveVerifyError } from '../../errors.js';
import {
  checkSectionHeader,
  EIF_CRC_OFFSET,
  EIF_HEADER_SIZE,
  EIF_SECTION_HEADER_SIZE,
  type EifSection,
  finishSectionRules,
  newSectionRules,
  parseEifHeader,
  planEifLayout,
} from '../eif-format.js';
import {
  checkSmallSectionSize,
  type EifMeasurement,
  finishEifMeasurement,
  type MeasureEifOptions,
} from '../eif-reader.js';
import { type EifPcrs, extendPcr, PcrMeasurer } from '../pcr.js';
import { nodeSha384 } from './hash.js';
import { HashWorkerPool } from './hash-workers.js';

/** Options of {@link measureEifFile}. */
export interface MeasureEifFileOptions extends Omit<MeasureEifOptions, 'hasher'> {
  /** Called as bytes are read: `(done, total)`. */
  onProgress?: (done: number, total: number) => void;
  /** Worker threads: `auto` (files of 64 MiB and more), `always` or `never`. */
  parallel?: 'auto' | 'always' | 'never';
  /** Read size, default 4 MiB. */
  chunkSize?: number;
}

const PARALLEL_THRESHOLD = 64 * 1024 * 1024;
const RING_SLOTS = 6;

async function readExactly(fh: FileHandle, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await fh.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) {
      throw new EnclaveVerifyError(
        'ERR_EIF_TRUNCATED',
        `the file ended at byte ${position + done} while reading; it changed or was cut short while being read`,
      );
    }
    done += bytesRead;
  }
}

/**
 * Measure an EIF file: strict layout checks, PCR0/1/2 (PCR8 and the signature check for
 * signed images), CRC (throws `ERR_EIF_CRC` unless `allowCrcMismatch`), metadata.
 *
 * @example
 * ```ts
 * const m = await measureEifFile('enclave.eif', { onProgress: (d, t) => bar(d / t) });
 * toHex(m.pcrs.pcr0);
 * ```
 */
export async function measureEifFile(
  path: string,
  options: MeasureEifFileOptions = {},
): Promise<EifMeasurement> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new EnclaveVerifyError('ERR_IO', `cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  let pool: HashWorkerPool | undefined;
  try {
    const fileSize = (await fh.stat()).size;
    const headerBytes = new Uint8Array(Math.min(EIF_HEADER_SIZE, fileSize));
    await readExactly(fh, headerBytes, 0);
    const header = parseEifHeader(headerBytes, fileSize);
    const plan = planEifLayout(header, fileSize);
    const rules = newSectionRules(header.version);
    let crc = zlibCrc32(headerBytes.subarray(0, EIF_CRC_OFFSET));
    let done = EIF_HEADER_SIZE;
    const chunkSize = options.chunkSize ?? 4 * 1024 * 1024;
    const parallel =
      options.parallel === 'always' || (options.parallel !== 'never' && fileSize >= PARALLEL_THRESHOLD);
    const progress = () => options.onProgress?.(done, fileSize);

    // Measured data goes either to an in-thread measurer or to the worker pool.
    const local = parallel ? undefined : new PcrMeasurer(nodeSha384);
    if (parallel) pool = await HashWorkerPool.start(2, RING_SLOTS, chunkSize);
    let ramdisks = 0;
    let cmdline = new Uint8Array();
    let metadataBytes: Uint8Array | undefined;
    let signatureBytes: Uint8Array | undefined;
    const sectionHeader = new Uint8Array(EIF_SECTION_HEADER_SIZE);
    const sections: EifSection[] = [];

    for (const planned of plan) {
      await readExactly(fh, sectionHeader, planned.offset);
      crc = zlibCrc32(sectionHeader, crc);
      const s = checkSectionHeader(sectionHeader, planned, rules);
      checkSmallSectionSize(s);
      sections.push(s);
      done += EIF_SECTION_HEADER_SIZE;
      if (s.kind === 'metadata' || s.kind === 'signature') {
        const data = new Uint8Array(s.size);
        await readExactly(fh, data, s.dataOffset);
        crc = zlibCrc32(data, crc);
        done += s.size;
        if (s.kind === 'metadata') metadataBytes = data;
        else signatureBytes = data;
        continue;
      }
      if (s.kind === 'ramdisk') ramdisks++;
      // Worker 0 hashes everything measured (PCR0, and PCR1 at the first ramdisk's end);
      // worker 1 hashes the ramdisks after the first (PCR2).
      if (pool && ramdisks === 2 && s.kind === 'ramdisk') pool.mark(0);
      local?.begin(s.kind);
      const targets = s.kind === 'ramdisk' && ramdisks >= 2 ? [0, 1] : [0];
      if (s.kind === 'cmdline') {
        cmdline = new Uint8Array(s.size);
        await readExactly(fh, cmdline, s.dataOffset);
      }
      if (pool) {
        const p = pool;
        for (let at = 0; at < s.size; ) {
          const n = Math.min(chunkSize, s.size - at);
          const slot = await p.acquire();
          const view = p.slot(slot).subarray(0, n);
          await readExactly(fh, view, s.dataOffset + at);
          crc = zlibCrc32(view, crc);
          p.dispatch(slot, n, targets);
          at += n;
          done += n;
          progress();
        }
      } else {
        const buf = new Uint8Array(Math.min(chunkSize, Math.max(s.size, 1)));
        for (let at = 0; at < s.size; ) {
          const n = Math.min(buf.length, s.size - at);
          const view = buf.subarray(0, n);
          await readExactly(fh, view, s.dataOffset + at);
          crc = zlibCrc32(view, crc);
          local!.update(view);
          at += n;
          done += n;
          progress();
        }
      }
    }
    finishSectionRules(rules);
    progress();

    let pcrs: EifPcrs;
    if (pool) {
      const [image, app] = await pool.finish();
      pcrs = { pcr0: extendPcr(image!.digest), pcr1: extendPcr(image!.mark), pcr2: extendPcr(app!.digest) };
    } else pcrs = local!.finish();
    return await finishEifMeasurement(
      { fileSize, header, sections, pcrs, computedCrc: crc >>> 0, cmdline, metadataBytes, signatureBytes },
      options,
    );
  } finally {
    await pool?.close();
    await fh.close();
  }
}
