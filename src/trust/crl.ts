/**
 * Certificate revocation lists (RFC 5280 section 5), read with the project's strict DER reader
 * (`der.ts`) rather than pkijs: a CRL is a short, fixed structure, the reader already enforces
 * DER's rules (minimal lengths, no indefinite forms, nothing trailing), and we only need the
 * issuer, the validity window, the revoked serials and the few extensions that change what the
 * list means. Everything this module does not understand and that could change the meaning (a
 * critical extension, a delta CRL, an indirect or partial CRL) is reported as `unusable`, so the
 * revocation check says "unavailable" instead of trusting a list it cannot read fully.
 */
import { EnclaveVerifyError } from '../errors.js';
import { bytesEqual, fromBase64, toHex } from '../util/bytes.js';
import { generalNameUris } from './crl-distribution-points.js';
import {
  children,
  contentOf,
  DerError,
  expectTlv,
  need,
  oidToString,
  readTime,
  readTlv,
  type Tlv,
} from './der.js';

const CRL_TIME_TAG = 'a CRL time has a wrong tag';

// OID content bytes compared as hex.
const SIGNATURE_HASHES: Record<string, 'SHA-256' | 'SHA-384' | 'SHA-512'> = {
  '2a8648ce3d040302': 'SHA-256', // ecdsa-with-SHA256
  '2a8648ce3d040303': 'SHA-384', // ecdsa-with-SHA384
  '2a8648ce3d040304': 'SHA-512', // ecdsa-with-SHA512
};
const OID_CRL_NUMBER = '551d14';
const OID_AUTHORITY_KEY_ID = '551d23';
const OID_ISSUING_DISTRIBUTION_POINT = '551d1c';
const OID_DELTA_CRL_INDICATOR = '551d1b';
const OID_REASON_CODE = '551d15';
const OID_INVALIDITY_DATE = '551d18';
const OID_CERTIFICATE_ISSUER = '551d1d';

/** RFC 5280 CRLReason names, by code (7 is unused). */
export const CRL_REASONS: Record<number, string> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

/** One revoked certificate of a CRL. */
export interface RevokedEntry {
  /** Serial number, lowercase hex of the INTEGER's content bytes (as `ParsedCertificate.serialHex`). */
  serialHex: string;
  /** revocationDate, ms since the epoch. */
  revokedAtMs: number;
  /** CRLReason code, when the entry carries one. */
  reason?: number;
}

/** The issuingDistributionPoint extension: which certificates and which URL the list is for. */
export interface IssuingDistributionPoint {
  /** URIs of its fullName, if any. */
  uris: string[];
  onlyUserCerts: boolean;
  onlyCaCerts: boolean;
}

/** The parts of a CRL the revocation check uses. */
export interface ParsedCrl {
  der: Uint8Array;
  /** The signed part (TBSCertList), exactly as encoded. */
  tbs: Uint8Array;
  /** Signature algorithm, dotted OID. */
  signatureAlgorithm: string;
  /** Hash of an ECDSA signature algorithm; undefined for any other algorithm. */
  signatureHash: 'SHA-256' | 'SHA-384' | 'SHA-512' | undefined;
  /** The signature as DER `ECDSA-Sig-Value` (converted per curve when verified). */
  signatureDer: Uint8Array;
  /** Encoded issuer Name, compared byte for byte with the certificate's issuer. */
  issuerRaw: Uint8Array;
  thisUpdateMs: number;
  /** Absent when the CRL has no nextUpdate (RFC 5280 requires one; such a list is unusable here). */
  nextUpdateMs: number | undefined;
  /** CRL number, hex, when present. */
  crlNumberHex?: string;
  /** Revoked certificates by serial (hex). */
  revoked: Map<string, RevokedEntry>;
  issuingDistributionPoint?: IssuingDistributionPoint;
  /** Why this list cannot be used for a complete answer (critical extensions we do not know, ...). */
  unusable: string[];
}

/**
 * Parse a DER CRL. Throws `ERR_CRL_INVALID` when it is not well-formed DER of RFC 5280's
 * CertificateList.
 *
 * @example
 * ```ts
 * const crl = parseCrl(der);
 * crl.revoked.has(cert.serialHex); // listed as revoked?
 * ```
 */
export function parseCrl(der: Uint8Array): ParsedCrl {
  try {
    return parse(der);
  } catch (e) {
    if (e instanceof DerError || e instanceof RangeError) {
      throw new EnclaveVerifyError(
        'ERR_CRL_INVALID',
        `the CRL is not a well-formed DER X.509 CRL (${e.message}); the file or download is damaged or not a CRL`,
        { cause: e },
      );
    }
    throw e;
  }
}

/**
 * CRLs in a file or response: DER, or PEM with one or more `X509 CRL` blocks. Throws
 * `ERR_CRL_INVALID` when there is none.
 *
 * @example
 * ```ts
 * const ders = decodeCrlInput(await readFile('regional.crl'));
 * ```
 */
export function decodeCrlInput(bytes: Uint8Array): Uint8Array[] {
  if (bytes[0] === 0x30) return [bytes];
  // Byte-to-char without TextDecoder('latin1'), which not every runtime has (workerd: UTF-8 only).
  let text = '';
  const head = bytes.subarray(0, 4 * 1024 * 1024);
  for (let i = 0; i < head.length; i += 8192) text += String.fromCharCode(...head.subarray(i, i + 8192));
  const blocks = [...text.matchAll(/-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]*)-----END X509 CRL-----/g)];
  if (blocks.length === 0) {
    throw new EnclaveVerifyError(
      'ERR_CRL_INVALID',
      'not a CRL: expected DER or PEM "-----BEGIN X509 CRL-----" blocks',
    );
  }
  return blocks.map((m) => fromBase64(m[1]!.replace(/\s+/g, ''), 'PEM CRL'));
}

function parse(der: Uint8Array): ParsedCrl {
  const list = expectTlv(der, 0, der.length, 0x30, 'CertificateList');
  if (list.end !== der.length) throw new DerError('trailing bytes after the CRL');
  const [tbsT, algT, sigT, ...rest] = children(der, list);
  if (!tbsT || !algT || !sigT || rest.length) throw new DerError('CertificateList must have 3 parts');
  need(tbsT, 0x30, 'tbsCertList');
  need(algT, 0x30, 'signatureAlgorithm');
  need(sigT, 0x03, 'signatureValue');
  const parts = children(der, tbsT);
  let i = 0;
  if (parts[0]?.tag === 0x02) {
    // Only v2 (INTEGER 1) may be written; v1 lists omit the field.
    if (parts[0].end - parts[0].content !== 1 || der[parts[0].content] !== 1)
      throw new DerError('CRL version must be v2');
    i = 1;
  }
  const innerAlgT = need(parts[i++], 0x30, 'signature');
  const issuerT = need(parts[i++], 0x30, 'issuer');
  const thisUpdateT = parts[i++];
  if (!thisUpdateT) throw new DerError('thisUpdate is missing');
  const thisUpdateMs = readTime(der, thisUpdateT, CRL_TIME_TAG);
  let nextUpdateMs: number | undefined;
  if (parts[i] && (parts[i]!.tag === 0x17 || parts[i]!.tag === 0x18))
    nextUpdateMs = readTime(der, parts[i++]!, CRL_TIME_TAG);
  const crl: ParsedCrl = {
    der,
    tbs: der.subarray(tbsT.start, tbsT.end),
    signatureAlgorithm: '',
    signatureHash: undefined,
    signatureDer: new Uint8Array(0),
    issuerRaw: der.subarray(issuerT.start, issuerT.end),
    thisUpdateMs,
    nextUpdateMs,
    revoked: new Map(),
    unusable: [],
  };
  if (parts[i]?.tag === 0x30) readEntries(der, parts[i++]!, crl);
  if (parts[i]?.tag === 0xa0) {
    const wrapper = parts[i++]!;
    const exts = expectTlv(der, wrapper.content, wrapper.end, 0x30, 'crlExtensions');
    if (exts.end !== wrapper.end) throw new DerError('trailing bytes in crlExtensions');
    readCrlExtensions(der, exts, crl);
  }
  if (i !== parts.length)
    throw new DerError(`unexpected TBSCertList element 0x${parts[i]!.tag.toString(16)}`);

  // Both copies of the algorithm must agree, as in a certificate; parameters must be absent.
  if (!bytesEqual(der.subarray(algT.start, algT.end), der.subarray(innerAlgT.start, innerAlgT.end)))
    throw new DerError('the inner and outer signature algorithms differ');
  const algParts = children(der, innerAlgT);
  const oidT = need(algParts[0], 0x06, 'signature algorithm');
  crl.signatureAlgorithm = oidToString(contentOf(der, oidT));
  crl.signatureHash = algParts.length === 1 ? SIGNATURE_HASHES[toHex(contentOf(der, oidT))] : undefined;
  if (sigT.end - sigT.content < 1 || der[sigT.content] !== 0) throw new DerError('bad signature BIT STRING');
  crl.signatureDer = der.subarray(sigT.content + 1, sigT.end);
  return crl;
}

function readEntries(der: Uint8Array, seq: Tlv, crl: ParsedCrl): void {
  for (const entry of children(der, seq)) {
    if (entry.tag !== 0x30) throw new DerError('revoked entry is not a SEQUENCE');
    const [serialT, dateT, extsT, ...more] = children(der, entry);
    need(serialT, 0x02, 'userCertificate');
    if (!dateT) throw new DerError('revocationDate is missing');
    if (more.length) throw new DerError('revoked entry has extra elements');
    const serialHex = toHex(contentOf(der, serialT!));
    const out: RevokedEntry = { serialHex, revokedAtMs: readTime(der, dateT, CRL_TIME_TAG) };
    if (extsT) {
      need(extsT, 0x30, 'crlEntryExtensions');
      for (const ext of readExtensionList(der, extsT)) {
        if (ext.oid === OID_REASON_CODE) {
          const e = expectTlv(der, ext.value.content, ext.value.end, 0x0a, 'reasonCode');
          if (e.end - e.content !== 1) throw new DerError('bad reasonCode');
          out.reason = der[e.content]!;
        } else if (ext.oid === OID_CERTIFICATE_ISSUER) {
          // Entries for another issuer make this an indirect CRL, which we do not evaluate.
          crl.unusable.push('it is an indirect CRL (certificateIssuer entry extension)');
        } else if (ext.oid !== OID_INVALIDITY_DATE && ext.critical) {
          crl.unusable.push(`an entry has the unknown critical extension ${ext.dotted}`);
        }
      }
    }
    // Serials are unique per issuer; a repeated one keeps the earliest revocation.
    const seen = crl.revoked.get(serialHex);
    if (!seen || seen.revokedAtMs > out.revokedAtMs) crl.revoked.set(serialHex, out);
  }
}

interface Extension {
  oid: string;
  dotted: string;
  critical: boolean;
  value: Tlv;
}

function readExtensionList(der: Uint8Array, list: Tlv): Extension[] {
  const out: Extension[] = [];
  const seen = new Set<string>();
  for (const ext of children(der, list)) {
    if (ext.tag !== 0x30) throw new DerError('extension is not a SEQUENCE');
    const parts = children(der, ext);
    const oidT = need(parts[0], 0x06, 'extension id');
    let critical = false;
    let valueT = parts[1];
    if (valueT?.tag === 0x01) {
      if (valueT.end - valueT.content !== 1 || der[valueT.content] !== 0xff)
        throw new DerError('critical flag must be TRUE when present (DER)');
      critical = true;
      valueT = parts[2];
    }
    const value = need(valueT, 0x04, 'extension value');
    if (parts.length !== (critical ? 3 : 2)) throw new DerError('extension has extra elements');
    const oid = toHex(contentOf(der, oidT));
    if (seen.has(oid)) throw new DerError(`duplicate extension ${oidToString(contentOf(der, oidT))}`);
    seen.add(oid);
    out.push({ oid, dotted: oidToString(contentOf(der, oidT)), critical, value });
  }
  return out;
}

function readCrlExtensions(der: Uint8Array, list: Tlv, crl: ParsedCrl): void {
  for (const ext of readExtensionList(der, list)) {
    if (ext.oid === OID_CRL_NUMBER) {
      crl.crlNumberHex = toHex(
        contentOf(der, expectTlv(der, ext.value.content, ext.value.end, 0x02, 'cRLNumber')),
      );
    } else if (ext.oid === OID_ISSUING_DISTRIBUTION_POINT) {
      crl.issuingDistributionPoint = readIssuingDistributionPoint(der, ext.value, crl);
    } else if (ext.oid === OID_DELTA_CRL_INDICATOR) {
      crl.unusable.push('it is a delta CRL (only complete CRLs are evaluated)');
    } else if (ext.critical && ext.oid !== OID_AUTHORITY_KEY_ID) {
      crl.unusable.push(`it has the unknown critical extension ${ext.dotted}`);
    }
  }
}

// IssuingDistributionPoint ::= SEQUENCE { distributionPoint [0], onlyContainsUserCerts [1],
//   onlyContainsCACerts [2], onlySomeReasons [3], indirectCRL [4], onlyContainsAttributeCerts [5] }
function readIssuingDistributionPoint(der: Uint8Array, value: Tlv, crl: ParsedCrl): IssuingDistributionPoint {
  const seq = expectTlv(der, value.content, value.end, 0x30, 'issuingDistributionPoint');
  const idp: IssuingDistributionPoint = { uris: [], onlyUserCerts: false, onlyCaCerts: false };
  for (const f of children(der, seq)) {
    const flag = f.end - f.content === 1 && der[f.content] === 0xff;
    switch (f.tag) {
      case 0xa0: {
        const name = readTlv(der, f.content, f.end);
        if (name.tag === 0xa0) idp.uris.push(...generalNameUris(der, name));
        else crl.unusable.push('its issuing distribution point is named relative to the issuer');
        break;
      }
      case 0x81:
        idp.onlyUserCerts = flag;
        break;
      case 0x82:
        idp.onlyCaCerts = flag;
        break;
      case 0x83:
        crl.unusable.push('it covers only some revocation reasons (onlySomeReasons)');
        break;
      case 0x84:
        if (flag) crl.unusable.push('it is an indirect CRL');
        break;
      case 0x85:
        if (flag) crl.unusable.push('it covers only attribute certificates');
        break;
      default:
        throw new DerError(`unexpected issuingDistributionPoint field 0x${f.tag.toString(16)}`);
    }
  }
  return idp;
}

/**
 * Convert a DER `ECDSA-Sig-Value` to the raw `r || s` WebCrypto verifies, each `size` bytes
 * (48 for P-384); undefined when it is not a well-formed signature of that size.
 *
 * @example
 * ```ts
 * const raw = ecdsaDerToRaw(crl.signatureDer, 48);
 * ```
 */
export function ecdsaDerToRaw(sig: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const seq = expectTlv(sig, 0, sig.length, 0x30);
    if (seq.end !== sig.length) return undefined;
    const [r, s, ...more] = children(sig, seq);
    if (!r || !s || more.length || r.tag !== 0x02 || s.tag !== 0x02) return undefined;
    const out = new Uint8Array(2 * size);
    for (const [t, off] of [
      [r, 0],
      [s, size],
    ] as const) {
      let v = contentOf(sig, t);
      if (v.length === 0 || v[0]! & 0x80) return undefined;
      while (v.length > 1 && v[0] === 0) v = v.subarray(1);
      if (v.length > size) return undefined;
      out.set(v, off + size - v.length);
    }
    return out;
  } catch {
    return undefined;
  }
}
