/**
 * Just enough X.509 for the EIF signing certificate: PEM to DER, the public key for the
 * COSE check, and the fields nitro-cli describe-eif prints. A full certificate library is
 * not needed here: the certificate is self-chosen by the image builder and nothing is
 * trusted because of it (PCR8 pins it).
 */
import { EnclaveVerifyError } from '../errors.js';
import { fromBase64, toHex } from '../util/bytes.js';
import { type DerTime, readDerTime } from '../util/der-time.js';

interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the contents. */
  body: number;
  /** Offset just past the contents. */
  end: number;
}

function bad(message: string): never {
  throw new EnclaveVerifyError(
    'ERR_EIF_SIGNATURE',
    `signing certificate: ${message}; rebuild the signed EIF with a valid X.509 certificate`,
  );
}

function tlv(der: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) bad('DER ends early');
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) bad('multi-byte DER tags are not expected');
  let len = der[at + 1]!;
  let body = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || body + n > limit) bad('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[body + i]!;
    body += n;
  }
  if (body + len > limit) bad('DER element longer than its container');
  return { tag, start: at, body, end: body + len };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.body; at < parent.end; ) {
    const c = tlv(der, at, parent.end);
    out.push(c);
    at = c.end;
  }
  return out;
}

function oidText(bytes: Uint8Array): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < bytes.length; i++) {
    v = v * 128 + (bytes[i]! & 0x7f);
    if (!(bytes[i]! & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/**
 * DER of the first `CERTIFICATE` block of a PEM text (as bytes or string).
 *
 * @example
 * ```ts
 * const der = pemCertificateToDer(pemBytes);
 * ```
 */
export function pemCertificateToDer(pem: Uint8Array | string): Uint8Array {
  const text = typeof pem === 'string' ? pem : new TextDecoder().decode(pem);
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(text);
  if (!m) bad('no PEM "CERTIFICATE" block found');
  let der: Uint8Array;
  try {
    der = fromBase64(m[1]!);
  } catch {
    bad('the PEM block is not valid base64');
  }
  const outer = tlv(der, 0, der.length);
  if (outer.tag !== 0x30 || outer.end !== der.length) bad('the PEM block is not one DER SEQUENCE');
  return der;
}

/** The certificate fields the EIF signature check and describe-eif need. */
export interface SigningCertificateFacts {
  /** DER SubjectPublicKeyInfo (for WebCrypto `importKey('spki')`). */
  spki: Uint8Array;
  /** Named curve of an EC key (`P-256`, `P-384`, `P-521`), undefined for other keys. */
  curve: string | undefined;
  /** Issuer attributes by OpenSSL long name (`commonName`, `organizationName`...). */
  issuer: Record<string, string>;
  /** Signature algorithm by OpenSSL long name (`ecdsa-with-SHA384`...). */
  algorithm: string;
  /** Validity in OpenSSL's text form, e.g. `Nov 25 22:51:50 2026 GMT`. */
  notBefore: string;
  notAfter: string;
  /** The certificate's own signature as `XX:XX:...` uppercase hex. */
  signature: string;
}

const NAMES: Record<string, string> = {
  '2.5.4.3': 'commonName',
  '2.5.4.4': 'surname',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'countryName',
  '2.5.4.7': 'localityName',
  '2.5.4.8': 'stateOrProvinceName',
  '2.5.4.9': 'streetAddress',
  '2.5.4.10': 'organizationName',
  '2.5.4.11': 'organizationalUnitName',
  '2.5.4.12': 'title',
  '2.5.4.42': 'givenName',
  '0.9.2342.19200300.100.1.25': 'domainComponent',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.3.101.112': 'ED25519',
};
const CURVES: Record<string, string> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function opensslTime(der: Uint8Array, t: Tlv): string {
  let time: DerTime;
  try {
    // The one strict DER time reader: OpenSSL, which describe-eif runs on, refuses Feb 31 too.
    time = readDerTime(t.tag, der.subarray(t.body, t.end));
  } catch (e) {
    bad(`unreadable validity time (${(e as Error).message})`);
  }
  const two = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[time.month - 1]} ${String(time.day).padStart(2, ' ')} ${two(time.hour)}:${two(time.minute)}:${two(time.second)} ${time.year} GMT`;
}

/**
 * Read the fields of a DER certificate that the EIF signature check and describe-eif use.
 *
 * @example
 * ```ts
 * signingCertificateFacts(der).curve; // 'P-384'
 * ```
 */
export function signingCertificateFacts(der: Uint8Array): SigningCertificateFacts {
  const cert = tlv(der, 0, der.length);
  const [tbs, sigAlg, sigValue] = children(der, cert);
  if (!tbs || !sigAlg || !sigValue || tbs.tag !== 0x30) bad('not an X.509 certificate');
  const fields = children(der, tbs);
  const base = fields[0]?.tag === 0xa0 ? 1 : 0;
  const issuerTlv = fields[base + 2];
  const validity = fields[base + 3];
  const spki = fields[base + 5];
  if (!issuerTlv || !validity || !spki) bad('not an X.509 certificate');
  const issuer: Record<string, string> = {};
  for (const rdn of children(der, issuerTlv)) {
    for (const atv of children(der, rdn)) {
      const [oid, value] = children(der, atv);
      if (!oid || !value) continue;
      const key = oidText(der.subarray(oid.body, oid.end));
      issuer[NAMES[key] ?? key] = new TextDecoder().decode(der.subarray(value.body, value.end));
    }
  }
  const algOid = children(der, sigAlg)[0];
  const algorithm = algOid ? oidText(der.subarray(algOid.body, algOid.end)) : '';
  const [nb, na] = children(der, validity);
  if (!nb || !na) bad('no validity period');
  const keyAlg = children(der, spki)[0];
  const params = keyAlg ? children(der, keyAlg)[1] : undefined;
  const curve = params?.tag === 0x06 ? CURVES[oidText(der.subarray(params.body, params.end))] : undefined;
  const sigBytes = der.subarray(sigValue.body + 1, sigValue.end);
  return {
    spki: der.slice(spki.start, spki.end),
    curve,
    issuer,
    algorithm: NAMES[algorithm] ?? algorithm,
    notBefore: opensslTime(der, nb),
    notAfter: opensslTime(der, na),
    signature: toHex(sigBytes)
      .toUpperCase()
      .replace(/(..)(?!$)/g, '$1:'),
  };
}
