/**
 * Caution's TLS binding (SPEC 3.2): the enclave puts `{"tls":{"mode":"tls","domain","certfp"}}`
 * in the attested `user_data`, where `certfp` is the SHA-256 of the DER of the TLS leaf
 * certificate it serves. A client that sees the leaf on the connection it used can then tell
 * that the channel ends inside the attested enclave, not at a proxy holding another key.
 */
import { EnclaveVerifyError } from '../errors.js';
import { decodeUtf8, toHex } from '../util/bytes.js';
import { sha256 } from '../util/digest.js';

/** A TLS binding claim read from `user_data`. */
export interface TlsBindingClaim {
  mode: 'tls';
  /** Host name the enclave serves. */
  domain: string;
  /** SHA-256 of the DER of the TLS leaf certificate, 64 lowercase hex digits. */
  certfp: string;
}

/**
 * Outcome of the binding check:
 * - `passed`: the leaf of this connection hashes to `certfp` and the domain is the URL's host;
 * - `unchecked`: the runtime (a browser's fetch) cannot show the leaf, so only the domain was checked;
 * - `unbound`: plain HTTP, there is no TLS channel to bind;
 * - `absent`: `user_data` carries no TLS binding (nothing was claimed);
 * - `unsupported`: a `tls` object with a mode other than `tls`.
 */
export type TlsBindingStatus = 'passed' | 'unchecked' | 'unbound' | 'absent' | 'unsupported';

/** What the binding check found, for reports. */
export interface TlsBindingResult {
  status: TlsBindingStatus;
  /** The claim from `user_data`, when there is one. */
  claim: TlsBindingClaim | undefined;
  /** Host name of the URL (no port, no IPv6 brackets). */
  host: string;
  /** SHA-256 of the DER leaf seen on the connection, when the transport exposed it. */
  observedCertfp: string | undefined;
  /** One sentence for humans. */
  summary: string;
}

const CERTFP = /^[0-9a-f]{64}$/;

/**
 * Read a TLS binding claim from `user_data`. Returns `undefined` for user_data that is absent,
 * not JSON, or JSON without a `tls` object (other uses of user_data are legitimate); returns
 * `{ mode }` only for an unknown mode; throws `ERR_TLS_BINDING` for a `tls` object that claims
 * mode `tls` but is malformed, since a broken claim must never read as "no claim".
 *
 * @example
 * ```ts
 * parseTlsBinding(utf8('{"tls":{"mode":"tls","domain":"a.example","certfp":"ab..."}}'));
 * ```
 */
export function parseTlsBinding(
  userData: Uint8Array | null | undefined,
): TlsBindingClaim | { mode: string } | undefined {
  if (!userData || userData.length === 0) return undefined;
  const text = decodeUtf8(userData);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const tls = (json as Record<string, unknown>).tls;
  if (tls === undefined) return undefined;
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) {
    throw malformed('"tls" is not an object');
  }
  const { mode, domain, certfp } = tls as Record<string, unknown>;
  if (typeof mode !== 'string') throw malformed('"tls.mode" is not a string');
  if (mode !== 'tls') return { mode };
  if (typeof domain !== 'string' || domain.length === 0)
    throw malformed('"tls.domain" is not a non-empty string');
  if (typeof certfp !== 'string' || !CERTFP.test(certfp)) {
    throw malformed('"tls.certfp" is not 64 lowercase hex digits');
  }
  return { mode: 'tls', domain, certfp };
}

function malformed(what: string): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_TLS_BINDING',
    `the attested user_data carries a malformed TLS binding: ${what}; the enclave's binding cannot be checked, so do not trust this channel`,
  );
}

/**
 * The host part of a URL as the binding compares it: lowercase, no brackets, no trailing dot,
 * no port.
 *
 * @example
 * ```ts
 * bindingHost(new URL('https://Enclave.Example.:8443/attestation')); // 'enclave.example'
 * ```
 */
export function bindingHost(url: URL): string {
  return url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

/**
 * Check the TLS binding claimed in `userData` against the URL used and, when the transport saw
 * it, the DER of the TLS leaf certificate of that connection. Throws `ERR_TLS_BINDING` when the
 * domain is not the URL's host or the certificate fingerprint differs; otherwise returns what
 * could and could not be checked.
 *
 * @example
 * ```ts
 * const r = await checkTlsBinding(doc.userData, new URL('https://a.example/attestation'), leafDer);
 * r.status; // 'passed'
 * ```
 */
export async function checkTlsBinding(
  userData: Uint8Array | null | undefined,
  url: URL,
  peerCertificate: Uint8Array | undefined,
): Promise<TlsBindingResult> {
  const host = bindingHost(url);
  const observedCertfp = peerCertificate ? toHex(await sha256(peerCertificate)) : undefined;
  const parsed = parseTlsBinding(userData);
  if (parsed === undefined) {
    return {
      status: 'absent',
      claim: undefined,
      host,
      observedCertfp,
      summary: 'user_data carries no TLS binding; the channel is not tied to the enclave',
    };
  }
  if (parsed.mode !== 'tls' || !('certfp' in parsed)) {
    return {
      status: 'unsupported',
      claim: undefined,
      host,
      observedCertfp,
      summary: `user_data names TLS mode '${parsed.mode.slice(0, 40)}', which this verifier does not know; binding not checked`,
    };
  }
  const claim = parsed;
  const claimedHost = claim.domain.replace(/\.$/, '').toLowerCase();
  if (claimedHost !== host) {
    throw new EnclaveVerifyError(
      'ERR_TLS_BINDING',
      `the enclave's TLS binding is for domain '${claim.domain.slice(0, 255)}' but you connected to '${host}'; use the URL of the attested domain, or suspect a proxy in between`,
      { details: { claimedDomain: claim.domain, host } },
    );
  }
  if (url.protocol === 'http:') {
    return {
      status: 'unbound',
      claim,
      host,
      observedCertfp: undefined,
      summary:
        'plain HTTP: the channel is unbound (no TLS certificate to compare with certfp); use https:// to check the binding',
    };
  }
  if (observedCertfp === undefined) {
    return {
      status: 'unchecked',
      claim,
      host,
      observedCertfp,
      summary:
        'domain matches, but this runtime does not expose the TLS certificate, so certfp was NOT checked (use the CLI or the Node transport)',
    };
  }
  if (observedCertfp !== claim.certfp) {
    throw new EnclaveVerifyError(
      'ERR_TLS_BINDING',
      `the TLS certificate served on this connection (SHA-256 ${observedCertfp}) is not the one the enclave attested (certfp ${claim.certfp}); the connection may end at a proxy or another server: do not trust it`,
      { details: { claimedCertfp: claim.certfp, observedCertfp, host } },
    );
  }
  return {
    status: 'passed',
    claim,
    host,
    observedCertfp,
    summary: `the TLS leaf of this connection matches certfp and the domain is ${host}`,
  };
}
