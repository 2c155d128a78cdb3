/**
 * nitro-cli's ramdisk recipe (`nitro-cli build-enclave`, v1.4/1.5; SPEC 3.3): the customer
 * ramdisk (the image's export under `rootfs/`, then the YAML files `rootfs/{dev,run,sys,var,
 * proc,tmp}`, `cmd`, `env`) and the bootstrap ramdisk (`dev`, `init`, `nsm.ko`), both written
 * by linuxkit uncompressed. Runtime-agnostic: layers come in as tar entry streams, the output
 * goes out as chunks; the Node wrapper (`node/nitro-cli.ts`) does files and hashing.
 */
import { EnclaveVerifyError } from '../errors.js';
import { type DockerImageConfig, DockerRootfs } from './docker-export.js';
import {
  LINUXKIT_TOUCHED,
  type LinuxkitEntry,
  linuxkitFiles,
  linuxkitImageTar,
  NITRO_ROOTFS_PREFIX,
  writeLinuxkitCpio,
} from './linuxkit.js';
import { pathFromText, pathToBytes, pathToText } from './paths.js';
import type { TarEntry } from './tar.js';
import { type FileData, memoryData } from './tree.js';

/**
 * The `cmd` and `env` files nitro-cli writes: `Cmd` (or, when `Cmd` is null, `Entrypoint`)
 * one element per line, and `Env` the same way (empty when null), each line ending in `\n`.
 *
 * @example
 * ```ts
 * nitroCliCmdEnv({ cmd: ['/app', '--serve'], entrypoint: null, env: null, workingDir: '' });
 * // { cmd: '/app\n--serve\n', env: '' }
 * ```
 */
export function nitroCliCmdEnv(config: DockerImageConfig): { cmd: string; env: string } {
  const cmd = config.cmd ?? config.entrypoint;
  if (cmd === null) {
    throw new EnclaveVerifyError(
      'ERR_RECIPE',
      'the image has neither Cmd nor Entrypoint; nitro-cli refuses it (UnsupportedEntryPoint). Give --cmd for an exported root file system',
    );
  }
  const lines = (list: string[]) => list.map((l) => `${l}\n`).join('');
  return { cmd: lines(cmd), env: lines(config.env ?? []) };
}

/** Options of {@link nitroCliCustomerEntries}. */
export interface NitroCliCustomerOptions {
  /** Layer tars in order (bottom first), as entry streams. */
  layers: Iterable<AsyncIterable<TarEntry> | Iterable<TarEntry>>;
  config: DockerImageConfig;
  /** mtime assumed for directories Docker creates at extraction time (SPEC 3.3); default 0. */
  implicitMtime?: number;
}

/** The customer ramdisk's entry stream and what it depends on. */
export interface NitroCliCustomer {
  entries: LinuxkitEntry[];
  cmd: string;
  env: string;
  /**
   * Entries (as written, under `rootfs/`) whose mtime is the time Docker ran in nitro-cli's
   * build, replaced here by `implicitMtime`: a PCR2 computed by nitro-cli for such an image
   * depends on when it ran.
   */
  implicitEntries: string[];
}

/**
 * Build the customer ramdisk's entries from an image: Docker's layer extraction, container
 * creation and export, linuxkit's filter under `rootfs/`, then nitro-cli's files section.
 *
 * @example
 * ```ts
 * const c = await nitroCliCustomerEntries({ layers: [readTar(memorySource(layer))], config });
 * for await (const chunk of writeLinuxkitCpio(c.entries)) hash.update(chunk);
 * ```
 */
export async function nitroCliCustomerEntries(o: NitroCliCustomerOptions): Promise<NitroCliCustomer> {
  const { cmd, env } = nitroCliCmdEnv(o.config);
  const rootfs = new DockerRootfs({ implicitMtime: o.implicitMtime ?? 0 });
  for (const layer of o.layers) await rootfs.applyLayer(layer);
  rootfs.createContainer(o.config);
  const implicitEntries: string[] = [];
  const exported = [...rootfs.exportEntries()];
  for (const e of exported) {
    if (e.inode && rootfs.implicit.has(e.inode) && !LINUXKIT_TOUCHED.has(e.name) && e.type !== 'hardlink') {
      const excluded = ['.dockerenv', 'Dockerfile', 'dev/console', 'etc/hostname'].includes(e.name);
      if (!excluded) implicitEntries.push(pathToText(NITRO_ROOTFS_PREFIX + e.name));
    }
  }
  const entries = [
    ...linuxkitImageTar(exported, NITRO_ROOTFS_PREFIX),
    ...linuxkitFiles([
      ...['dev', 'run', 'sys', 'var', 'proc', 'tmp'].map((d) => ({
        path: `rootfs/${d}`,
        directory: true,
        mode: 0o755,
      })),
      { path: 'cmd', data: memoryData(pathToBytes(pathFromText(cmd))), mode: 0o644 },
      { path: 'env', data: memoryData(pathToBytes(pathFromText(env))), mode: 0o644 },
    ]),
  ];
  return { entries, cmd, env, implicitEntries };
}

/**
 * The bootstrap ramdisk's entries (nitro-cli's bootstrap YAML: `dev` 0755, `init` 0755,
 * `nsm.ko` 0755).
 *
 * @example
 * ```ts
 * const cpio = writeLinuxkitCpio(nitroCliBootstrapEntries(memoryData(init), memoryData(nsm)));
 * ```
 */
export function nitroCliBootstrapEntries(init: FileData, nsm: FileData): LinuxkitEntry[] {
  return [
    ...linuxkitFiles([
      { path: 'dev', directory: true, mode: 0o755 },
      { path: 'init', data: init, mode: 0o755 },
      { path: 'nsm.ko', data: nsm, mode: 0o755 },
    ]),
  ];
}

export { writeLinuxkitCpio };
