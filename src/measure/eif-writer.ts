/**
 * Writing EIFs exactly as eif_build 0.3.1 does: sections kernel, cmdline, metadata,
 * ramdisk..., [signature], contiguous from offset 548; 1 GiB / 2 CPUs defaults; CRC over
 * every byte but the CRC field. This module plans the layout and produces the bytes of
 * small images; the Node writer streams large parts through the same plan.
 */
import { utf8 } from '../util/bytes.js';
import { crc32 } from '../util/crc32.js';
import {
  EIF_CRC_OFFSET,
  EIF_FLAG_ARM64,
  EIF_HEADER_SIZE,
  EIF_SECTION_HEADER_SIZE,
  encodeEifHeader,
  encodeSectionHeader,
  type SectionKind,
} from './eif-format.js';
import { pcrsFromParts } from './pcr.js';
import type { HasherFactory } from './sha384.js';
import { buildCoseSign1, encodePcrInfo, encodeSignatureSection } from './signature.js';

/** One section of a planned EIF. */
export interface PlannedSection {
  kind: SectionKind;
  /** Offset of the section header. */
  offset: number;
  size: number;
  /** Its 12-byte header. */
  header: Uint8Array;
}

/** Sizes of the parts, in eif_build's section order. */
export interface EifLayoutInput {
  kernelSize: number;
  cmdlineSize: number;
  metadataSize: number;
  ramdiskSizes: number[];
  /** Size of the signature section, for signed images. */
  signatureSize?: number;
}

/**
 * Section offsets and headers of the image eif_build writes for parts of these sizes.
 *
 * @example
 * ```ts
 * planEifSections({ kernelSize: 10, cmdlineSize: 3, metadataSize: 240, ramdiskSizes: [5] })[1]!.offset; // 570
 * ```
 */
export function planEifSections(input: EifLayoutInput): PlannedSection[] {
  const order: Array<[SectionKind, number]> = [
    ['kernel', input.kernelSize],
    ['cmdline', input.cmdlineSize],
    ['metadata', input.metadataSize],
    ...input.ramdiskSizes.map((s): [SectionKind, number] => ['ramdisk', s]),
    ...(input.signatureSize === undefined
      ? []
      : [['signature', input.signatureSize] as [SectionKind, number]]),
  ];
  let offset = EIF_HEADER_SIZE;
  return order.map(([kind, size]) => {
    const s = { kind, offset, size, header: encodeSectionHeader(kind, size) };
    offset += EIF_SECTION_HEADER_SIZE + size;
    return s;
  });
}

/**
 * The 548-byte header for planned sections, with `crc32` (0 while the CRC is unknown).
 *
 * @example
 * ```ts
 * const header = eifHeaderFor(sections, 'x86_64', 0);
 * ```
 */
export function eifHeaderFor(sections: readonly PlannedSection[], arch: EifArch, crc: number): Uint8Array {
  return encodeEifHeader({ flags: arch === 'aarch64' ? EIF_FLAG_ARM64 : 0, sections, crc32: crc });
}

/** Target architecture of an image (header flag bit 0). */
export type EifArch = 'x86_64' | 'aarch64';

/**
 * CRC-32 of a finished image given its header (CRC field ignored) and the rest in order.
 *
 * @example
 * ```ts
 * let crc = eifCrcStart(header);
 * for (const chunk of rest) crc = crc32(chunk, crc);
 * ```
 */
export function eifCrcStart(header: Uint8Array): number {
  return crc32(header.subarray(0, EIF_CRC_OFFSET));
}

/** How to sign PCR0: the certificate PEM, the COSE algorithm, and a raw `r || s` signer. */
export interface EifSigner {
  certificatePem: Uint8Array;
  /** COSE algorithm id: -7 ES256, -35 ES384, -36 ES512. */
  alg: number;
  sign(toBeSigned: Uint8Array): Promise<Uint8Array> | Uint8Array;
}

/**
 * The signature section for an image with this PCR0, as eif_build writes it.
 *
 * @example
 * ```ts
 * const section = await eifSignatureSection(pcrs.pcr0, signer);
 * ```
 */
export async function eifSignatureSection(pcr0: Uint8Array, signer: EifSigner): Promise<Uint8Array> {
  const cose = await buildCoseSign1(encodePcrInfo(0, pcr0), signer.alg, (tbs) => signer.sign(tbs));
  return encodeSignatureSection([{ signingCertificate: signer.certificatePem, signature: cose }]);
}

/** Input of {@link buildEifBytes}. */
export interface EifBuildInput {
  kernel: Uint8Array;
  cmdline: string;
  ramdisks: Uint8Array[];
  /** Metadata section bytes, e.g. from {@link eifBuildMetadata}. */
  metadata: Uint8Array;
  arch?: EifArch;
  signer?: EifSigner;
  hasher?: HasherFactory;
}

/**
 * The complete EIF (in memory) that eif_build 0.3.1 writes for these parts.
 *
 * @example
 * ```ts
 * const eif = await buildEifBytes({ kernel, cmdline: 'console=ttyS0', ramdisks: [r0], metadata });
 * ```
 */
export async function buildEifBytes(input: EifBuildInput): Promise<Uint8Array> {
  const cmdline = utf8(input.cmdline);
  const signature = input.signer
    ? await eifSignatureSection(pcrsFromParts(input, input.hasher).pcr0, input.signer)
    : undefined;
  const sections = planEifSections({
    kernelSize: input.kernel.length,
    cmdlineSize: cmdline.length,
    metadataSize: input.metadata.length,
    ramdiskSizes: input.ramdisks.map((r) => r.length),
    ...(signature ? { signatureSize: signature.length } : {}),
  });
  const data = [input.kernel, cmdline, input.metadata, ...input.ramdisks, ...(signature ? [signature] : [])];
  const last = sections[sections.length - 1]!;
  const out = new Uint8Array(last.offset + EIF_SECTION_HEADER_SIZE + last.size);
  sections.forEach((s, i) => {
    out.set(s.header, s.offset);
    out.set(data[i]!, s.offset + EIF_SECTION_HEADER_SIZE);
  });
  out.set(eifHeaderFor(sections, input.arch ?? 'x86_64', 0), 0);
  const crc = crc32(out.subarray(EIF_HEADER_SIZE), eifCrcStart(out));
  new DataView(out.buffer).setUint32(EIF_CRC_OFFSET, crc);
  return out;
}
