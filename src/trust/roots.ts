/**
 * Trust anchors: the embedded AWS Nitro root (pinned by SHA-256) or roots the caller supplies as
 * PEM text or DER bytes. Only these anchor a chain; the `cabundle` root of a document is never
 * trusted by itself.
 */
import { EnclaveVerifyError } from '../errors.js';
import { decodeUtf8, fromBase64, toHex } from '../util/bytes.js';
import { sha256 } from '../util/digest.js';
import { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from './aws-root.js';
import { CertificateEntry, type ChainCache } from './cache.js';
import { parseCertificate } from './certificate.js';

/** A trusted root as PEM text (one or more CERTIFICATE blocks) or DER bytes (or PEM bytes). */
export type TrustedRootInput = string | Uint8Array;

/**
 * DER bytes of every `CERTIFICATE` block in PEM text. Throws `ERR_INPUT_FORMAT` if there is none.
 *
 * @example
 * ```ts
 * const [der] = pemToDer(AWS_NITRO_ROOT_G1_PEM);
 * ```
 */
export function pemToDer(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;
  for (let m = re.exec(pem); m; m = re.exec(pem)) out.push(fromBase64(m[1]!, 'PEM certificate'));
  if (out.length === 0) {
    throw new EnclaveVerifyError(
      'ERR_INPUT_FORMAT',
      'no "-----BEGIN CERTIFICATE-----" block found in the trusted root; give a PEM certificate or DER bytes',
    );
  }
  return out;
}

function rootDers(input: TrustedRootInput): Uint8Array[] {
  if (typeof input === 'string') return pemToDer(input);
  if (input[0] === 0x30) return [input];
  const text = decodeUtf8(input);
  if (text?.includes('-----BEGIN')) return pemToDer(text);
  throw new EnclaveVerifyError(
    'ERR_INPUT_FORMAT',
    'a trusted root is neither DER (starting 0x30) nor PEM text',
  );
}

let defaultRoot: Promise<CertificateEntry> | undefined;

async function loadDefaultRoot(): Promise<CertificateEntry> {
  const [der] = pemToDer(AWS_NITRO_ROOT_G1_PEM);
  const entry = new CertificateEntry(parseCertificate(der!, 'embedded AWS Nitro root'));
  // The pin is checked with WebCrypto, independently of the fingerprint code used in reports.
  if (toHex(await sha256(der!)) !== AWS_NITRO_ROOT_G1_SHA256) {
    throw new EnclaveVerifyError(
      'ERR_ROOT_PIN_MISMATCH',
      'the embedded AWS Nitro root does not match its SHA-256 pin; this copy of enclave-verify is damaged, reinstall it',
    );
  }
  return entry;
}

/**
 * The embedded AWS Nitro Enclaves Root G1, checked against its SHA-256 pin on first use.
 *
 * @example
 * ```ts
 * (await awsNitroRoot()).cert.subject; // 'CN=aws.nitro-enclaves, OU=AWS, O=Amazon, C=US'
 * ```
 */
export function awsNitroRoot(): Promise<CertificateEntry> {
  // A constant computed once; a failed load is retried rather than remembered.
  defaultRoot ??= loadDefaultRoot().catch((e) => {
    defaultRoot = undefined;
    throw e;
  });
  return defaultRoot;
}

/**
 * Trust anchors for one verification: the given roots, or the embedded AWS root when none given.
 *
 * @example
 * ```ts
 * const roots = await loadTrustedRoots([pemText]);
 * ```
 */
export async function loadTrustedRoots(
  inputs: readonly TrustedRootInput[] | undefined,
  cache?: ChainCache,
): Promise<CertificateEntry[]> {
  if (inputs === undefined) return [await awsNitroRoot()];
  if (inputs.length === 0) {
    throw new EnclaveVerifyError('ERR_USAGE', 'trustedRoots is empty; omit it to use the AWS Nitro root');
  }
  const out: CertificateEntry[] = [];
  for (const input of inputs) {
    for (const der of rootDers(input)) {
      out.push(
        cache
          ? cache.entry(der, 'trusted root')
          : new CertificateEntry(parseCertificate(der.slice(), 'trusted root')),
      );
    }
  }
  return out;
}
