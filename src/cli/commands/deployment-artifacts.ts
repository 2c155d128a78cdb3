/**
 * Caution artifacts `deployment` can write about what it just checked: `--save-pcrs FILE`, a
 * `trusted_hashes.json` as `caution verify` writes it, and `--evidence FILE`, a Canary evidence
 * bundle v0 byte for byte in Canary's form, so our probes produce Canary's artifacts.
 */
import { copyFile, lstat, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { buildEvidenceBundle } from '../../canary/evidence.js';
import { canonicalJson, JsonFloat, type JsonValue, parseStrictJson } from '../../canary/jcs.js';
import { isIdentifier } from '../../canary/reasons.js';
import type { DeploymentTransport } from '../../deployment/transport.js';
import type { DeploymentProbe } from '../../deployment/verify-deployment.js';
import { EnclaveVerifyError } from '../../errors.js';

/**
 * Wrap a transport to keep the last response body: the evidence bundle's manifest must be the
 * served JSON read exactly (integers above 2^53 intact), not a re-parsed copy.
 *
 * @example
 * ```ts
 * const tap = tapTransport(nodeTransport());
 * await probeDeployment(url, { transport: tap.transport });
 * tap.lastBody();
 * ```
 */
export function tapTransport(inner: DeploymentTransport): {
  transport: DeploymentTransport;
  lastBody: () => Uint8Array | undefined;
} {
  let last: Uint8Array | undefined;
  return {
    transport: async (request) => {
      const response = await inner(request);
      last = response.body;
      return response;
    },
    lastBody: () => last,
  };
}

function hexPcr(probe: DeploymentProbe, i: number): string {
  const row = probe.verification?.pcrs.find((r) => r.index === i);
  if (!row?.actual) throw new EnclaveVerifyError('ERR_DOCUMENT_INVALID', `the document has no PCR${i}`);
  return row.actual;
}

/** `YYYYMMDDTHHMMSS.mmmZ`, the time in Caution's backup names. */
function compactTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '');
}

/**
 * Write `trusted_hashes.json` of a passed probe as `caution verify` does: `{pcr0, pcr1, pcr2,
 * verified_at, tls?}` (`tls` = `{domain, certfp}` when the TLS binding passed), two-space JSON
 * and a newline, via a temporary file renamed over the target; an existing file is first copied
 * to `trusted_hashes.<UTC time>.json` beside it. Returns the backup path, if any.
 *
 * @example
 * ```ts
 * await saveTrustedHashes('.caution/trusted_hashes.json', probe);
 * ```
 */
export async function saveTrustedHashes(path: string, probe: DeploymentProbe): Promise<string | undefined> {
  if (!probe.ok) throw new EnclaveVerifyError('ERR_USAGE', 'PCRs are saved only from a verified deployment');
  const binding = probe.tlsBinding;
  const tls =
    binding?.status === 'passed' && binding.claim
      ? { domain: binding.claim.domain, certfp: binding.claim.certfp }
      : undefined;
  const trusted = {
    pcr0: hexPcr(probe, 0),
    pcr1: hexPcr(probe, 1),
    pcr2: hexPcr(probe, 2),
    verified_at: probe.checkedAt.toISOString(),
    ...(tls ? { tls } : {}),
  };
  const existing = await lstat(path).catch(() => undefined);
  if (existing && (!existing.isFile() || existing.isSymbolicLink())) {
    throw new EnclaveVerifyError(
      'ERR_IO',
      `${path} exists and is not a regular file; refusing to replace it`,
    );
  }
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(temp, `${JSON.stringify(trusted, null, 2)}\n`, { flag: 'wx' });
  try {
    let backup: string | undefined;
    if (existing) {
      const stem = basename(path).replace(/\.json$/, '');
      for (let n = 0; backup === undefined; n++) {
        const candidate = join(
          dirname(path),
          `${stem}.${compactTime(new Date())}${n === 0 ? '' : `-${n}`}.json`,
        );
        if (!(await lstat(candidate).catch(() => undefined))) backup = candidate;
      }
      await copyFile(path, backup);
    }
    await rename(temp, path);
    return backup;
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw new EnclaveVerifyError('ERR_IO', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The target id an evidence bundle names: `--target` when given, else the URL's host with
 * every character outside Canary's identifier alphabet replaced by `-`.
 *
 * @example
 * ```ts
 * evidenceTargetId('https://web.example.com/attestation', undefined); // 'web-example-com'
 * ```
 */
export function evidenceTargetId(url: string, target: string | undefined): string {
  const id = target ?? new URL(url).hostname.replace(/[^A-Za-z0-9_-]/g, '-');
  if (!isIdentifier(id))
    throw new EnclaveVerifyError('ERR_USAGE', `'${id}' is not a Canary target id (A-Z a-z 0-9 _ -)`);
  return id;
}

/**
 * Write the Canary evidence bundle v0 of a probe that received a document: its document, the
 * nonce sent, the probe time (to the second) and the served manifest read exactly from the body
 * (null when none was sent).
 *
 * @example
 * ```ts
 * await saveEvidence('evidence.json', probe, tap.lastBody(), 'web');
 * ```
 */
export async function saveEvidence(
  path: string,
  probe: DeploymentProbe,
  body: Uint8Array | undefined,
  targetId: string,
): Promise<string> {
  if (!probe.document)
    throw new EnclaveVerifyError('ERR_USAGE', 'no attestation document was received: no evidence to write');
  let manifest: JsonValue = null;
  try {
    const parsed = body ? parseStrictJson(new TextDecoder().decode(body)) : null;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.hasOwn(parsed, 'manifest')) {
      manifest = (parsed as Record<string, JsonValue>).manifest!;
    }
  } catch {
    // A body serde_json would refuse has no manifest Canary could record.
    manifest = null;
  }
  const { bundle, text } = await buildEvidenceBundle({
    targetId,
    document: probe.document,
    nonce: probe.nonce,
    observedAt: probe.checkedAt,
    manifest,
  });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(temp, text, { flag: 'wx' });
  await rename(temp, path);
  return bundle.evidence_digest;
}

/** How the served manifest compares with the `/manifest.json` of the rebuilt ramdisk. */
export interface ManifestAuthentication {
  status:
    | 'authenticated'
    | 'matches-unverified'
    | 'differs'
    | 'not-served'
    | 'not-in-rebuild'
    | 'rebuilt-not-json';
  summary: string;
  differences: { path: string; served: unknown; rebuilt: unknown }[];
}

const MAX_DIFFERENCES = 20;

function isJsonObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonFloat);
}

/** Differences between two JSON values, by path (`a.b[2]`), leaves compared as canonical JSON. */
function diffValues(
  served: JsonValue | undefined,
  rebuilt: JsonValue | undefined,
  path: string,
  out: ManifestAuthentication['differences'],
): void {
  if (out.length >= MAX_DIFFERENCES) return;
  if (isJsonObject(served) && isJsonObject(rebuilt)) {
    for (const key of [...new Set([...Object.keys(served), ...Object.keys(rebuilt)])].sort()) {
      diffValues(served[key], rebuilt[key], path === '' ? key : `${path}.${key}`, out);
    }
    return;
  }
  if (Array.isArray(served) && Array.isArray(rebuilt)) {
    for (let i = 0; i < Math.max(served.length, rebuilt.length); i++)
      diffValues(served[i], rebuilt[i], `${path}[${i}]`, out);
    return;
  }
  const text = (v: JsonValue | undefined) => (v === undefined ? undefined : canonicalJson(v));
  if (text(served) !== text(rebuilt)) {
    // Shown as canonical JSON text, cut short: the served side is hostile and may be huge.
    const shown = (t: string | undefined) =>
      t === undefined ? null : t.length > 200 ? `${t.slice(0, 200)}...` : t;
    out.push({
      path: path === '' ? '(whole manifest)' : path,
      served: shown(text(served)),
      rebuilt: shown(text(rebuilt)),
    });
  }
}

/**
 * Compare the manifest the endpoint served (unsigned) with `/manifest.json` of the ramdisk
 * `--rebuild` rebuilt, as JSON values. That file lies inside the measured ramdisk, so when the
 * PCRs verified and the two are equal, the served manifest is authenticated by the rebuilt PCRs.
 *
 * @example
 * ```ts
 * const m = manifestAuthentication(probe.ok, tap.lastBody(), expectations.rebuiltManifest);
 * console.log(m.summary);
 * ```
 */
export function manifestAuthentication(
  pcrsVerified: boolean,
  body: Uint8Array | undefined,
  rebuilt: Uint8Array | undefined,
): ManifestAuthentication {
  const none = (status: ManifestAuthentication['status'], summary: string): ManifestAuthentication => ({
    status,
    summary,
    differences: [],
  });
  if (!rebuilt)
    return none('not-in-rebuild', 'manifest: the rebuilt ramdisk has no /manifest.json to compare with');
  let rebuiltValue: JsonValue;
  try {
    rebuiltValue = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(rebuilt));
  } catch {
    return none('rebuilt-not-json', 'manifest: the rebuilt /manifest.json is not JSON; nothing compared');
  }
  let served: JsonValue | undefined;
  try {
    const parsed = body ? parseStrictJson(new TextDecoder().decode(body)) : undefined;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      served = (parsed as Record<string, JsonValue>).manifest;
  } catch {
    served = undefined;
  }
  if (served === undefined)
    return none('not-served', 'manifest: the endpoint sent none to compare with the rebuilt /manifest.json');
  const differences: ManifestAuthentication['differences'] = [];
  diffValues(served, rebuiltValue, '', differences);
  if (differences.length > 0) {
    return {
      status: 'differs',
      summary: `manifest DIFFERS from the rebuilt /manifest.json (${differences.map((d) => d.path).join(', ')}): the served provenance is not what the measured image contains`,
      differences,
    };
  }
  return pcrsVerified
    ? none(
        'authenticated',
        'manifest authenticated by the rebuilt PCRs (equal to /manifest.json of the rebuilt ramdisk)',
      )
    : none(
        'matches-unverified',
        'manifest equals the rebuilt /manifest.json, but the PCRs did not verify: nothing is authenticated',
      );
}
