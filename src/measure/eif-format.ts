/**
 * The Enclave Image File container: header and section-header codec, and the strict layout
 * rules both readers (in-memory and streaming) share. All integers are big-endian.
 * Layout facts: SPEC section 2.1 (from aws-nitro-enclaves-image-format `src/defs`).
 */
import { EnclaveVerifyError } from '../errors.js';

/** Size of the EIF header. */
export const EIF_HEADER_SIZE = 548;
/** Size of one section header (type u16, flags u16, size u64). */
export const EIF_SECTION_HEADER_SIZE = 12;
/** Offset of the CRC-32 field: the CRC covers every byte of the file except these four. */
export const EIF_CRC_OFFSET = 544;
/** The section table holds at most this many entries. */
export const EIF_MAX_SECTIONS = 32;
/** Header flag bit: the image is for aarch64. */
export const EIF_FLAG_ARM64 = 1;
/** Version eif_build 0.3.1 writes. */
export const EIF_CURRENT_VERSION = 4;

const MAGIC = [0x2e, 0x65, 0x69, 0x66]; // ".eif"

/** Section types; 0 and anything above 5 are invalid. */
export const SectionType = { kernel: 1, cmdline: 2, ramdisk: 3, signature: 4, metadata: 5 } as const;
/** Name of a section type. */
export type SectionKind = keyof typeof SectionType;
const KIND_OF: Record<number, SectionKind> = {
  1: 'kernel',
  2: 'cmdline',
  3: 'ramdisk',
  4: 'signature',
  5: 'metadata',
};

/** The decoded 548-byte EIF header. */
export interface EifHeader {
  version: number;
  flags: number;
  defaultMemory: number;
  defaultCpus: number;
  reserved: number;
  sectionCount: number;
  /** First `sectionCount` entries of the offset table. */
  sectionOffsets: number[];
  /** First `sectionCount` entries of the size table. */
  sectionSizes: number[];
  unused: number;
  crc32: number;
}

/** One section as the layout check found it: where its header is, what it holds. */
export interface EifSection {
  index: number;
  kind: SectionKind;
  /** Offset of the 12-byte section header. */
  offset: number;
  /** Offset of the first data byte. */
  dataOffset: number;
  /** Data size in bytes. */
  size: number;
}

function fail(
  code: 'ERR_EIF_LAYOUT' | 'ERR_EIF_SECTION' | 'ERR_EIF_TRUNCATED',
  message: string,
  details?: Record<string, unknown>,
): never {
  throw new EnclaveVerifyError(code, message, details ? { details } : {});
}

function u64(view: DataView, at: number, what: string): number {
  const hi = view.getUint32(at);
  const lo = view.getUint32(at + 4);
  const v = hi * 2 ** 32 + lo;
  if (!Number.isSafeInteger(v))
    fail('ERR_EIF_LAYOUT', `${what} (${hi}:${lo}) is larger than any file this reader accepts`);
  return v;
}

/**
 * Decode and check the EIF header (the first 548 bytes; `fileSize` is the whole file's
 * size, used to report truncation). Rejects a wrong magic (`ERR_EIF_MAGIC`), an unknown
 * version or flag bit (`ERR_EIF_VERSION`), a short file (`ERR_EIF_TRUNCATED`) and a section
 * table whose unused entries or reserved fields are not zero (`ERR_EIF_LAYOUT`).
 *
 * @example
 * ```ts
 * const header = parseEifHeader(bytes.subarray(0, EIF_HEADER_SIZE), bytes.length);
 * header.sectionCount; // 4
 * ```
 */
export function parseEifHeader(bytes: Uint8Array, fileSize: number = bytes.length): EifHeader {
  if (bytes.length < 4 || fileSize < 4) {
    fail(
      'ERR_EIF_TRUNCATED',
      `the file is ${fileSize} bytes long, too short for an EIF header; check that the download completed`,
    );
  }
  if (MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new EnclaveVerifyError(
      'ERR_EIF_MAGIC',
      'not an Enclave Image File: it does not start with ".eif"; pass the .eif produced by nitro-cli build-enclave or eif_build',
    );
  }
  if (bytes.length < EIF_HEADER_SIZE || fileSize < EIF_HEADER_SIZE) {
    fail(
      'ERR_EIF_TRUNCATED',
      `the file is ${fileSize} bytes long, shorter than the ${EIF_HEADER_SIZE}-byte EIF header; check that the download completed`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, EIF_HEADER_SIZE);
  const version = view.getUint16(4);
  if (version < 1 || version > EIF_CURRENT_VERSION) {
    throw new EnclaveVerifyError(
      'ERR_EIF_VERSION',
      `EIF version ${version} is not one this reader knows (1 to ${EIF_CURRENT_VERSION}); use a newer enclave-verify or rebuild the image`,
      { details: { version } },
    );
  }
  const flags = view.getUint16(6);
  if ((flags & ~EIF_FLAG_ARM64) !== 0) {
    throw new EnclaveVerifyError(
      'ERR_EIF_VERSION',
      `EIF header flags 0x${flags.toString(16)} set bits this reader does not know (only bit 0, aarch64, is defined)`,
      { details: { flags } },
    );
  }
  const defaultMemory = u64(view, 8, 'default memory');
  const defaultCpus = u64(view, 16, 'default CPU count');
  const reserved = view.getUint16(24);
  const sectionCount = view.getUint16(26);
  if (sectionCount === 0 || sectionCount > EIF_MAX_SECTIONS) {
    fail(
      'ERR_EIF_LAYOUT',
      `the header declares ${sectionCount} sections; an EIF has 1 to ${EIF_MAX_SECTIONS}`,
    );
  }
  const sectionOffsets: number[] = [];
  const sectionSizes: number[] = [];
  for (let i = 0; i < EIF_MAX_SECTIONS; i++) {
    const offHi = view.getUint32(28 + i * 8);
    const offLo = view.getUint32(32 + i * 8);
    const sizeHi = view.getUint32(284 + i * 8);
    const sizeLo = view.getUint32(288 + i * 8);
    if (i >= sectionCount) {
      if (offHi | offLo | sizeHi | sizeLo) {
        fail(
          'ERR_EIF_LAYOUT',
          `section table entry ${i} is filled in but the header declares only ${sectionCount} sections`,
        );
      }
      continue;
    }
    sectionOffsets.push(u64(view, 28 + i * 8, `section ${i} offset`));
    sectionSizes.push(u64(view, 284 + i * 8, `section ${i} size`));
  }
  const unused = view.getUint32(540);
  if (reserved !== 0 || unused !== 0) {
    fail(
      'ERR_EIF_LAYOUT',
      'the reserved fields of the EIF header are not zero; the header is damaged or not from eif_build',
    );
  }
  return {
    version,
    flags,
    defaultMemory,
    defaultCpus,
    reserved,
    sectionCount,
    sectionOffsets,
    sectionSizes,
    unused,
    crc32: view.getUint32(EIF_CRC_OFFSET),
  };
}

/**
 * Check the section table against the file size before reading any section: the first
 * section starts right after the header, each next one right after the previous one's data,
 * the last one ends exactly at the end of the file. Returns the planned sections (their
 * kinds are filled in later from the section headers, see {@link checkSectionHeader}).
 *
 * @example
 * ```ts
 * const plan = planEifLayout(header, fileSize); // [{ index: 0, offset: 548, ... }, ...]
 * ```
 */
export function planEifLayout(header: EifHeader, fileSize: number): EifSection[] {
  const out: EifSection[] = [];
  let expected = EIF_HEADER_SIZE;
  for (let i = 0; i < header.sectionCount; i++) {
    const offset = header.sectionOffsets[i]!;
    const size = header.sectionSizes[i]!;
    if (offset < expected) {
      fail(
        'ERR_EIF_LAYOUT',
        `section ${i} at offset ${offset} overlaps ${i === 0 ? 'the header' : `section ${i - 1}`} (expected offset ${expected})`,
        { section: i, offset, expected },
      );
    }
    if (offset > expected) {
      fail(
        'ERR_EIF_LAYOUT',
        `section ${i} at offset ${offset} leaves a gap of ${offset - expected} bytes after ${i === 0 ? 'the header' : `section ${i - 1}`}`,
        { section: i, offset, expected },
      );
    }
    if (size > fileSize) {
      fail(
        'ERR_EIF_LAYOUT',
        `section ${i} claims ${size} bytes, more than the whole file (${fileSize} bytes)`,
        { section: i, size, fileSize },
      );
    }
    const end = offset + EIF_SECTION_HEADER_SIZE + size;
    if (end > fileSize) {
      fail(
        'ERR_EIF_TRUNCATED',
        `section ${i} ends at byte ${end} but the file has only ${fileSize} bytes; the file was cut short, download it again`,
        { section: i, end, fileSize },
      );
    }
    out.push({ index: i, kind: 'kernel', offset, dataOffset: offset + EIF_SECTION_HEADER_SIZE, size });
    expected = end;
  }
  if (expected !== fileSize) {
    fail(
      'ERR_EIF_LAYOUT',
      `${fileSize - expected} trailing bytes after the last section (which ends at byte ${expected})`,
      { end: expected, fileSize },
    );
  }
  return out;
}

/** Per-image state of the section-order rules, fed one section header at a time. */
export interface SectionRules {
  version: number;
  seen: Record<SectionKind, number>;
}

/** Fresh {@link SectionRules} for an image of `version`. @example const rules = newSectionRules(4) */
export function newSectionRules(version: number): SectionRules {
  return { version, seen: { kernel: 0, cmdline: 0, ramdisk: 0, signature: 0, metadata: 0 } };
}

/**
 * Decode the 12-byte section header found when walking the file sequentially, check it
 * against the table's entry (`planned`) and against the section rules (one kernel, then one
 * cmdline, before any ramdisk; at most one metadata (v4+) and one signature (v3+) section),
 * and fill in `planned.kind`.
 *
 * @example
 * ```ts
 * checkSectionHeader(bytes.subarray(s.offset, s.offset + 12), s, rules);
 * ```
 */
export function checkSectionHeader(bytes: Uint8Array, planned: EifSection, rules: SectionRules): EifSection {
  const view = new DataView(bytes.buffer, bytes.byteOffset, EIF_SECTION_HEADER_SIZE);
  const type = view.getUint16(0);
  const flags = view.getUint16(2);
  const hi = view.getUint32(4);
  const lo = view.getUint32(8);
  const i = planned.index;
  const kind = KIND_OF[type];
  if (kind === undefined) {
    fail(
      'ERR_EIF_SECTION',
      `section ${i} has type ${type}, which is not a valid EIF section type (1 kernel, 2 cmdline, 3 ramdisk, 4 signature, 5 metadata)`,
      { section: i, type },
    );
  }
  if (flags !== 0)
    fail(
      'ERR_EIF_SECTION',
      `section ${i} (${kind}) has flags 0x${flags.toString(16)}; no section flags are defined`,
      { section: i, flags },
    );
  if (hi * 2 ** 32 + lo !== planned.size) {
    fail(
      'ERR_EIF_LAYOUT',
      `section ${i} (${kind}): its own header says ${hi * 2 ** 32 + lo} bytes but the header table says ${planned.size}; the two views of the file disagree`,
      { section: i },
    );
  }
  const seen = rules.seen;
  if (
    (kind === 'kernel' || kind === 'cmdline' || kind === 'metadata' || kind === 'signature') &&
    seen[kind] > 0
  ) {
    fail('ERR_EIF_SECTION', `duplicate ${kind} section (section ${i}); an EIF has exactly one`, {
      section: i,
      kind,
    });
  }
  if (kind === 'cmdline' && seen.kernel === 0)
    fail('ERR_EIF_SECTION', `the cmdline section (section ${i}) comes before the kernel section`, {
      section: i,
    });
  if (kind === 'ramdisk' && (seen.kernel === 0 || seen.cmdline === 0)) {
    fail(
      'ERR_EIF_SECTION',
      `ramdisk section ${i} comes before the kernel and cmdline sections; they are measured in file order`,
      { section: i },
    );
  }
  if (kind === 'signature' && rules.version < 3)
    fail(
      'ERR_EIF_SECTION',
      `a signature section needs EIF version 3 or later (this file is version ${rules.version})`,
      { section: i },
    );
  if (kind === 'metadata' && rules.version < 4)
    fail(
      'ERR_EIF_SECTION',
      `a metadata section needs EIF version 4 or later (this file is version ${rules.version})`,
      { section: i },
    );
  seen[kind]++;
  planned.kind = kind;
  return planned;
}

/**
 * Final section-rule check once every section header was read: kernel, cmdline and at
 * least one ramdisk are present, and the metadata section too in a version 4 image.
 *
 * @example
 * ```ts
 * finishSectionRules(rules); // throws ERR_EIF_SECTION when e.g. no ramdisk was found
 * ```
 */
export function finishSectionRules(rules: SectionRules): void {
  const missing: string[] = [];
  if (rules.seen.kernel === 0) missing.push('kernel');
  if (rules.seen.cmdline === 0) missing.push('cmdline');
  if (rules.seen.ramdisk === 0) missing.push('ramdisk');
  if (rules.version >= 4 && rules.seen.metadata === 0) missing.push('metadata');
  if (missing.length > 0) {
    fail(
      'ERR_EIF_SECTION',
      `the EIF has no ${missing.join(', ')} section${missing.length > 1 ? 's' : ''}; it cannot be booted or measured`,
      { missing },
    );
  }
}

/** Fields of a header to write. @example encodeEifHeader({ flags: 0, sections: [...], crc32: 0 }) */
export interface EifHeaderFields {
  version?: number;
  flags: number;
  defaultMemory?: number;
  defaultCpus?: number;
  sections: ReadonlyArray<{ offset: number; size: number }>;
  crc32: number;
}

function putU64(view: DataView, at: number, v: number): void {
  view.setUint32(at, Math.floor(v / 2 ** 32));
  view.setUint32(at + 4, v >>> 0);
}

/**
 * Encode a 548-byte EIF header; defaults as eif_build writes them (version 4, 1 GiB
 * default memory, 2 default CPUs).
 *
 * @example
 * ```ts
 * const h = encodeEifHeader({ flags: 0, sections: [{ offset: 548, size: 10 }], crc32: 0 });
 * h.length; // 548
 * ```
 */
export function encodeEifHeader(fields: EifHeaderFields): Uint8Array {
  if (fields.sections.length > EIF_MAX_SECTIONS) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `an EIF holds at most ${EIF_MAX_SECTIONS} sections (asked for ${fields.sections.length}); use fewer ramdisks`,
    );
  }
  const out = new Uint8Array(EIF_HEADER_SIZE);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint16(4, fields.version ?? EIF_CURRENT_VERSION);
  view.setUint16(6, fields.flags);
  putU64(view, 8, fields.defaultMemory ?? 1024 * 1024 * 1024);
  putU64(view, 16, fields.defaultCpus ?? 2);
  view.setUint16(26, fields.sections.length);
  fields.sections.forEach((s, i) => {
    putU64(view, 28 + i * 8, s.offset);
    putU64(view, 284 + i * 8, s.size);
  });
  view.setUint32(EIF_CRC_OFFSET, fields.crc32);
  return out;
}

/**
 * Encode a 12-byte section header.
 *
 * @example
 * ```ts
 * toHex(encodeSectionHeader('cmdline', 13)); // '00020000000000000000000d'
 * ```
 */
export function encodeSectionHeader(kind: SectionKind, size: number): Uint8Array {
  const out = new Uint8Array(EIF_SECTION_HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setUint16(0, SectionType[kind]);
  putU64(view, 4, size);
  return out;
}
