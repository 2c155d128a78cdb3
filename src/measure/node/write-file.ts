/**
 * Write an EIF file from part files exactly as eif_build 0.3.1 does, streaming the parts
 * (constant memory), and sign it with a PEM private key through node:crypto.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { EnclaveVerifyError } from '../../errors.js';
import { bytesEqual, utf8 } from '../../util/bytes.js';
import { pemCertificateToDer, signingCertificateFacts } from '../certificate.js';
import { EIF_CRC_OFFSET } from '../eif-format.js';
import {
  type EifArch,
  type EifSigner,
  eifCrcStart,
  eifHeaderFor,
  eifSignatureSection,
  planEifSections,
} from '../eif-writer.js';
import { eifBuildMetadata, MAX_CUSTOM_METADATA_FILE } from '../metadata.js';
import { type EifPcrs, PcrMeasurer, pcrOfBytes } from '../pcr.js';
import { coseAlgForCurve } from '../signature.js';
import { nodeSha384 } from './hash.js';
import { nativeCrc32 } from './native-crc32.js';
import { measureEifParts } from './parts.js';

/** Options of {@link writeEifFile}, named after eif_build 0.3.1's flags. */
export interface WriteEifOptions {
  kernel: string;
  cmdline: string;
  ramdisks: string[];
  output: string;
  /** `--build-time` (default: now, RFC 3339 as chrono prints it). */
  buildTime?: string;
  /** `--name`: ImageName and, as eif_build 0.3.1 does, ImageVersion. */
  name?: string;
  arch?: EifArch;
  /** `--metadata`: path of a JSON file (at most 4096 bytes, as eif_build). */
  metadata?: string;
  /** `--signing-certificate` PEM path (with `privateKey`). */
  signingCertificate?: string;
  /** `--private-key` PEM path (SEC1 or PKCS#8 EC key). */
  privateKey?: string;
}

/** What was written. */
export interface WrittenEif {
  path: string;
  size: number;
  pcrs: EifPcrs;
  crc32: number;
  sections: Array<{ kind: string; offset: number; size: number }>;
}

const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
const CURVE_HASH: Record<string, string> = { 'P-256': 'sha256', 'P-384': 'sha384', 'P-521': 'sha512' };

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new EnclaveVerifyError('ERR_IO', `cannot read ${what} ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * A COSE signer from PEM files: checks the key is an EC key on P-256/384/521 and belongs to
 * the certificate.
 *
 * @example
 * ```ts
 * const signer = await pemSigner('cert.pem', 'key.pem');
 * ```
 */
export async function pemSigner(certificatePath: string, keyPath: string): Promise<EifSigner> {
  const certificatePem = await readInput(certificatePath, 'signing certificate');
  const facts = signingCertificateFacts(pemCertificateToDer(certificatePem));
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(Buffer.from(await readInput(keyPath, 'private key')));
  } catch (e) {
    if (e instanceof EnclaveVerifyError) throw e;
    throw new EnclaveVerifyError(
      'ERR_INPUT_FORMAT',
      `${keyPath} is not a PEM private key: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const curve = CURVE_NAMES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType !== 'ec' || curve === undefined) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `${keyPath} is not an EC key on P-256, P-384 or P-521, which EIF signatures need`,
    );
  }
  const spki = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  if (!bytesEqual(spki, facts.spki)) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `the private key ${keyPath} does not belong to the certificate ${certificatePath}; pass the matching pair`,
    );
  }
  const hash = CURVE_HASH[curve]!;
  return {
    certificatePem,
    alg: coseAlgForCurve(curve),
    sign: (tbs) => new Uint8Array(nodeSign(hash, tbs, { key, dsaEncoding: 'ieee-p1363' })),
  };
}

/** `2025-01-01T12:00:00.123+00:00`: chrono's `to_rfc3339()` layout, which eif_build defaults to. */
function nowRfc3339(): string {
  const iso = new Date().toISOString(); // 2025-01-01T12:00:00.123Z
  return iso.replace(/\.000Z$/, 'Z').replace(/Z$/, '+00:00');
}

async function sizeOf(path: string, what: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    throw new EnclaveVerifyError('ERR_IO', `cannot read ${what} ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * Write the EIF eif_build 0.3.1 writes for these arguments (byte-identical when unsigned;
 * signed images differ only in the random ECDSA bytes and hence the CRC).
 *
 * @example
 * ```ts
 * await writeEifFile({ kernel: 'bzImage', cmdline: 'console=ttyS0', ramdisks: ['a.cpio.gz'], output: 'out.eif',
 *   buildTime: '2025-01-01T00:00:00+00:00' });
 * ```
 */
export async function writeEifFile(o: WriteEifOptions): Promise<WrittenEif> {
  if (o.ramdisks.length === 0) throw new EnclaveVerifyError('ERR_USAGE', 'at least one --ramdisk is needed');
  if ((o.signingCertificate === undefined) !== (o.privateKey === undefined)) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      '--signing-certificate and --private-key go together; pass both or neither',
    );
  }
  let customMetadataJson: string | undefined;
  if (o.metadata !== undefined) {
    if ((await sizeOf(o.metadata, 'metadata file')) > MAX_CUSTOM_METADATA_FILE) {
      throw new EnclaveVerifyError(
        'ERR_USAGE',
        `metadata file ${o.metadata} is larger than the ${MAX_CUSTOM_METADATA_FILE} bytes eif_build accepts`,
      );
    }
    customMetadataJson = new TextDecoder().decode(await readInput(o.metadata, 'metadata file'));
  }
  const metadata = eifBuildMetadata({
    kernelFileName: basename(o.kernel),
    buildTime: o.buildTime ?? nowRfc3339(),
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(customMetadataJson !== undefined ? { customMetadataJson } : {}),
  });
  const cmdline = utf8(o.cmdline);
  if (cmdline.includes(0))
    throw new EnclaveVerifyError('ERR_USAGE', 'the cmdline must not contain NUL characters');
  let signature: Uint8Array | undefined;
  let pcr8: Uint8Array | undefined;
  if (o.signingCertificate !== undefined && o.privateKey !== undefined) {
    const signer = await pemSigner(o.signingCertificate, o.privateKey);
    pcr8 = pcrOfBytes(pemCertificateToDer(signer.certificatePem));
    // PCR0 must be known before the header can be written: one extra read of the parts.
    const parts = await measureEifParts({ kernel: o.kernel, cmdline: o.cmdline, ramdisks: o.ramdisks });
    signature = await eifSignatureSection(parts.pcrs.pcr0, signer);
  }
  const files = [o.kernel, ...o.ramdisks];
  const sizes = await Promise.all(files.map((f, i) => sizeOf(f, i === 0 ? 'kernel' : 'ramdisk')));
  const sections = planEifSections({
    kernelSize: sizes[0]!,
    cmdlineSize: cmdline.length,
    metadataSize: metadata.length,
    ramdiskSizes: sizes.slice(1),
    ...(signature ? { signatureSize: signature.length } : {}),
  });
  const header = eifHeaderFor(sections, o.arch ?? 'x86_64', 0);
  let crc = eifCrcStart(header);
  const measurer = new PcrMeasurer(nodeSha384);
  let out: FileHandle;
  try {
    out = await open(o.output, 'w');
  } catch (e) {
    throw new EnclaveVerifyError('ERR_IO', `cannot create ${o.output}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  let position = 0;
  const write = async (bytes: Uint8Array) => {
    await out.write(bytes, 0, bytes.length, position);
    position += bytes.length;
  };
  try {
    await write(header);
    let fileIndex = 0;
    for (const s of sections) {
      await write(s.header);
      crc = nativeCrc32(s.header, crc);
      if (s.kind === 'kernel' || s.kind === 'ramdisk') {
        measurer.begin(s.kind);
        const path = files[fileIndex++]!;
        const copied = await copyFile(path, s.size, async (chunk) => {
          crc = nativeCrc32(chunk, crc);
          measurer.update(chunk);
          await write(chunk);
        });
        if (copied !== s.size)
          throw new EnclaveVerifyError(
            'ERR_IO',
            `${path} changed size while the EIF was being written; try again`,
          );
      } else {
        const data = s.kind === 'cmdline' ? cmdline : s.kind === 'metadata' ? metadata : signature!;
        if (s.kind === 'cmdline') {
          measurer.begin('cmdline');
          measurer.update(data);
        }
        crc = nativeCrc32(data, crc);
        await write(data);
      }
    }
    const crcBytes = new Uint8Array(4);
    new DataView(crcBytes.buffer).setUint32(0, crc >>> 0);
    await out.write(crcBytes, 0, 4, EIF_CRC_OFFSET);
    await out.close();
  } catch (e) {
    await out.close().catch(() => undefined);
    await rm(o.output, { force: true });
    throw e;
  }
  const pcrs = measurer.finish();
  if (pcr8) pcrs.pcr8 = pcr8;
  return {
    path: o.output,
    size: position,
    pcrs,
    crc32: crc >>> 0,
    sections: sections.map((s) => ({ kind: s.kind, offset: s.offset, size: s.size })),
  };
}

async function copyFile(
  path: string,
  expected: number,
  sink: (chunk: Uint8Array) => Promise<void>,
): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(Math.max(1, Math.min(4 * 1024 * 1024, expected)));
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, total);
      if (bytesRead === 0) return total;
      total += bytesRead;
      if (total > expected) return total;
      await sink(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
}
