/**
 * PCRs from the parts of an image held in files (kernel, ramdisks) and a cmdline string,
 * without building the EIF; and the expectation shape other commands match attestation
 * documents against.
 */
import { open, readFile } from 'node:fs/promises';
import { EnclaveVerifyError } from '../../errors.js';
import { toHex, utf8 } from '../../util/bytes.js';
import { pemCertificateToDer } from '../certificate.js';
import type { EifMeasurement } from '../eif-reader.js';
import { type EifPcrs, PcrMeasurer, pcrOfBytes } from '../pcr.js';
import { nodeSha384 } from './hash.js';
import { type MeasureEifFileOptions, measureEifFile } from './measure-file.js';

/** Parts of an image given as files. */
export interface EifPartFiles {
  kernel: string;
  cmdline: string;
  ramdisks: string[];
  /** PEM of the signing certificate: adds PCR8. */
  signingCertificate?: string;
}

/** One measured part and its size (data is concatenated without delimiters, so sizes matter). */
export interface MeasuredPart {
  kind: 'kernel' | 'cmdline' | 'ramdisk' | 'metadata' | 'signature';
  /** File path, or undefined for the cmdline string / sections of an EIF. */
  path?: string;
  size: number;
}

/** PCRs computed from an EIF or its parts, and what was measured. */
export interface MeasuredImage {
  source: 'eif' | 'parts';
  /** EIF path for `source: 'eif'`. */
  path?: string;
  pcrs: EifPcrs;
  parts: MeasuredPart[];
  /** The full EIF measurement for `source: 'eif'`. */
  eif?: EifMeasurement;
}

async function hashFileInto(m: PcrMeasurer, path: string): Promise<number> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new EnclaveVerifyError('ERR_IO', `cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const buf = new Uint8Array(4 * 1024 * 1024);
    let size = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, size);
      if (bytesRead === 0) return size;
      m.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/**
 * PCR0/1/2 (and PCR8 with a signing certificate) of the image eif_build would build from
 * these files, with each part's size.
 *
 * @example
 * ```ts
 * const m = await measureEifParts({ kernel: 'bzImage', cmdline: 'console=ttyS0', ramdisks: ['init.cpio.gz'] });
 * ```
 */
export async function measureEifParts(parts: EifPartFiles): Promise<MeasuredImage> {
  if (parts.ramdisks.length === 0)
    throw new EnclaveVerifyError('ERR_USAGE', 'at least one ramdisk is needed (--ramdisk FILE)');
  const m = new PcrMeasurer(nodeSha384);
  const measured: MeasuredPart[] = [];
  m.begin('kernel');
  measured.push({ kind: 'kernel', path: parts.kernel, size: await hashFileInto(m, parts.kernel) });
  m.begin('cmdline');
  const cmdline = utf8(parts.cmdline);
  m.update(cmdline);
  measured.push({ kind: 'cmdline', size: cmdline.length });
  for (const r of parts.ramdisks) {
    m.begin('ramdisk');
    measured.push({ kind: 'ramdisk', path: r, size: await hashFileInto(m, r) });
  }
  const pcrs = m.finish();
  if (parts.signingCertificate !== undefined) {
    const pem = await readFile(parts.signingCertificate).catch((e: Error) => {
      throw new EnclaveVerifyError('ERR_IO', `cannot read ${parts.signingCertificate}: ${e.message}`, {
        cause: e,
      });
    });
    pcrs.pcr8 = pcrOfBytes(pemCertificateToDer(pem));
  }
  return { source: 'parts', pcrs, parts: measured };
}

/** Expected PCR values by index, each with its allowed values (the policy module's shape). */
export type ExpectedPcrMap = Map<number, Uint8Array[]>;

/** Expected PCRs and a description of what they were computed from. */
export interface ExpectedPcrsFromImage {
  expected: ExpectedPcrMap;
  measured: MeasuredImage;
  /** One line per measured part, for reports: `kernel bzImage (5242880 bytes)`. */
  description: string[];
}

function expectation(measured: MeasuredImage): ExpectedPcrsFromImage {
  const expected: ExpectedPcrMap = new Map([
    [0, [measured.pcrs.pcr0]],
    [1, [measured.pcrs.pcr1]],
    [2, [measured.pcrs.pcr2]],
  ]);
  if (measured.pcrs.pcr8) expected.set(8, [measured.pcrs.pcr8]);
  const description = [
    measured.source === 'eif' ? `EIF ${measured.path}` : 'EIF parts (as eif_build would assemble them)',
    ...measured.parts.map((p) => `${p.kind}${p.path ? ` ${p.path}` : ''} (${p.size} bytes)`),
    ...[...expected.entries()].map(([i, [v]]) => `PCR${i} ${toHex(v!)}`),
  ];
  return { expected, measured, description };
}

/**
 * Expected PCR0/1/2 (and 8 when signed) from an EIF file, for matching an attestation.
 *
 * @example
 * ```ts
 * const { expected, description } = await expectedPcrsFromEif('enclave.eif');
 * await verifyAttestation(doc, { expectedPcrs: expected });
 * ```
 */
export async function expectedPcrsFromEif(
  path: string,
  options: MeasureEifFileOptions = {},
): Promise<ExpectedPcrsFromImage> {
  const eif = await measureEifFile(path, options);
  return expectation({
    source: 'eif',
    path,
    pcrs: eif.pcrs,
    eif,
    parts: eif.sections.map((s) => ({ kind: s.kind, size: s.size })),
  });
}

/**
 * Expected PCR0/1/2 (and 8 with a certificate) from the parts of an image.
 *
 * @example
 * ```ts
 * const { expected } = await expectedPcrsFromParts({ kernel: 'bzImage', cmdline, ramdisks: ['a.cpio.gz'] });
 * ```
 */
export async function expectedPcrsFromParts(parts: EifPartFiles): Promise<ExpectedPcrsFromImage> {
  return expectation(await measureEifParts(parts));
}
