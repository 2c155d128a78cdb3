/**
 * Measure an EIF file of any size in one read with constant memory. The main thread reads
 * and checks the header, every section header (offset table and sequential walk must agree)
 * and the small sections (cmdline, metadata, signature). For large files two worker threads
 * then read the data ranges themselves and hash them, PCR0's pass on one core and PCR2's on
 * the other, each also checksumming a share of the file; the CRC pieces are joined with
 * {@link crc32Combine}. Small files are hashed on the main thread: starting workers costs
 * more than it saves there.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { EnclaveVerifyError } from '../../errors.js';
import { crc32Combine } from '../crc32-combine.js';
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
import { runSegmentWorker, type Segment } from './hash-workers.js';
import { nativeCrc32 } from './native-crc32.js';

/** Options of {@link measureEifFile}. */
export interface MeasureEifFileOptions extends Omit<MeasureEifOptions, 'hasher'> {
  /** Called as bytes are read: `(done, total)`. */
  onProgress?: (done: number, total: number) => void;
  /** Worker threads: `auto` (files of 64 MiB and more), `always` or `never`. */
  parallel?: 'auto' | 'always' | 'never';
  /** Read size (default 2 MiB). */
  chunkSize?: number;
}

const PARALLEL_THRESHOLD = 64 * 1024 * 1024;
// Checksumming a byte costs about a fifth of hashing it (zlib crc32 vs SHA-384 here).
const CRC_COST = 0.2;
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

/** A kernel, cmdline or ramdisk section, with where PCR1's prefix ends and PCR2's data starts. */
interface MeasuredRange {
  section: EifSection;
  /** Part of PCR2 (a ramdisk after the first). */
  app: boolean;
  /** The first ramdisk: PCR1 covers everything up to its end. */
  bootEnd: boolean;
}

/**
 * Split the measured ranges between the two workers: worker 0 hashes all of them (PCR0),
 * worker 1 the application ramdisks (PCR2); the CRC of the last `x` measured bytes goes to
 * worker 1, `x` chosen so both have about the same work.
 */
function planSegments(ranges: MeasuredRange[]): [Segment[], Segment[]] {
  const total = ranges.reduce((n, r) => n + r.section.size, 0);
  const app = ranges.reduce((n, r) => n + (r.app ? r.section.size : 0), 0);
  // Work: worker 0 = total + CRC_COST * (total - x); worker 1 = app + CRC_COST * x.
  const x = Math.min(total, Math.max(0, Math.round((total - app + CRC_COST * total) / (2 * CRC_COST))));
  const boundary = total - x;
  const first: Segment[] = [];
  const second: Segment[] = [];
  let pos = 0;
  for (const r of ranges) {
    const { dataOffset, size } = r.section;
    const cut = Math.min(size, Math.max(0, boundary - pos)); // bytes of this range before the boundary
    const parts = [
      { offset: dataOffset, length: cut, before: true },
      { offset: dataOffset + cut, length: size - cut, before: false },
    ].filter((p) => p.length > 0);
    for (const p of parts) {
      first.push({ offset: p.offset, length: p.length, hash: true, crc: p.before, markAfter: false });
      if (r.app || !p.before)
        second.push({ offset: p.offset, length: p.length, hash: r.app, crc: !p.before, markAfter: false });
    }
    if (r.bootEnd) {
      const last = first[first.length - 1];
      if (parts.length > 0 && last) last.markAfter = true;
      else first.push({ offset: dataOffset, length: 0, hash: true, crc: false, markAfter: true });
    }
    pos += size;
  }
  return [first, second];
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
  try {
    const fileSize = (await fh.stat()).size;
    const headerBytes = new Uint8Array(Math.min(EIF_HEADER_SIZE, fileSize));
    await readExactly(fh, headerBytes, 0);
    const header = parseEifHeader(headerBytes, fileSize);
    const plan = planEifLayout(header, fileSize);
    const rules = newSectionRules(header.version);
    const chunkSize = options.chunkSize ?? 2 * 1024 * 1024;
    const progress = (done: number) => options.onProgress?.(Math.min(done, fileSize), fileSize);

    // Pass over the section headers and the small sections; the data ranges are read later.
    const sectionHeaders: Uint8Array[] = [];
    const small = new Map<number, Uint8Array>();
    const ranges: MeasuredRange[] = [];
    let ramdisks = 0;
    let smallBytes = EIF_HEADER_SIZE;
    for (const planned of plan) {
      const sh = new Uint8Array(EIF_SECTION_HEADER_SIZE);
      await readExactly(fh, sh, planned.offset);
      const s = checkSectionHeader(sh, planned, rules);
      checkSmallSectionSize(s);
      sectionHeaders.push(sh);
      smallBytes += EIF_SECTION_HEADER_SIZE;
      if (s.kind === 'metadata' || s.kind === 'signature' || s.kind === 'cmdline') {
        const data = new Uint8Array(s.size);
        await readExactly(fh, data, s.dataOffset);
        small.set(s.index, data);
        if (s.kind !== 'cmdline') smallBytes += s.size;
      }
      if (s.kind === 'kernel' || s.kind === 'cmdline' || s.kind === 'ramdisk') {
        if (s.kind === 'ramdisk') ramdisks++;
        ranges.push({
          section: s,
          app: s.kind === 'ramdisk' && ramdisks >= 2,
          bootEnd: s.kind === 'ramdisk' && ramdisks === 1,
        });
      }
    }
    finishSectionRules(rules);
    progress(smallBytes);

    const parallel =
      options.parallel === 'always' || (options.parallel !== 'never' && fileSize >= PARALLEL_THRESHOLD);
    let pcrs: EifPcrs;
    // CRC of each measured section's data, by section index (pieces joined in file order).
    const dataCrc = new Map<number, Array<{ offset: number; length: number; crc: number }>>();
    if (parallel) {
      const [first, second] = planSegments(ranges);
      const jobs = [
        runSegmentWorker(fh.fd, first, { chunkSize, onProgress: (n) => progress(smallBytes + n) }),
        runSegmentWorker(fh.fd, second, { chunkSize }),
      ];
      let results: Awaited<(typeof jobs)[number]['result']>[];
      try {
        results = await Promise.all(jobs.map((j) => j.result));
      } finally {
        // Both workers are stopped and settled before the file descriptor is closed.
        await Promise.all(jobs.map((j) => j.stop()));
        await Promise.allSettled(jobs.map((j) => j.result));
      }
      const [image, app] = results as [(typeof results)[0], (typeof results)[0]];
      pcrs = { pcr0: extendPcr(image.digest), pcr1: extendPcr(image.mark), pcr2: extendPcr(app.digest) };
      const pieces = [...image.crcs, ...app.crcs].sort((a, b) => a.offset - b.offset);
      for (const r of ranges) {
        const s = r.section;
        dataCrc.set(
          s.index,
          pieces.filter((p) => p.offset >= s.dataOffset && p.offset < s.dataOffset + s.size),
        );
      }
    } else {
      const m = new PcrMeasurer(nodeSha384);
      const buf = new Uint8Array(chunkSize);
      let done = smallBytes;
      for (const r of ranges) {
        const s = r.section;
        m.begin(s.kind as 'kernel' | 'cmdline' | 'ramdisk');
        let crc = 0;
        for (let at = 0; at < s.size; ) {
          const view = buf.subarray(0, Math.min(buf.length, s.size - at));
          await readExactly(fh, view, s.dataOffset + at);
          m.update(view);
          crc = nativeCrc32(view, crc);
          at += view.length;
          done += view.length;
          progress(done);
        }
        dataCrc.set(s.index, s.size > 0 ? [{ offset: s.dataOffset, length: s.size, crc }] : []);
      }
      pcrs = m.finish();
    }

    // The CRC in file order: header (without its CRC field), then each section header and data.
    let crc = nativeCrc32(headerBytes.subarray(0, EIF_CRC_OFFSET), 0);
    for (const s of plan) {
      crc = nativeCrc32(sectionHeaders[s.index]!, crc);
      const pieces = dataCrc.get(s.index);
      if (pieces === undefined) crc = nativeCrc32(small.get(s.index)!, crc);
      else {
        let covered = 0;
        for (const p of pieces) {
          crc = crc32Combine(crc, p.crc, p.length);
          covered += p.length;
        }
        if (covered !== s.size) throw new Error(`internal: CRC pieces cover ${covered} of ${s.size} bytes`);
      }
    }
    progress(fileSize);
    const metadataIndex = plan.find((s) => s.kind === 'metadata')?.index;
    const signatureIndex = plan.find((s) => s.kind === 'signature')?.index;
    const cmdlineIndex = plan.find((s) => s.kind === 'cmdline')!.index;
    return await finishEifMeasurement(
      {
        fileSize,
        header,
        sections: plan,
        pcrs,
        computedCrc: crc >>> 0,
        cmdline: small.get(cmdlineIndex)!,
        metadataBytes: metadataIndex === undefined ? undefined : small.get(metadataIndex),
        signatureBytes: signatureIndex === undefined ? undefined : small.get(signatureIndex),
      },
      options,
    );
  } finally {
    await fh.close();
  }
}
