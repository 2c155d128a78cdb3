/**
 * Container images as file system trees: `docker save` tars (`manifest.json` listing layer
 * paths) and OCI image layouts (`oci-layout`, `index.json`, `blobs/sha256/...`, as a tar or a
 * directory). Layers are applied in order with whiteouts; OCI blobs are checked against their
 * digests; gzip layers are decompressed with the platform's `DecompressionStream`.
 */
import { EnclaveVerifyError } from '../errors.js';
import { toHex } from '../util/bytes.js';
import { sha256 } from '../util/digest.js';
import { readStreamCapped } from '../util/stream.js';
import { applyLayer } from './apply.js';
import { normalizeMemberPath } from './paths.js';
import { type ByteSource, memorySource, readAll, readTar, subSource } from './tar.js';
import { FileTree } from './tree.js';

/** Named files of an image container: the members of a tar, or the files of a directory. */
export interface ImageFiles {
  /** Source of the file at `path` (relative, `/`-separated), or undefined. */
  get(path: string): ByteSource | undefined | Promise<ByteSource | undefined>;
}

/** How a layer was found, for reports. */
export interface ImageLayerInfo {
  path: string;
  digest?: string;
  mediaType?: string;
  compressed: boolean;
}

/** Options of {@link treeFromImage}. */
export interface ImageOptions {
  /** Platform to pick from a multi-platform OCI index; default `linux/amd64`. */
  platform?: string;
  /** Largest decompressed layer accepted, in bytes; default 8 GiB. */
  maxLayerSize?: number;
  /**
   * SHA-256 (lowercase hex) of a blob. Default: read it into memory and use WebCrypto, which
   * has no streaming digest; Node passes a streaming one so blobs stay on disk.
   */
  sha256Hex?: (source: ByteSource) => Promise<string>;
  /** Decompress a gzip layer. Default: `DecompressionStream` into memory; Node spills to a file. */
  gunzip?: (source: ByteSource, limit: number) => Promise<ByteSource>;
  /**
   * Decompress a gzip layer and return the SHA-256 (lowercase hex) of its compressed bytes,
   * computed in the same pass. When given, OCI layer blobs are checked when their layer is
   * read instead of in a separate pass when the image is opened: the check still comes
   * before any of the layer's entries is used, and a large image is read once, not twice.
   */
  gunzipWithSha256?: (source: ByteSource, limit: number) => Promise<{ source: ByteSource; sha256: string }>;
}

function recipeError(message: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_RECIPE', message);
}

/**
 * The members of a tar archive as {@link ImageFiles} (regular files only).
 *
 * @example
 * ```ts
 * const files = await tarImageFiles(openFileSource('image.tar'));
 * ```
 */
export async function tarImageFiles(
  source: ByteSource,
  label = 'image tar',
): Promise<ImageFiles & { paths: string[] }> {
  const files = new Map<string, ByteSource>();
  const links = new Map<string, string>();
  for await (const e of readTar(source, { label })) {
    if (e.type === 'file') files.set(e.path, subSource(source, e.dataOffset, e.data.size));
    else if (e.type === 'hardlink') links.set(e.path, e.linkTarget);
  }
  for (const [path, target] of links) {
    const s = files.get(target);
    if (s) files.set(path, s);
  }
  return { get: (path) => files.get(path), paths: [...files.keys()] };
}

async function readJson(files: ImageFiles, path: string): Promise<unknown> {
  const src = await files.get(path);
  if (!src) return undefined;
  if (src.size > 16 * 1024 * 1024) throw recipeError(`${path} is larger than 16 MiB; not an image manifest`);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await readAll(src)));
  } catch (cause) {
    throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `${path} is not valid JSON`, { cause });
  }
}

/**
 * True when the files look like an image (`oci-layout` or a `docker save` `manifest.json`)
 * rather than an exported root file system.
 *
 * @example
 * ```ts
 * if (await isImage(files)) tree = await treeFromImage(files);
 * ```
 */
export async function isImage(files: ImageFiles): Promise<boolean> {
  if (await files.get('oci-layout')) return true;
  const manifest = await files.get('manifest.json');
  if (!manifest || manifest.size > 16 * 1024 * 1024) return false;
  try {
    const json = JSON.parse(new TextDecoder().decode(await readAll(manifest))) as unknown;
    return Array.isArray(json) && json.some((m) => Array.isArray((m as { Layers?: unknown })?.Layers));
  } catch {
    return false;
  }
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  platform?: { os?: string; architecture?: string; variant?: string };
}

function blobPath(digest: unknown): string {
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    throw new EnclaveVerifyError(
      'ERR_ARCHIVE_MALFORMED',
      `unsupported or malformed digest '${String(digest)}'`,
    );
  }
  return `blobs/sha256/${digest.slice(7)}`;
}

async function verifiedBlob(files: ImageFiles, digest: string, options: ImageOptions): Promise<ByteSource> {
  const path = blobPath(digest);
  const src = await files.get(path);
  if (!src) throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `image is missing blob ${digest}`);
  let checked = src;
  let hex: string;
  if (options.sha256Hex) {
    hex = await options.sha256Hex(src);
  } else {
    const bytes = await readAll(src);
    hex = toHex(await sha256(bytes));
    checked = memorySource(bytes);
  }
  checkDigest(path, digest, hex);
  return checked;
}

function checkDigest(path: string, digest: string, hex: string): void {
  const actual = `sha256:${hex}`;
  if (actual !== digest) {
    throw new EnclaveVerifyError(
      'ERR_ARCHIVE_MALFORMED',
      `blob ${path} has digest ${actual}, not ${digest}`,
      {
        details: { expected: digest, actual },
      },
    );
  }
}

async function ociLayers(
  files: ImageFiles,
  platform: string,
  options: ImageOptions,
): Promise<{
  layers: ImageLayerInfo[];
  sources: ByteSource[];
  unchecked: (string | undefined)[];
  config: unknown;
}> {
  const index = (await readJson(files, 'index.json')) as { manifests?: Descriptor[] } | undefined;
  let manifests = index?.manifests;
  if (!Array.isArray(manifests) || manifests.length === 0) {
    throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', 'OCI layout has no manifests in index.json');
  }
  const [os, arch] = platform.split('/');
  for (let depth = 0; depth < 4; depth++) {
    const matching = manifests.filter(
      (m) => !m.platform || (m.platform.os === os && m.platform.architecture === arch),
    );
    const pick = matching.length === 1 ? matching[0] : manifests.length === 1 ? manifests[0] : undefined;
    if (!pick) {
      throw recipeError(
        `the image holds ${manifests.length} manifests and none is the only one for ${platform}; pass --platform`,
      );
    }
    const doc = JSON.parse(
      new TextDecoder().decode(await readAll(await verifiedBlob(files, pick.digest, options))),
    ) as {
      mediaType?: string;
      manifests?: Descriptor[];
      layers?: Descriptor[];
      config?: Descriptor;
    };
    if (Array.isArray(doc.manifests)) {
      manifests = doc.manifests;
      continue;
    }
    if (!Array.isArray(doc.layers))
      throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', 'image manifest has no layers');
    const layers: ImageLayerInfo[] = [];
    const sources: ByteSource[] = [];
    const unchecked: (string | undefined)[] = [];
    for (const l of doc.layers) {
      const mt = l.mediaType ?? '';
      if (/zstd/.test(mt))
        throw recipeError(
          `layer ${l.digest} is zstd-compressed (${mt}); only tar and tar+gzip are supported`,
        );
      if (options.gunzipWithSha256) {
        // Checked when the layer is read, in the decompression pass (see openImage).
        const path = blobPath(l.digest);
        const src = await files.get(path);
        if (!src) throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `image is missing blob ${l.digest}`);
        sources.push(src);
        unchecked.push(l.digest);
      } else {
        sources.push(await verifiedBlob(files, l.digest, options));
        unchecked.push(undefined);
      }
      layers.push({ path: blobPath(l.digest), digest: l.digest, mediaType: mt, compressed: /gzip/.test(mt) });
    }
    let config: unknown;
    if (doc.config?.digest !== undefined) {
      const src = await verifiedBlob(files, doc.config.digest, options);
      if (src.size > 16 * 1024 * 1024) throw recipeError('the image config is larger than 16 MiB');
      config = parseJson(await readAll(src), 'the image config');
    }
    return { layers, sources, unchecked, config };
  }
  throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', 'OCI image indexes nest too deeply');
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `${what} is not valid JSON`, { cause });
  }
}

async function dockerSaveLayers(
  files: ImageFiles,
): Promise<{ layers: ImageLayerInfo[]; sources: ByteSource[]; unchecked?: undefined; config: unknown }> {
  const manifest = (await readJson(files, 'manifest.json')) as
    | { Layers?: unknown; Config?: unknown }[]
    | undefined;
  if (!Array.isArray(manifest) || manifest.length !== 1 || !Array.isArray(manifest[0]?.Layers)) {
    throw recipeError('docker save manifest.json must describe exactly one image; save one image per file');
  }
  const layers: ImageLayerInfo[] = [];
  const sources: ByteSource[] = [];
  for (const p of manifest[0].Layers as unknown[]) {
    if (typeof p !== 'string')
      throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', 'manifest.json layer is not a path');
    const path = normalizeMemberPath(p, 'manifest.json layer');
    const src = await files.get(path);
    if (!src) throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `image is missing layer ${path}`);
    sources.push(src);
    layers.push({ path, compressed: false });
  }
  const configPath = manifest[0].Config;
  const config =
    typeof configPath === 'string'
      ? await readJson(files, normalizeMemberPath(configPath, 'manifest.json Config'))
      : undefined;
  return { layers, sources, config };
}

async function gunzip(source: ByteSource, limit: number): Promise<ByteSource> {
  const input = await readAll(source);
  const stream = new Blob([input as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'));
  try {
    return memorySource(
      await readStreamCapped(stream, limit, () =>
        recipeError(`a layer decompresses to more than ${limit} bytes; raise the limit if this is expected`),
      ),
    );
  } catch (cause) {
    if (cause instanceof EnclaveVerifyError) throw cause;
    throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', 'a gzip layer is corrupt', { cause });
  }
}

/**
 * The root file system of an image: its layers applied in order, whiteouts honoured.
 *
 * @example
 * ```ts
 * const { tree, layers } = await treeFromImage(await tarImageFiles(openFileSource('app-image.tar')));
 * ```
 */
export async function treeFromImage(
  files: ImageFiles,
  options: ImageOptions = {},
): Promise<{ tree: FileTree; layers: ImageLayerInfo[] }> {
  const image = await openImage(files, options);
  const tree = new FileTree();
  for (let i = 0; i < image.layers.length; i++) {
    const src = await image.layerSource(i);
    await applyLayer(tree, readTar(src, { label: `layer ${image.layers[i]!.path}` }), { whiteouts: true });
  }
  return { tree, layers: image.layers };
}

/** An image opened: its layers in order (decompressed on demand) and its config JSON. */
export interface OpenedImage {
  layers: ImageLayerInfo[];
  /** The image config JSON (`docker save` `Config` file or OCI config blob), if present. */
  config: unknown;
  /** The uncompressed tar of layer `i` (gzip layers are decompressed when asked for). */
  layerSource(i: number): Promise<ByteSource>;
}

/**
 * Open a `docker save` tar or an OCI layout: manifest, config and layer list, blobs checked
 * against their digests. Layers are decompressed one at a time, when asked for.
 *
 * @example
 * ```ts
 * const image = await openImage(await tarImageFiles(src));
 * for (let i = 0; i < image.layers.length; i++) await use(await image.layerSource(i));
 * ```
 */
export async function openImage(files: ImageFiles, options: ImageOptions = {}): Promise<OpenedImage> {
  const found = (await files.get('manifest.json'))
    ? await dockerSaveLayers(files)
    : await ociLayers(files, options.platform ?? 'linux/amd64', options);
  return {
    layers: found.layers,
    config: found.config,
    async layerSource(i: number): Promise<ByteSource> {
      let src = found.sources[i]!;
      const digest = found.unchecked?.[i];
      const limit = options.maxLayerSize ?? 8 * 1024 ** 3;
      const head = await src.read(0, 2);
      const gzip = head[0] === 0x1f && head[1] === 0x8b;
      if (digest !== undefined && options.gunzipWithSha256 && gzip) {
        let out: { source: ByteSource; sha256: string };
        try {
          out = await options.gunzipWithSha256(src, limit);
        } catch (cause) {
          // A blob that is not the one the manifest names is reported as such, not as a
          // corrupt or oversized layer, as when digests were checked first.
          await verifiedBlob({ get: () => src }, digest, options);
          throw cause;
        }
        checkDigest(blobPath(digest), digest, out.sha256);
        found.layers[i]!.compressed = true;
        return out.source;
      }
      if (digest !== undefined) src = await verifiedBlob({ get: () => src }, digest, options);
      if (gzip) {
        src = await (options.gunzip ?? gunzip)(src, limit);
        found.layers[i]!.compressed = true;
      }
      return src;
    },
  };
}
