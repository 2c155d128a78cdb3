/**
 * Output formats of measurements, as AWS tools print them (SPEC 2.3): nitro-cli's
 * `Measurements` JSON, describe-eif's object, eif_build's `.pcrs` lines.
 */
import { toHex } from '../util/bytes.js';
import type { EifMeasurement } from './eif-reader.js';
import type { EifPcrs } from './pcr.js';

/** nitro-cli prints the hash algorithm with Rust's Debug of the hasher: opaque text. */
export const HASH_ALGORITHM_TEXT = 'Sha384 { ... }';

/**
 * The `Measurements` map nitro-cli prints (keys sorted as its BTreeMap sorts them).
 *
 * @example
 * ```ts
 * measurementsRecord(pcrs); // { HashAlgorithm: 'Sha384 { ... }', PCR0: '...', PCR1: '...', PCR2: '...' }
 * ```
 */
export function measurementsRecord(pcrs: EifPcrs): Record<string, string> {
  return {
    HashAlgorithm: HASH_ALGORITHM_TEXT,
    PCR0: toHex(pcrs.pcr0),
    PCR1: toHex(pcrs.pcr1),
    PCR2: toHex(pcrs.pcr2),
    ...(pcrs.pcr8 ? { PCR8: toHex(pcrs.pcr8) } : {}),
  };
}

/**
 * `nitro-cli build-enclave` output: `{"Measurements": {...}}`, 2-space pretty JSON.
 *
 * @example
 * ```ts
 * formatNitroCli(pcrs); // '{\n  "Measurements": {\n    "HashAlgorithm": "Sha384 { ... }",\n ...'
 * ```
 */
export function formatNitroCli(pcrs: EifPcrs): string {
  return `${JSON.stringify({ Measurements: measurementsRecord(pcrs) }, null, 2)}\n`;
}

/**
 * eif_build's `--pcrs_output` lines: `<hex> PCR0` ... (PCR8 too when signed).
 *
 * @example
 * ```ts
 * formatPcrsLines(pcrs); // '<hex> PCR0\n<hex> PCR1\n<hex> PCR2\n'
 * ```
 */
export function formatPcrsLines(pcrs: EifPcrs): string {
  const rows: Array<[string, Uint8Array | undefined]> = [
    ['PCR0', pcrs.pcr0],
    ['PCR1', pcrs.pcr1],
    ['PCR2', pcrs.pcr2],
    ['PCR8', pcrs.pcr8],
  ];
  return rows
    .filter((r): r is [string, Uint8Array] => r[1] !== undefined)
    .map(([n, v]) => `${toHex(v)} ${n}\n`)
    .join('');
}

/**
 * The object `nitro-cli describe-eif` prints for a measured image.
 *
 * @example
 * ```ts
 * JSON.stringify(describeEif(m), null, 2);
 * ```
 */
export function describeEif(m: EifMeasurement): Record<string, unknown> {
  const out: Record<string, unknown> = {
    EifVersion: m.header.version,
    Measurements: measurementsRecord(m.pcrs),
    IsSigned: m.signature !== undefined,
  };
  if (m.signature) {
    const c = m.signature.certificate;
    out.SigningCertificate = {
      IssuerName: Object.fromEntries(
        Object.entries(c.issuer).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      ),
      Algorithm: c.algorithm,
      NotBefore: c.notBefore,
      NotAfter: c.notAfter,
      Signature: c.signature,
    };
  }
  out.CheckCRC = m.crc.ok;
  if (m.signature) out.SignatureCheck = m.signature.signatureCheck;
  if (m.metadata) {
    const md = m.metadata;
    out.ImageName = md.ImageName;
    out.ImageVersion = md.ImageVersion;
    const custom = md.CustomMetadata;
    out.Metadata = {
      ...md.BuildMetadata,
      DockerInfo: md.DockerInfo,
      ...(custom !== null && typeof custom === 'object' && !Array.isArray(custom)
        ? (custom as Record<string, unknown>)
        : {}),
    };
  }
  return out;
}
