/**
 * The CRL Distribution Points extension (RFC 5280 4.2.1.13) of a certificate: where its issuer
 * publishes the CRL that would list it. Read on its own from the certificate's DER rather than by
 * the chain's certificate reader, because only the revocation check needs it: verification
 * without `checkRevocation` never pays for it, and the chain reader stays as small as the chain
 * rules need.
 */
import { toHex } from '../util/bytes.js';
import { children, contentOf, DerError, expectTlv, readTlv, type Tlv } from './der.js';

const OID_CRL_DISTRIBUTION_POINTS = '551d1f';

/** What a certificate says about where its revocation status is published. */
export interface CrlDistributionPoints {
  /** http(s) URLs of distribution points that name the full CRL, in certificate order. */
  urls: string[];
  /** Distribution points we cannot use, each with why (e.g. an ldap URL, a partial CRL). */
  skipped: string[];
}

/**
 * The CRL Distribution Points of a DER certificate; `{ urls: [], skipped: [] }` when it has none.
 * Throws a `DerError` when the extension is malformed (the caller reports the status as
 * unavailable: a certificate that passed the chain rules is never refused for this alone).
 *
 * @example
 * ```ts
 * crlDistributionPoints(regionalCertDer).urls;
 * // ['http://crl-us-east-1-aws-nitro-enclaves.s3.us-east-1.amazonaws.com/crl/....crl']
 * ```
 */
export function crlDistributionPoints(certDer: Uint8Array): CrlDistributionPoints {
  const out: CrlDistributionPoints = { urls: [], skipped: [] };
  const value = findExtension(certDer, OID_CRL_DISTRIBUTION_POINTS);
  if (!value) return out;
  const seq = expectTlv(certDer, value.content, value.end, 0x30, 'cRLDistributionPoints');
  if (seq.end !== value.end) throw new DerError('trailing bytes in cRLDistributionPoints');
  for (const dp of children(certDer, seq)) {
    if (dp.tag !== 0x30) throw new DerError('DistributionPoint is not a SEQUENCE');
    let uris: string[] = [];
    let usable = true;
    for (const f of children(certDer, dp)) {
      if (f.tag === 0xa0) {
        const name = readTlv(certDer, f.content, f.end);
        if (name.tag === 0xa0) uris = generalNameUris(certDer, name);
        else {
          out.skipped.push('a distribution point named relative to the CRL issuer');
          usable = false;
        }
      } else if (f.tag === 0x81 || f.tag === 0xa1) {
        out.skipped.push('a distribution point for some revocation reasons only');
        usable = false;
      } else if (f.tag === 0xa2) {
        out.skipped.push('a distribution point of another CRL issuer (indirect CRL)');
        usable = false;
      } else {
        throw new DerError(`unexpected DistributionPoint field 0x${f.tag.toString(16)}`);
      }
    }
    if (!usable) continue;
    for (const uri of uris) {
      if (/^https?:\/\//i.test(uri)) out.urls.push(uri);
      else
        out.skipped.push(`${uri.split(':')[0]} URL ${uri.slice(0, 120)} (only http and https are fetched)`);
    }
  }
  return out;
}

// Certificate -> tbsCertificate -> [3] extensions -> the extension with `oidHex`: its OCTET STRING.
function findExtension(der: Uint8Array, oidHex: string): Tlv | undefined {
  const cert = expectTlv(der, 0, der.length, 0x30, 'Certificate');
  const tbs = expectTlv(der, cert.content, cert.end, 0x30, 'tbsCertificate');
  const wrapper = children(der, tbs).find((t) => t.tag === 0xa3);
  if (!wrapper) return undefined;
  const list = expectTlv(der, wrapper.content, wrapper.end, 0x30, 'extensions');
  for (const ext of children(der, list)) {
    const parts = children(der, ext);
    if (parts[0]?.tag !== 0x06 || toHex(contentOf(der, parts[0])) !== oidHex) continue;
    const value = parts[parts.length - 1];
    if (value?.tag !== 0x04) throw new DerError('extension value is not an OCTET STRING');
    return value;
  }
  return undefined;
}

/**
 * The URIs (GeneralName `[6]`) among the GeneralNames in `names`; other name forms are skipped.
 *
 * @example
 * ```ts
 * generalNameUris(der, fullNameTlv); // ['http://crl.example/ca.crl']
 * ```
 */
export function generalNameUris(der: Uint8Array, names: Tlv): string[] {
  const out: string[] = [];
  for (const n of children(der, names)) {
    if (n.tag !== 0x86) continue;
    const raw = contentOf(der, n);
    // IA5String: 7-bit ASCII only; anything else is not a URI we would fetch.
    if (raw.some((b) => b > 0x7e || b < 0x21)) throw new DerError('a URI is not printable ASCII');
    out.push(String.fromCharCode(...raw));
  }
  return out;
}
