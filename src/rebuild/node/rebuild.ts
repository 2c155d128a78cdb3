/**
 * The Caution recipe end to end on files: load the app (docker export tar, directory, OCI
 * layout or docker save), lay the overlays over it, write `rootfs.cpio` and `rootfs.cpio.gz`
 * in one streaming pass, build `enclave.eif` and its PCRs with the measure stage, and compare
 * with a reference ramdisk when asked.
 */

import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EnclaveVerifyError } from '../../errors.js';
import { writeEifFile } from '../../measure/node/write-file.js';
import type { EifPcrs } from '../../measure/pcr.js';
import { extractOverlay } from '../apply.js';
import { archiveTree, buildCautionTree, CAUTION_CMDLINE, type StreamCompressor } from '../caution.js';
import { BusyboxGzipEncoder } from '../gzip/gzip.js';
import { type ImageFiles, type ImageLayerInfo, isImage, tarImageFiles, treeFromImage } from '../image.js';
import { treeFromTar } from '../load.js';
import { diffRamdisks, type RamdiskDiff } from '../ramdisk.js';
import { readTar } from '../tar.js';
import type { FileTree } from '../tree.js';
import { directoryFiles, type FileSource, openFileSource, treeFromDirectory, writeAll } from './fs.js';
import { nodeImageIo } from './image-io.js';
import { ramdisksFromFile } from './ramdisk-file.js';

/** How the application is given. */
export type AppFormat = 'auto' | 'export' | 'dir' | 'image';

/** Options of {@link rebuildCaution}. */
export interface CautionRebuildOptions {
  /**
   * `caution` (default): the full recipe. `plain`: archive the tree as given, overlays
   * extracted but nothing normalised (re-archiving an extracted ramdisk, for audits).
   */
  recipe?: 'caution' | 'plain';
  /** docker export tar, root directory, OCI layout (dir or tar) or docker save tar. */
  app: string;
  appFormat?: AppFormat;
  /** Platform picked from a multi-platform OCI index (default linux/amd64). */
  platform?: string;
  /** Overlay tars, applied in order. */
  overlays: string[];
  /** bzImage: with it, `enclave.eif` is built and PCRs computed. */
  kernel?: string;
  /** Kernel command line; default Caution's (SPEC 3.1). */
  cmdline?: string;
  /** Output directory (created). */
  outDir: string;
  /** `--build-time` for the EIF metadata (not measured). */
  buildTime?: string;
  /** Reference ramdisk (cpio, cpio.gz or EIF) to compare with. */
  reference?: string;
  /** Compressor override (tests); default busybox-compatible gzip. */
  compressor?: StreamCompressor;
}

/** What {@link rebuildCaution} produced. */
export interface CautionRebuildResult {
  appFormat: Exclude<AppFormat, 'auto'>;
  layers?: ImageLayerInfo[];
  entries: number;
  cpio: { path: string; size: number; sha256: string };
  cpioGz: { path: string; size: number; sha256: string };
  eif?: { path: string; size: number; cmdline: string; pcrs: EifPcrs };
  reference?: {
    path: string;
    label: string;
    cpioIdentical: boolean;
    gzIdentical?: boolean;
    diff: RamdiskDiff;
  };
}

async function detectFormat(app: string, want: AppFormat): Promise<Exclude<AppFormat, 'auto'>> {
  if (want !== 'auto') return want;
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(app);
  } catch (cause) {
    throw new EnclaveVerifyError('ERR_IO', `cannot read the app '${app}': ${(cause as Error).message}`, {
      cause,
    });
  }
  if (st.isDirectory()) return existsSync(join(app, 'oci-layout')) ? 'image' : 'dir';
  const src = openFileSource(app);
  try {
    return (await isImage(await tarImageFiles(src, app))) ? 'image' : 'export';
  } finally {
    src.close();
  }
}

/**
 * Run the Caution recipe and write its outputs under `outDir`.
 *
 * @example
 * ```ts
 * const r = await rebuildCaution({ app: 'app.tar', overlays: ['enclaveos.tar'], kernel: 'bzImage', outDir: 'out' });
 * console.log(toHex(r.eif!.pcrs.pcr0));
 * ```
 */
export async function rebuildCaution(o: CautionRebuildOptions): Promise<CautionRebuildResult> {
  const opened: FileSource[] = [];
  const imageIo = nodeImageIo();
  try {
    const appFormat = await detectFormat(o.app, o.appFormat ?? 'auto');
    let tree: FileTree;
    let layers: ImageLayerInfo[] | undefined;
    if (appFormat === 'dir') {
      tree = treeFromDirectory(o.app);
    } else if (appFormat === 'export') {
      const src = openFileSource(o.app);
      opened.push(src);
      tree = await treeFromTar(src, { label: o.app });
    } else {
      let files: ImageFiles;
      if (statSync(o.app).isDirectory()) {
        files = directoryFiles(o.app, opened);
      } else {
        const src = openFileSource(o.app);
        opened.push(src);
        files = await tarImageFiles(src, o.app);
      }
      ({ tree, layers } = await treeFromImage(files, {
        ...imageIo.options,
        ...(o.platform ? { platform: o.platform } : {}),
      }));
    }
    const overlays = o.overlays.map((path) => {
      const src = openFileSource(path);
      opened.push(src);
      return readTar(src, { label: path });
    });
    if (o.recipe === 'plain') for (const overlay of overlays) await extractOverlay(tree, overlay);
    else await buildCautionTree(tree, overlays);

    mkdirSync(o.outDir, { recursive: true });
    const cpioPath = join(o.outDir, 'rootfs.cpio');
    const gzPath = join(o.outDir, 'rootfs.cpio.gz');
    const cpioFd = openSync(cpioPath, 'w');
    const gzFd = openSync(gzPath, 'w');
    const cpioHash = createHash('sha256');
    const gzHash = createHash('sha256');
    let sizes: { cpioSize: number; compressedSize: number };
    try {
      sizes = await archiveTree(tree, o.compressor ?? new BusyboxGzipEncoder(), {
        cpio: (c) => {
          cpioHash.update(c);
          writeAll(cpioFd, c);
        },
        compressed: (c) => {
          gzHash.update(c);
          writeAll(gzFd, c);
        },
      });
    } finally {
      closeSync(cpioFd);
      closeSync(gzFd);
    }
    const result: CautionRebuildResult = {
      appFormat,
      ...(layers ? { layers } : {}),
      entries: tree.size,
      cpio: { path: cpioPath, size: sizes.cpioSize, sha256: cpioHash.digest('hex') },
      cpioGz: { path: gzPath, size: sizes.compressedSize, sha256: gzHash.digest('hex') },
    };
    if (o.kernel) {
      const cmdline = o.cmdline ?? CAUTION_CMDLINE;
      const eifPath = join(o.outDir, 'enclave.eif');
      const written = await writeEifFile({
        kernel: o.kernel,
        cmdline,
        ramdisks: [gzPath],
        output: eifPath,
        ...(o.buildTime ? { buildTime: o.buildTime } : {}),
      });
      result.eif = { path: eifPath, size: written.size, cmdline, pcrs: written.pcrs };
    } else {
      // An EIF an earlier run left here would sit next to a ramdisk it does not contain.
      rmSync(join(o.outDir, 'enclave.eif'), { force: true });
    }
    if (o.reference) {
      const refs = await ramdisksFromFile(o.reference);
      const ref = refs[refs.length - 1];
      if (!ref) throw new EnclaveVerifyError('ERR_INPUT_FORMAT', `'${o.reference}' holds no ramdisk`);
      const ours = new Uint8Array(readFileSync(cpioPath));
      const diff = await diffRamdisks(ours, ref.cpio);
      result.reference = {
        path: o.reference,
        label: ref.label,
        cpioIdentical: diff.identical,
        ...(ref.compressed
          ? {
              gzIdentical: createHash('sha256').update(ref.compressed).digest('hex') === result.cpioGz.sha256,
            }
          : {}),
        diff,
      };
    }
    return result;
  } finally {
    for (const s of opened) s.close();
    imageIo.cleanup();
  }
}
