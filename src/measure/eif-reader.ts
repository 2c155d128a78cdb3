/**
 * Reading a whole EIF held in memory (the browser case, small images): the same strict
 * layout rules and PCR computation as the streaming Node reader, with pure-TypeScript hashes.
 */
import { EnclaveVerifyError } from '../errors.js';
import { crc32 } from '../util/crc32.js';
import {
  checkSectionHeader,
  EIF_CRC_OFFSET,
  EIF_HEADER_SIZE,
  EIF_SECTION_HEADER_SIZE,
  type EifHeader,
  type EifSection,
  finishSectionRules,
  newSectionRules,
  parseEifHeader,
  planEifLayout,
} from './eif-format.js';
import { type EifMetadata, MAX_METADATA_SECTION, parseEifMetadata } from './metadata.js';
import { type EifPcrs, PcrMeasurer } from './pcr.js';
import type { HasherFactory } from './sha384.js';
import { checkEifSignature, type EifSignatureCheck, MAX_SIGNATURE_SECTION } from './signature.js';

/** Everything measured and checked in one EIF. */
export interface EifMeasurement {
  fileSize: number;
  header: EifHeader;
  /** Sections in file order with their kinds. */
  sections: EifSection[];
  pcrs: EifPcrs;
  /** CRC stored in the header and the one computed; `ok` when they agree. */
  crc: { stored: number; computed: number; ok: boolean };
  /** Cmdline bytes (small; shown in reports). */
  cmdline: Uint8Array;
  metadata: EifMetadata | undefined;
  /** Present for signed images. */
  signature: EifSignatureCheck | undefined;
}

/** Options shared by the EIF readers. */
export interface MeasureEifOptions {
  /** Report a CRC mismatch in `crc.ok` instead of throwing `ERR_EIF_CRC`. */
  allowCrcMismatch?: boolean;
  /** SHA-384 implementation (default: pure TypeScript). */
  hasher?: HasherFactory;
}

/** Largest cmdline section read into memory. */
export const MAX_CMDLINE_SECTION = 64 * 1024;

/**
 * Limit on the small sections a reader keeps in memory; throws before reading them.
 *
 * @example
 * ```ts
 * checkSmallSectionSize(section); // throws ERR_EIF_METADATA for a 2 GB metadata section
 * ```
 */
export function checkSmallSectionSize(s: EifSection): void {
  if (s.kind === 'metadata' && s.size > MAX_METADATA_SECTION) {
    throw new EnclaveVerifyError(
      'ERR_EIF_METADATA',
      `metadata section ${s.index} is ${s.size} bytes, more than the ${MAX_METADATA_SECTION} this reader accepts`,
    );
  }
  if (s.kind === 'signature' && s.size > MAX_SIGNATURE_SECTION) {
    throw new EnclaveVerifyError(
      'ERR_EIF_SIGNATURE',
      `signature section ${s.index} is ${s.size} bytes, more than the ${MAX_SIGNATURE_SECTION} this reader accepts`,
    );
  }
  if (s.kind === 'cmdline' && s.size > MAX_CMDLINE_SECTION) {
    throw new EnclaveVerifyError(
      'ERR_EIF_SECTION',
      `cmdline section ${s.index} is ${s.size} bytes, more than the ${MAX_CMDLINE_SECTION} a kernel command line can be`,
    );
  }
}

/**
 * The last step of every reader: parse metadata, check the signature against PCR0, compare
 * the CRC. Throws `ERR_EIF_CRC` on a mismatch unless allowed.
 *
 * @example
 * ```ts
 * return finishEifMeasurement({ fileSize, header, sections, pcrs, computedCrc, cmdline, metadataBytes, signatureBytes }, {});
 * ```
 */
export async function finishEifMeasurement(
  parts: {
    fileSize: number;
    header: EifHeader;
    sections: EifSection[];
    pcrs: EifPcrs;
    computedCrc: number;
    cmdline: Uint8Array;
    metadataBytes: Uint8Array | undefined;
    signatureBytes: Uint8Array | undefined;
  },
  options: MeasureEifOptions,
): Promise<EifMeasurement> {
  const ok = parts.computedCrc === parts.header.crc32;
  if (!ok && !options.allowCrcMismatch) {
    throw new EnclaveVerifyError(
      'ERR_EIF_CRC',
      `EIF CRC mismatch: the header says ${hex8(parts.header.crc32)} but the file's bytes give ${hex8(parts.computedCrc)}; the file is damaged or was edited, download or rebuild it`,
      { details: { stored: hex8(parts.header.crc32), computed: hex8(parts.computedCrc) } },
    );
  }
  const metadata = parts.metadataBytes ? parseEifMetadata(parts.metadataBytes) : undefined;
  const signature = parts.signatureBytes
    ? await checkEifSignature(parts.signatureBytes, parts.pcrs.pcr0)
    : undefined;
  return {
    fileSize: parts.fileSize,
    header: parts.header,
    sections: parts.sections,
    pcrs: signature ? { ...parts.pcrs, pcr8: signature.pcr8 } : parts.pcrs,
    crc: { stored: parts.header.crc32, computed: parts.computedCrc, ok },
    cmdline: parts.cmdline,
    metadata,
    signature,
  };
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * Measure an EIF held in memory: strict layout checks, PCR0/1/2 (and PCR8 with the
 * signature check for signed images), CRC, metadata.
 *
 * @example
 * ```ts
 * const m = await measureEifBytes(new Uint8Array(await file.arrayBuffer()));
 * toHex(m.pcrs.pcr0);
 * ```
 */
export async function measureEifBytes(
  bytes: Uint8Array,
  options: MeasureEifOptions = {},
): Promise<EifMeasurement> {
  const header = parseEifHeader(bytes.subarray(0, EIF_HEADER_SIZE), bytes.length);
  const plan = planEifLayout(header, bytes.length);
  const rules = newSectionRules(header.version);
  const measurer = new PcrMeasurer(options.hasher);
  let cmdline = new Uint8Array();
  let metadataBytes: Uint8Array | undefined;
  let signatureBytes: Uint8Array | undefined;
  for (const planned of plan) {
    const s = checkSectionHeader(
      bytes.subarray(planned.offset, planned.offset + EIF_SECTION_HEADER_SIZE),
      planned,
      rules,
    );
    checkSmallSectionSize(s);
    const data = bytes.subarray(s.dataOffset, s.dataOffset + s.size);
    if (s.kind === 'kernel' || s.kind === 'cmdline' || s.kind === 'ramdisk') {
      measurer.begin(s.kind);
      measurer.update(data);
      if (s.kind === 'cmdline') cmdline = data.slice();
    } else if (s.kind === 'metadata') metadataBytes = data;
    else signatureBytes = data;
  }
  finishSectionRules(rules);
  const computedCrc = crc32(bytes.subarray(EIF_HEADER_SIZE), crc32(bytes.subarray(0, EIF_CRC_OFFSET)));
  return finishEifMeasurement(
    {
      fileSize: bytes.length,
      header,
      sections: plan,
      pcrs: measurer.finish(),
      computedCrc,
      cmdline,
      metadataBytes,
      signatureBytes,
    },
    options,
  );
}
