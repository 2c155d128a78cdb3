/**
 * Runs vector cases with this library (the reference executor of `enclave-verify vectors run`).
 * Runtime-agnostic: file access goes through {@link VectorIo}, so a browser can run a suite
 * served over HTTP.
 */
import { EnclaveVerifyError } from '../errors.js';
import { measureEifBytes } from '../measure/eif-reader.js';
import { describeEif } from '../measure/format.js';
import { extendPcr, pcrsFromParts, sha384Sync } from '../measure/pcr.js';
import { parseExpectedPcrs } from '../policy/expected-pcrs.js';
import { applyLayer } from '../rebuild/apply.js';
import { archiveTree, buildCautionTree } from '../rebuild/caution.js';
import { readCpio } from '../rebuild/cpio.js';
import { dockerImageConfig } from '../rebuild/docker-export.js';
import { BusyboxGzipEncoder } from '../rebuild/gzip/gzip.js';
import { openImage, tarImageFiles } from '../rebuild/image.js';
import { readInitramfs } from '../rebuild/initramfs.js';
import { treeFromCpio, treeFromTar } from '../rebuild/load.js';
import {
  nitroCliBootstrapEntries,
  nitroCliCustomerEntries,
  writeLinuxkitCpio,
} from '../rebuild/nitro-cli.js';
import { memorySource, readTar } from '../rebuild/tar.js';
import { FileTree, memoryData } from '../rebuild/tree.js';
import { ByteChunks, decodeUtf8, fromHex, toHex } from '../util/bytes.js';
import { sha256 } from '../util/digest.js';
import { verifyAttestation } from '../verify.js';
import type { VectorCase } from './format.js';
import type { Executor, Outcome } from './runner.js';

/** How the executor reads the files a case names. */
export interface VectorIo {
  read(url: URL): Promise<Uint8Array>;
}

/** Options of {@link libraryExecutor}. */
export interface LibraryExecutorOptions {
  /** Cases whose inputs are known to be absent: id -> reason (they are skipped). */
  unavailable?: ReadonlyMap<string, string>;
  /** Largest decompressed ramdisk accepted by `read` cases. Default 256 MiB. */
  maxDecompressedBytes?: number;
}

const toOutcome = (e: unknown): Outcome =>
  e instanceof EnclaveVerifyError
    ? { result: 'reject', code: e.code, class: e.errorClass, message: e.message }
    : { result: 'error', message: `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}` };

function hexRecord(pcrs: Iterable<[number, Uint8Array]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, v] of pcrs) out[String(i)] = toHex(v);
  return out;
}

async function attestation(c: Extract<VectorCase, { kind: 'attestation' }>, io: VectorIo): Promise<Outcome> {
  const bytes = await io.read(new URL(c.input.file, c.base));
  const o = c.options;
  const trustedRoots = o.trustedRoots
    ? await Promise.all(
        o.trustedRoots.map(async (p) => {
          const b = await io.read(new URL(p, c.base));
          const text = decodeUtf8(b);
          return text?.includes('-----BEGIN') ? text : b;
        }),
      )
    : undefined;
  const result = await verifyAttestation(bytes, {
    ...(trustedRoots ? { trustedRoots } : {}),
    ...(o.at === undefined ? {} : { currentDate: o.at === 'document' ? 'document' : new Date(o.at) }),
    ...(o.expectedPcrs ? { expectedPcrs: o.expectedPcrs } : {}),
    ...(o.nonce === undefined ? {} : { nonce: fromHex(o.nonce) }),
    ...(o.userData === undefined ? {} : { userData: fromHex(o.userData) }),
    ...(o.publicKey === undefined ? {} : { publicKey: fromHex(o.publicKey) }),
    ...(o.maxAgeMs === undefined ? {} : { maxAgeMs: o.maxAgeMs }),
    ...(o.clockSkewMs === undefined ? {} : { clockSkewMs: o.clockSkewMs }),
    ...(o.allowDebug === undefined ? {} : { allowDebug: o.allowDebug }),
    ...(o.documentKind === undefined ? {} : { kind: o.documentKind }),
  });
  return { result: 'accept', pcrs: hexRecord(result.document.pcrs), documentKind: result.document.kind };
}

async function eif(c: Extract<VectorCase, { kind: 'eif' }>, io: VectorIo): Promise<Outcome> {
  const m = await measureEifBytes(await io.read(new URL(c.input.file, c.base)));
  if (m.signature && !m.signature.signatureCheck) {
    // A verifier must not vouch for an image whose signature fails (describe-eif only reports it).
    throw new EnclaveVerifyError(
      'ERR_EIF_SIGNATURE',
      `the EIF's signature does not hold: ${m.signature.reason ?? 'signature check failed'}`,
    );
  }
  const pcrs: Record<string, string> = {
    '0': toHex(m.pcrs.pcr0),
    '1': toHex(m.pcrs.pcr1),
    '2': toHex(m.pcrs.pcr2),
  };
  if (m.pcrs.pcr8) pcrs['8'] = toHex(m.pcrs.pcr8);
  return { result: 'accept', pcrs, describe: describeEif(m) };
}

async function expectedPcrs(
  c: Extract<VectorCase, { kind: 'expected-pcrs' }>,
  io: VectorIo,
): Promise<Outcome> {
  const text = decodeUtf8(await io.read(new URL(c.input.file, c.base)));
  if (text === undefined) {
    throw new EnclaveVerifyError('ERR_EXPECTED_PCRS_FORMAT', 'the expected-PCR file is not UTF-8 text');
  }
  const parsed = parseExpectedPcrs(text, c.options.target === undefined ? {} : { target: c.options.target });
  const pcrs: Record<string, string> = {};
  // Several allowed values per index are reported comma-separated (vectors expect one).
  for (const [i, values] of parsed) pcrs[String(i)] = values.map(toHex).join(',');
  return { result: 'accept', pcrs };
}

async function ramdisk(
  c: Extract<VectorCase, { kind: 'ramdisk' }>,
  io: VectorIo,
  options: LibraryExecutorOptions,
): Promise<Outcome> {
  const read = (p: string) => io.read(new URL(p, c.base));
  if (c.input.recipe === 'read') {
    let bytes = await read(c.input.archive!);
    const max = options.maxDecompressedBytes ?? 256 * 2 ** 20;
    const isCpio = (b: Uint8Array) => /^07070[12]$/.test(String.fromCharCode(...b.subarray(0, 6)));
    if (isCpio(bytes) || (bytes[0] === 0x1f && bytes[1] === 0x8b)) {
      // Read as the kernel and the `ramdisk` commands read a ramdisk: every member, gzip or
      // plain newc, NUL padding between; not just the first gzip member.
      const { cpio, members } = readInitramfs(bytes, c.input.archive!, { maxBytes: max });
      if (isCpio(cpio)) {
        const entries = readCpio(cpio);
        treeFromCpio(entries); // path safety checks live here
        return { result: 'accept', entries: entries.length };
      }
      // A gzip'd tar: one member, no initramfs.
      if (members.length !== 1) {
        throw new EnclaveVerifyError(
          'ERR_ARCHIVE_MALFORMED',
          `${c.input.archive}: ${members.length} members that are not newc cpio archives; a gzip'd tar is one gzip member`,
        );
      }
      bytes = cpio;
    }
    let entries = 0;
    const counted = async function* () {
      for await (const e of readTar(memorySource(bytes), { label: c.input.archive! })) {
        entries++;
        yield e;
      }
    };
    await applyLayer(new FileTree(), counted());
    return { result: 'accept', entries };
  }
  if (c.input.recipe === 'nitro-cli') return nitroCli(c, read);
  const tree = await treeFromTar(memorySource(await read(c.input.app!)), { label: c.input.app! });
  const overlays = await Promise.all((c.input.overlays ?? []).map(read));
  await buildCautionTree(
    tree,
    overlays.map((b, i) => readTar(memorySource(b), { label: c.input.overlays![i]! })),
  );
  const cpio = new ByteChunks();
  const gz = new ByteChunks();
  await archiveTree(tree, new BusyboxGzipEncoder(), {
    cpio: (x) => cpio.push(x.slice()),
    compressed: (x) => gz.push(x),
  });
  return {
    result: 'accept',
    cpioSha256: toHex(await sha256(cpio.join())),
    gzipSha256: toHex(await sha256(gz.join())),
  };
}

async function nitroCli(
  c: Extract<VectorCase, { kind: 'ramdisk' }>,
  read: (p: string) => Promise<Uint8Array>,
): Promise<Outcome> {
  const image = await openImage(
    await tarImageFiles(memorySource(await read(c.input.image!)), c.input.image!),
  );
  if (image.config === undefined)
    throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', 'the image has no config');
  const layers = [];
  for (let i = 0; i < image.layers.length; i++) layers.push(readTar(await image.layerSource(i)));
  const customer = await nitroCliCustomerEntries({ layers, config: dockerImageConfig(image.config) });
  const cpio = new ByteChunks();
  for await (const x of writeLinuxkitCpio(customer.entries)) cpio.push(x.slice());
  const bytes = cpio.join();
  const outcome: Outcome = {
    result: 'accept',
    cpioSha256: toHex(await sha256(bytes)),
    cpioSize: bytes.length,
    pcrs: { '2': toHex(extendPcr(sha384Sync(bytes))) },
  };
  if (c.input.kernel !== undefined) {
    const boot = new ByteChunks();
    const blob = async (p: string) => memoryData(await read(p));
    for await (const x of writeLinuxkitCpio(
      nitroCliBootstrapEntries(await blob(c.input.init!), await blob(c.input.nsm!)),
    )) {
      boot.push(x.slice());
    }
    // nitro-cli trims its cmdline file (Rust str::trim).
    const cmdlineText = decodeUtf8(await read(c.input.cmdline!));
    if (cmdlineText === undefined) {
      throw new EnclaveVerifyError('ERR_INPUT_FORMAT', `${c.input.cmdline}: the cmdline blob is not UTF-8`);
    }
    const cmdline = cmdlineText.trim();
    const pcrs = pcrsFromParts({
      kernel: await read(c.input.kernel),
      cmdline,
      ramdisks: [boot.join(), bytes],
    });
    outcome.pcrs = { '0': toHex(pcrs.pcr0), '1': toHex(pcrs.pcr1), '2': toHex(pcrs.pcr2) };
  }
  return outcome;
}

/**
 * The executor that runs cases with this library. Inputs are read through `io`; a thrown
 * {@link EnclaveVerifyError} is a rejection, anything else an error (a bug, which fails the case).
 *
 * @example
 * ```ts
 * const io = { read: async (url: URL) => new Uint8Array(await (await fetch(url)).arrayBuffer()) };
 * const report = await runCases(cases, libraryExecutor(io));
 * ```
 */
export function libraryExecutor(io: VectorIo, options: LibraryExecutorOptions = {}): Executor {
  return async (c) => {
    const missing = options.unavailable?.get(c.id);
    if (missing !== undefined) return { result: 'skip', reason: missing };
    try {
      switch (c.kind) {
        case 'attestation':
          return await attestation(c, io);
        case 'eif':
          return await eif(c, io);
        case 'expected-pcrs':
          return await expectedPcrs(c, io);
        case 'ramdisk':
          return await ramdisk(c, io, options);
      }
    } catch (e) {
      return toOutcome(e);
    }
  };
}
