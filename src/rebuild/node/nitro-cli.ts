/**
 * The nitro-cli recipe end to end on files: read the image (a `docker save` tar, an OCI layout
 * as a directory or tar, or an exported root file system with its cmd/env given), write
 * `customer-initrd.img` and PCR2 in one streaming pass; with nitro-cli's blobs also
 * `bootstrap-initrd.img`, `enclave.eif` (eif_build's layout) and PCR0/PCR1; compare the
 * ramdisks with a reference EIF entry by entry when asked.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EnclaveVerifyError } from '../../errors.js';
import { writeEifFile } from '../../measure/node/write-file.js';
import { extendPcr } from '../../measure/pcr.js';
import { toHex } from '../../util/bytes.js';
import { type DockerImageConfig, dockerImageConfig } from '../docker-export.js';
import { type ImageFiles, type ImageLayerInfo, isImage, openImage, tarImageFiles } from '../image.js';
import type { LinuxkitEntry } from '../linuxkit.js';
import { nitroCliBootstrapEntries, nitroCliCustomerEntries, writeLinuxkitCpio } from '../nitro-cli.js';
import { diffRamdisks, type RamdiskDiff } from '../ramdisk.js';
import { readTar, type TarEntry } from '../tar.js';
import { directoryFiles, type FileSource, openFileSource, writeAll } from './fs.js';
import { nodeImageIo } from './image-io.js';
import { ramdisksFromFile } from './ramdisk-file.js';

/** nitro-cli's blobs, by part. */
export interface NitroCliBlobs {
  /** `bzImage` (x86_64) or `Image` (aarch64). */
  kernel: string;
  /** The `cmdline` file (trimmed before use, as nitro-cli does). */
  cmdline: string;
  init: string;
  nsm: string;
}

/** Options of {@link rebuildNitroCli}. */
export interface NitroCliRebuildOptions {
  /** `docker save` tar, OCI layout (directory or tar), or an exported root file system tar. */
  image: string;
  /** `auto` (default) tells an image from an exported root file system. */
  imageFormat?: 'auto' | 'image' | 'export';
  /** For an exported root file system: the command, one element each (nitro-cli's `cmd`). */
  cmd?: string[];
  /** For an exported root file system: `NAME=value` entries (nitro-cli's `env`). */
  env?: string[];
  /** Platform picked from a multi-platform OCI index (default linux/amd64). */
  platform?: string;
  /** nitro-cli's blob directory (`bzImage` or `Image`, `cmdline`, `init`, `nsm.ko`). */
  blobs?: string;
  /** The blobs one by one (all four, instead of `blobs`). */
  parts?: Partial<NitroCliBlobs>;
  /** Output directory (created). */
  outDir: string;
  /** mtime assumed for directories Docker creates at extraction time (seconds; default 0). */
  implicitMtime?: number;
  /** `--build-time` of the EIF metadata (not measured). */
  buildTime?: string;
  /** An EIF (or ramdisk file) to compare both ramdisks with, entry by entry. */
  reference?: string;
}

/** A written ramdisk. */
export interface WrittenRamdisk {
  path: string;
  size: number;
  sha256: string;
  entries: number;
}

/** Result of comparing one rebuilt ramdisk with a reference ramdisk. */
export interface NitroCliReferenceResult {
  ramdisk: 'bootstrap' | 'customer';
  label: string;
  identical: boolean;
  diff: RamdiskDiff;
}

/** What {@link rebuildNitroCli} produced. */
export interface NitroCliRebuildResult {
  imageFormat: 'image' | 'export';
  layers?: ImageLayerInfo[];
  cmd: string;
  env: string;
  customer: WrittenRamdisk;
  bootstrap?: WrittenRamdisk;
  /** Resolved blob files, when given. */
  blobs?: NitroCliBlobs & { cmdlineText: string };
  eif?: { path: string; size: number };
  /** PCRs as lowercase hex; PCR0/PCR1 only with the blobs. */
  pcrs: { PCR0?: string; PCR1?: string; PCR2: string };
  /** Why PCRs are absent, for reports. */
  notComputed?: string;
  /** Entries whose mtime is Docker's extraction time in nitro-cli's build (assumed here). */
  implicitEntries: string[];
  implicitMtime: number;
  warnings: string[];
  reference?: NitroCliReferenceResult[];
}

function usage(message: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_USAGE', message);
}

/**
 * The four blob files from a blob directory or from parts (every part required).
 *
 * @example
 * ```ts
 * resolveNitroCliBlobs({ blobs: '/usr/share/nitro_enclaves/blobs' });
 * ```
 */
export function resolveNitroCliBlobs(o: {
  blobs?: string;
  parts?: Partial<NitroCliBlobs>;
}): NitroCliBlobs | undefined {
  const given = Object.entries(o.parts ?? {}).filter(([, v]) => v !== undefined);
  if (o.blobs !== undefined && given.length > 0) {
    throw usage(`give the blob directory or the parts (--kernel, --cmdline, --init, --nsm), not both`);
  }
  if (o.blobs !== undefined) {
    const kernel = ['bzImage', 'Image'].map((k) => join(o.blobs!, k)).find((p) => existsSync(p));
    if (!kernel) {
      throw new EnclaveVerifyError('ERR_IO', `blob directory ${o.blobs} has neither bzImage nor Image`);
    }
    const blobs = {
      kernel,
      cmdline: join(o.blobs, 'cmdline'),
      init: join(o.blobs, 'init'),
      nsm: join(o.blobs, 'nsm.ko'),
    };
    for (const [what, p] of Object.entries(blobs)) {
      if (!existsSync(p))
        throw new EnclaveVerifyError('ERR_IO', `blob directory ${o.blobs} has no ${basename(p)} (${what})`);
    }
    return blobs;
  }
  if (given.length === 0) return undefined;
  const missing = (['kernel', 'cmdline', 'init', 'nsm'] as const).filter((k) => o.parts?.[k] === undefined);
  if (missing.length > 0) {
    throw usage(`PCR0/PCR1 need all four blobs: missing --${missing.join(', --')} (or give --blobs DIR)`);
  }
  return o.parts as NitroCliBlobs;
}

/** nitro-cli reads the cmdline blob and trims surrounding whitespace (Rust `str::trim`). */
function readCmdline(path: string): string {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(readBlob(path));
  return text.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, '');
}

function readBlob(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (cause) {
    throw new EnclaveVerifyError('ERR_IO', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
}

async function writeRamdisk(
  path: string,
  entries: LinuxkitEntry[],
  extra?: (chunk: Uint8Array) => void,
): Promise<WrittenRamdisk & { sha384: Uint8Array }> {
  const fd = openSync(path, 'w');
  const h256 = createHash('sha256');
  const h384 = createHash('sha384');
  let size = 0;
  try {
    // 1 MiB reads of file contents: a quarter of the read calls and allocations of the default.
    for await (const chunk of writeLinuxkitCpio(entries, { readSize: 1024 * 1024 })) {
      writeAll(fd, chunk);
      h256.update(chunk);
      h384.update(chunk);
      extra?.(chunk);
      size += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  return {
    path,
    size,
    sha256: h256.digest('hex'),
    sha384: new Uint8Array(h384.digest()),
    entries: entries.length,
  };
}

/**
 * Rebuild nitro-cli's ramdisks (and, with the blobs, the EIF and PCR0/PCR1) from an image.
 *
 * @example
 * ```ts
 * const r = await rebuildNitroCli({ image: 'app.docker.tar', blobs: '/usr/share/nitro_enclaves/blobs', outDir: 'out' });
 * console.log(r.pcrs.PCR2, r.customer.sha256);
 * ```
 */
export async function rebuildNitroCli(o: NitroCliRebuildOptions): Promise<NitroCliRebuildResult> {
  const blobs = resolveNitroCliBlobs(o);
  const implicitMtime = o.implicitMtime ?? 0;
  if (!Number.isSafeInteger(implicitMtime) || implicitMtime < 0 || implicitMtime > 0xffffffff) {
    throw usage(`--implicit-mtime must be whole seconds between 0 and 4294967295, not ${implicitMtime}`);
  }
  const opened: FileSource[] = [];
  const io = nodeImageIo();
  try {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(o.image);
    } catch (cause) {
      throw new EnclaveVerifyError(
        'ERR_IO',
        `cannot read the image '${o.image}': ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    let files: ImageFiles;
    let source: FileSource | undefined;
    if (st.isDirectory()) {
      if (!existsSync(join(o.image, 'oci-layout'))) {
        throw usage(
          `'${o.image}' is a directory without oci-layout; give an OCI layout, a docker save tar or an exported tar`,
        );
      }
      files = directoryFiles(o.image, opened);
    } else {
      source = openFileSource(o.image);
      opened.push(source);
      files = await tarImageFiles(source, o.image);
    }
    const format =
      o.imageFormat && o.imageFormat !== 'auto' ? o.imageFormat : (await isImage(files)) ? 'image' : 'export';
    let config: DockerImageConfig;
    let layers: (AsyncIterable<TarEntry> | Iterable<TarEntry>)[];
    let layerInfo: ImageLayerInfo[] | undefined;
    if (format === 'image') {
      if (o.cmd !== undefined || o.env !== undefined) {
        throw usage(
          "--cmd and --env are for an exported root file system; an image's config gives Cmd and Env",
        );
      }
      const image = await openImage(files, {
        ...io.options,
        ...(o.platform ? { platform: o.platform } : {}),
      });
      if (image.config === undefined) {
        throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `'${o.image}' has no image config (Cmd, Env)`);
      }
      config = dockerImageConfig(image.config);
      layerInfo = image.layers;
      // Layers are decompressed one at a time, as they are applied.
      layers = image.layers.map((l, i) => ({
        async *[Symbol.asyncIterator]() {
          yield* readTar(await image.layerSource(i), { label: `layer ${l.path}` });
        },
      }));
    } else {
      if (!source) throw usage(`'${o.image}' is not a tar file`);
      if (o.cmd === undefined) {
        throw usage(
          'an exported root file system has no image config: give the command with --cmd (repeat per argument)',
        );
      }
      config = { cmd: o.cmd, entrypoint: null, env: o.env ?? null, workingDir: '' };
      layers = [readTar(source, { label: o.image })];
    }
    const customer = await nitroCliCustomerEntries({ layers, config, implicitMtime });
    mkdirSync(o.outDir, { recursive: true });
    const warnings: string[] = [];
    if (customer.implicitEntries.length > 0) {
      const shown = customer.implicitEntries.slice(0, 20).join(', ');
      const more =
        customer.implicitEntries.length > 20 ? ` and ${customer.implicitEntries.length - 20} more` : '';
      warnings.push(
        `the image's layers omit parent directories (or its WorkingDir is missing), which Docker creates at the time nitro-cli runs: ${shown}${more} got mtime ${implicitMtime} (--implicit-mtime); nitro-cli's PCR2 for this image depends on when it was built`,
      );
    }
    const { sha384: customerSha384, ...customerWritten } = await writeRamdisk(
      join(o.outDir, 'customer-initrd.img'),
      customer.entries,
    );
    const result: NitroCliRebuildResult = {
      imageFormat: format,
      ...(layerInfo ? { layers: layerInfo } : {}),
      cmd: customer.cmd,
      env: customer.env,
      customer: customerWritten,
      pcrs: { PCR2: toHex(extendPcr(customerSha384)) },
      implicitEntries: customer.implicitEntries,
      implicitMtime,
      warnings,
    };
    const bootstrapPath = join(o.outDir, 'bootstrap-initrd.img');
    const eifPath = join(o.outDir, 'enclave.eif');
    if (blobs) {
      const cmdlineText = readCmdline(blobs.cmdline);
      const fileData = (path: string) => {
        const s = openFileSource(path);
        opened.push(s);
        return { size: s.size, bytes: () => s.read(0, s.size), read: (a: number, n: number) => s.read(a, n) };
      };
      const boot = await writeRamdisk(
        bootstrapPath,
        nitroCliBootstrapEntries(fileData(blobs.init), fileData(blobs.nsm)),
      );
      const { sha384: _unused, ...bootstrap } = boot;
      result.bootstrap = bootstrap;
      result.blobs = { ...blobs, cmdlineText };
      const written = await writeEifFile({
        kernel: blobs.kernel,
        cmdline: cmdlineText,
        ramdisks: [bootstrapPath, customerWritten.path],
        output: eifPath,
        arch: basename(blobs.kernel) === 'Image' ? 'aarch64' : 'x86_64',
        ...(o.buildTime ? { buildTime: o.buildTime } : {}),
      });
      result.eif = { path: eifPath, size: written.size };
      const pcr2 = toHex(written.pcrs.pcr2);
      if (pcr2 !== result.pcrs.PCR2) {
        throw new EnclaveVerifyError(
          'ERR_IO',
          'the customer ramdisk changed on disk while the EIF was written; retry',
        );
      }
      result.pcrs = { PCR0: toHex(written.pcrs.pcr0), PCR1: toHex(written.pcrs.pcr1), PCR2: pcr2 };
    } else {
      // Files an earlier run left here would sit next to a ramdisk they do not contain.
      rmSync(bootstrapPath, { force: true });
      rmSync(eifPath, { force: true });
      result.notComputed =
        'PCR0 and PCR1 were not computed: they cover the kernel, cmdline and bootstrap ramdisk; give --blobs DIR (or --kernel --cmdline --init --nsm)';
    }
    if (o.reference) {
      const refs = await ramdisksFromFile(o.reference);
      const compared: NitroCliReferenceResult[] = [];
      const pairs: ['bootstrap' | 'customer', string | undefined, number][] = [
        ['bootstrap', result.bootstrap?.path, 0],
        ['customer', result.customer.path, refs.length - 1],
      ];
      if (refs.length < 2) {
        throw new EnclaveVerifyError(
          'ERR_INPUT_FORMAT',
          `'${o.reference}' holds ${refs.length} ramdisk(s); a nitro-cli EIF holds two (bootstrap, customer)`,
        );
      }
      for (const [which, ours, index] of pairs) {
        if (!ours) continue;
        const ref = refs[index]!;
        const diff = await diffRamdisks(new Uint8Array(readFileSync(ours)), ref.cpio);
        compared.push({ ramdisk: which, label: ref.label, identical: diff.identical, diff });
      }
      result.reference = compared;
    }
    return result;
  } finally {
    for (const s of opened) s.close();
    io.cleanup();
  }
}
