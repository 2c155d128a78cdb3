/**
 * The `manifest` an attestation endpoint sends next to the document: build provenance (commits
 * of the app, EnclaveOS and framework sources). It is NOT signed or measured, so it is only ever
 * displayed, labelled as unverified, and never used as evidence.
 */
import { printable } from './response.js';

/** One provenance entry of the manifest, e.g. `app_source`. */
export interface ManifestSource {
  /** The manifest key (`app_source`, `enclave_source`, `framework_source`, ...). */
  name: string;
  /** A repository or archive URL when the entry gives one. */
  url: string | undefined;
  /** A commit or ref when the entry gives one. */
  commit: string | undefined;
}

/** A display-only view of the manifest. `signed` is always false: a reminder, not a flag. */
export interface ManifestView {
  signed: false;
  /** Provenance entries (`*_source` keys) in the order sent. */
  sources: ManifestSource[];
  /** Other scalar fields (version, binary, run_command...), as short strings. */
  fields: Record<string, string>;
  /** The manifest as received, bounded in depth and size, for the JSON output and the audit record. */
  raw: unknown;
}

const MAX_TEXT = 200;
const MAX_ENTRIES = 32;
const MAX_DEPTH = 6;

/**
 * A copy of untrusted JSON small and shallow enough to print and re-serialise safely: a hostile
 * endpoint could nest a manifest deep enough to overflow JSON.stringify's recursion.
 */
function bounded(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.length > 1024 ? `${value.slice(0, 1024)}...` : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested too deep; omitted]';
  if (Array.isArray(value)) return value.slice(0, MAX_ENTRIES).map((v) => bounded(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, MAX_ENTRIES)) {
    out[k.slice(0, 64)] = bounded(v, depth + 1);
  }
  return out;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return printable(value.slice(0, MAX_TEXT));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * A bounded, display-only view of a manifest; `undefined` when the endpoint sent none or sent
 * something other than a JSON object.
 *
 * @example
 * ```ts
 * describeManifest({ app_source: { url: 'https://git.example/app', commit: 'abc123' } });
 * // { signed: false, sources: [{ name: 'app_source', url: 'https://git.example/app', commit: 'abc123' }], ... }
 * ```
 */
export function describeManifest(manifest: unknown): ManifestView | undefined {
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) return undefined;
  const sources: ManifestSource[] = [];
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(manifest as Record<string, unknown>).slice(0, MAX_ENTRIES)) {
    const name = key.slice(0, 64);
    if (key.endsWith('_source')) {
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        const v = value as Record<string, unknown>;
        sources.push({
          name,
          url: text(v.url ?? v.repository ?? v.repo ?? v.archive_url),
          commit: text(v.commit ?? v.rev ?? v.ref ?? v.git_commit),
        });
      } else {
        sources.push({ name, url: text(value), commit: undefined });
      }
      continue;
    }
    const t = text(value);
    if (t !== undefined) fields[name] = t;
  }
  return { signed: false, sources, fields, raw: bounded(manifest, 0) };
}
