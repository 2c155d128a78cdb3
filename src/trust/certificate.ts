/**
 * Reads from an X.509 certificate exactly what the chain checks need (SPEC 1.3), with a small DER
 * walker instead of pkijs or @peculiar/x509 object graphs: building those costs milliseconds per
 * document, more than the signature checks themselves.
 */
import { EnclaveVerifyError } from '../errors.js';
import { bytesEqual, decodeUtf8, toHex } from '../util/bytes.js';
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

const VALIDITY_TAG = 'validity time has a wrong tag';

// OID content bytes compared as hex.
const OID_ECDSA_SHA384 = '2a8648ce3d040303';
const OID_EC_PUBLIC_KEY = '2a8648ce3d0201';
const OID_SECP384R1 = '2b81040022';
const OID_BASIC_CONSTRAINTS = '551d13';
const OID_KEY_USAGE = '551d0f';
/** Extensions whose meaning we know well enough to accept them when marked critical. */
const UNDERSTOOD_CRITICAL = new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE]);

/** Key usage bits we check (bit 0 is the most significant bit of the first byte). */
export const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5 } as const;

/** The fields of a certificate the verifier checks, plus display text. */
export interface ParsedCertificate {
  /** The whole DER encoding. */
  der: Uint8Array;
  /** The signed part (TBSCertificate), exactly as encoded. */
  tbs: Uint8Array;
  /** X.509 version number (3 for v3). */
  version: number;
  /** Serial number, lowercase hex. */
  serialHex: string;
  /** Signature algorithm OID (dotted); both the inner and outer copies must agree. */
  signatureAlgorithm: string;
  /** True when the inner and outer signature algorithms are byte-identical and ecdsa-with-SHA384 without parameters. */
  signatureIsEcdsaSha384: boolean;
  /** Signature converted from DER `ECDSA-Sig-Value` to raw `r || s`, or undefined if unusable. */
  signatureRaw: Uint8Array | undefined;
  /** Encoded issuer Name (compared byte for byte with the issuer's subject). */
  issuerRaw: Uint8Array;
  /** Encoded subject Name. */
  subjectRaw: Uint8Array;
  /** Issuer as RFC 4514-style text, for reports. */
  issuer: string;
  /** Subject as RFC 4514-style text, for reports. */
  subject: string;
  /** Start of validity, ms since the epoch. */
  notBeforeMs: number;
  /** End of validity, ms since the epoch (inclusive). */
  notAfterMs: number;
  /** SubjectPublicKeyInfo DER, for WebCrypto `importKey('spki')`. */
  spki: Uint8Array;
  /** True when the key is an EC key on P-384. */
  keyIsP384: boolean;
  /** The public key's encoded EC point (subjectPublicKey without its unused-bits byte). */
  publicKeyPoint: Uint8Array;
  /** basicConstraints, when present. */
  basicConstraints?: { critical: boolean; ca: boolean; pathLen?: number };
  /** keyUsage bits, when present. */
  keyUsage?: { critical: boolean; bits: Uint8Array; unusedBits: number };
  /** OIDs (dotted) of critical extensions we do not understand. */
  unknownCritical: string[];
  /** Every extension in encoded order: OID (dotted) and critical flag (for reports and tests). */
  extensions: Array<{ oid: string; critical: boolean }>;
}

const NAME_LABELS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/**
 * Parse a DER certificate. Throws `ERR_CHAIN_INVALID` when it is not well-formed DER X.509.
 *
 * @example
 * ```ts
 * const cert = parseCertificate(doc.certificate);
 * cert.subject; // 'CN=i-0...-enc0....us-east-2.aws, OU=AWS, O=Amazon, L=Seattle, ST=Washington, C=US'
 * ```
 */
export function parseCertificate(der: Uint8Array, what = 'certificate'): ParsedCertificate {
  try {
    return parse(der);
  } catch (e) {
    if (e instanceof DerError || e instanceof RangeError) {
      throw new EnclaveVerifyError(
        'ERR_CHAIN_INVALID',
        `${what} is not a well-formed DER X.509 certificate (${e.message}); the document or root file is damaged`,
        { cause: e, details: { certificate: what } },
      );
    }
    throw e;
  }
}

function parse(der: Uint8Array): ParsedCertificate {
  const cert = expectTlv(der, 0, der.length, 0x30, 'Certificate');
  if (cert.end !== der.length) throw new DerError('trailing bytes after the certificate');
  const [tbsT, algT, sigT, ...rest] = children(der, cert);
  if (!tbsT || !algT || !sigT || rest.length) throw new DerError('Certificate must have 3 parts');
  if (tbsT.tag !== 0x30 || algT.tag !== 0x30 || sigT.tag !== 0x03)
    throw new DerError('Certificate parts have wrong tags');
  const tbsParts = children(der, tbsT);
  let i = 0;
  let version = 1;
  if (tbsParts[0]?.tag === 0xa0) {
    const v = expectTlv(der, tbsParts[0].content, tbsParts[0].end, 0x02, 'version');
    if (v.end !== tbsParts[0].end) throw new DerError('trailing bytes inside the version [0]');
    version = readSmallInt(der, v) + 1;
    // DER leaves out a field equal to its DEFAULT (v1), and X.509 knows v1..v3 only.
    if (version === 1) throw new DerError('version v1 must be omitted in DER');
    if (version > 3) throw new DerError(`unknown X.509 version ${version}`);
    i = 1;
  }
  const serialT = need(tbsParts[i++], 0x02, 'serialNumber');
  readInteger(der, serialT, 'serialNumber');
  const innerAlgT = need(tbsParts[i++], 0x30, 'signature');
  const issuerT = need(tbsParts[i++], 0x30, 'issuer');
  const validityT = need(tbsParts[i++], 0x30, 'validity');
  const subjectT = need(tbsParts[i++], 0x30, 'subject');
  const spkiT = need(tbsParts[i++], 0x30, 'subjectPublicKeyInfo');
  // Then at most one of each, in this order: issuerUniqueID [1], subjectUniqueID [2] (IMPLICIT
  // BIT STRINGs, so primitive in DER), extensions [3]. A second [3] block must not be read
  // "last wins": an unknown critical extension in the first would go unseen.
  let extsT: Tlv | undefined;
  const optionalOrder = [0x81, 0x82, 0xa3];
  let next = 0;
  for (; i < tbsParts.length; i++) {
    const t = tbsParts[i]!;
    const at = optionalOrder.indexOf(t.tag, next);
    if (at < 0) {
      throw new DerError(
        optionalOrder.includes(t.tag)
          ? `TBSCertificate element 0x${t.tag.toString(16)} repeated or out of order`
          : `unexpected TBSCertificate element 0x${t.tag.toString(16)}`,
      );
    }
    next = at + 1;
    if (t.tag === 0xa3) extsT = t;
    else if (t.end - t.content < 1 || der[t.content]! > 7) throw new DerError('bad unique identifier');
  }
  if (version < 2 && next > 0) throw new DerError('unique identifiers or extensions in a v1 certificate');
  if (version < 3 && extsT) throw new DerError('extensions in a certificate that is not v3');
  const outerAlg = der.subarray(algT.start, algT.end);
  const innerAlg = der.subarray(innerAlgT.start, innerAlgT.end);
  checkAlgorithmIdentifier(der, algT);
  checkAlgorithmIdentifier(der, innerAlgT);
  const algOid = expectTlv(der, innerAlgT.content, innerAlgT.end, 0x06, 'signature algorithm');
  const algOidHex = toHex(contentOf(der, algOid));
  const signatureIsEcdsaSha384 =
    bytesEqual(outerAlg, innerAlg) && algOidHex === OID_ECDSA_SHA384 && algOid.end === innerAlgT.end;

  const [nb, na, ...more] = children(der, validityT);
  if (!nb || !na || more.length) throw new DerError('validity must have 2 times');
  checkEncodings(der, cert, 0, new Set([nb.start, na.start]));

  const spkiParts = children(der, spkiT);
  if (spkiParts.length !== 2) throw new DerError('subjectPublicKeyInfo must have 2 parts');
  const keyAlgT = need(spkiParts[0], 0x30, 'key algorithm');
  const keyBits = need(spkiParts[1], 0x03, 'subjectPublicKey');
  if (keyBits.end - keyBits.content < 2 || der[keyBits.content] !== 0)
    throw new DerError('bad subjectPublicKey');
  // AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }; for EC keys the
  // parameters are ECParameters: a named curve (OID), implicit (NULL) or specified (SEQUENCE).
  const keyAlg = checkAlgorithmIdentifier(der, keyAlgT);
  const ecParams = keyAlg[1]?.tag;
  if (
    toHex(contentOf(der, keyAlg[0]!)) === OID_EC_PUBLIC_KEY &&
    ecParams !== 0x06 &&
    ecParams !== 0x05 &&
    ecParams !== 0x30
  ) {
    throw new DerError('EC key parameters are not a named curve, NULL or a specified curve');
  }
  const keyIsP384 =
    keyAlg.length === 2 &&
    keyAlg[0]!.tag === 0x06 &&
    toHex(contentOf(der, keyAlg[0]!)) === OID_EC_PUBLIC_KEY &&
    keyAlg[1]!.tag === 0x06 &&
    toHex(contentOf(der, keyAlg[1]!)) === OID_SECP384R1;

  const parsed: ParsedCertificate = {
    der,
    tbs: der.subarray(tbsT.start, tbsT.end),
    version,
    serialHex: toHex(contentOf(der, serialT)),
    signatureAlgorithm: oidToString(contentOf(der, algOid)),
    signatureIsEcdsaSha384,
    signatureRaw: signatureIsEcdsaSha384 ? ecdsaSigToRaw(der, sigT) : undefined,
    issuerRaw: der.subarray(issuerT.start, issuerT.end),
    subjectRaw: der.subarray(subjectT.start, subjectT.end),
    issuer: nameToString(der, issuerT),
    subject: nameToString(der, subjectT),
    notBeforeMs: readTime(der, nb, VALIDITY_TAG),
    notAfterMs: readTime(der, na, VALIDITY_TAG),
    spki: der.subarray(spkiT.start, spkiT.end),
    keyIsP384,
    publicKeyPoint: der.subarray(keyBits.content + 1, keyBits.end),
    unknownCritical: [],
    extensions: [],
  };
  if (extsT) readExtensions(der, extsT, parsed);
  return parsed;
}

// Every primitive element of the certificate, wherever it is, must be a DER encoding of its
// universal type (X.690 clause 11): BOOLEAN one byte 00/ff, INTEGER minimal, BIT STRING with 0..7
// unused bits that are zero, NULL empty, OBJECT IDENTIFIER minimal, times as RFC 5280 writes them,
// strings in their character sets; universal types never use the constructed (BER) form. OCTET
// STRING contents (extension values) are left to the readers of the extensions.
const MAX_NESTING = 24;
const NONE: ReadonlySet<number> = new Set();
function checkEncodings(
  der: Uint8Array,
  t: Tlv,
  depth: number,
  validityTimes: ReadonlySet<number> = NONE,
): void {
  if (depth > MAX_NESTING) throw new DerError('nesting too deep');
  if (t.tag & 0x20) {
    if ((t.tag & 0xc0) === 0 && t.tag !== 0x30 && t.tag !== 0x31)
      throw new DerError(`constructed encoding of universal type ${t.tag & 0x1f} (BER, not DER)`);
    for (const c of children(der, t)) checkEncodings(der, c, depth + 1, validityTimes);
    return;
  }
  if (t.tag & 0xc0) return; // context-specific primitives: implicit types read where they are used
  const v = contentOf(der, t);
  switch (t.tag) {
    case 0x00:
      throw new DerError('end-of-contents marker in DER');
    case 0x01:
      readBoolean(der, t, 'BOOLEAN');
      return;
    case 0x02:
      readInteger(der, t, 'INTEGER');
      return;
    case 0x03:
      if (v.length < 1 || v[0]! > 7 || (v.length === 1 && v[0] !== 0))
        throw new DerError('malformed BIT STRING');
      if (v.length > 1 && v[v.length - 1]! & ((1 << v[0]!) - 1))
        throw new DerError('BIT STRING unused bits are not zero');
      return;
    case 0x05:
      if (v.length !== 0) throw new DerError('NULL with content');
      return;
    case 0x06:
      checkOid(der, t);
      return;
    case 0x0c:
      // ASCII is UTF-8; only other text pays for a decoder.
      if (!isAscii(v) && decodeUtf8(v) === undefined) throw new DerError('UTF8String is not UTF-8');
      return;
    case 0x12:
      if (!v.every((b) => b === 0x20 || (b >= 0x30 && b <= 0x39)))
        throw new DerError('NumericString has other characters');
      return;
    case 0x13:
      if (!v.every((b) => PRINTABLE[b] === 1)) throw new DerError('PrintableString has other characters');
      return;
    case 0x16:
      if (v.some((b) => b > 0x7f)) throw new DerError('IA5String is not ASCII');
      return;
    case 0x17:
    case 0x18:
      // The validity times are read (and checked) by the certificate reader itself.
      if (!validityTimes.has(t.start)) readTime(der, t, VALIDITY_TAG);
      return;
    case 0x1e:
      if (v.length % 2) throw new DerError('BMPString of odd length');
      return;
    case 0x1c:
      if (v.length % 4) throw new DerError('UniversalString length is not a multiple of 4');
      return;
    default:
  }
}

function isAscii(v: Uint8Array): boolean {
  for (let i = 0; i < v.length; i++) if (v[i]! > 0x7f) return false;
  return true;
}

// X.680 PrintableString: letters, digits, space and '()+,-./:=?
const PRINTABLE = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")
  PRINTABLE[c.charCodeAt(0)] = 1;

// INTEGER content must be present and minimal (X.690 8.3.2): no redundant leading 0x00 or 0xff.
// A non-minimal copy of an integer is a second encoding of the same certificate, with another
// fingerprint under the same signature.
function readInteger(der: Uint8Array, t: Tlv, what: string): Uint8Array {
  const v = contentOf(der, t);
  if (v.length === 0) throw new DerError(`${what} is an empty INTEGER`);
  if (v.length > 1 && ((v[0] === 0 && !(v[1]! & 0x80)) || (v[0] === 0xff && v[1]! & 0x80))) {
    throw new DerError(`${what} is not minimally encoded`);
  }
  return v;
}

function readSmallInt(der: Uint8Array, t: Tlv, what = 'integer'): number {
  const v = readInteger(der, t, what);
  if (t.tag !== 0x02 || v.length > 4 || v[0]! & 0x80) throw new DerError(`bad ${what}`);
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

// OBJECT IDENTIFIER content: non-empty, each subidentifier minimal (no leading 0x80) and complete.
function checkOid(der: Uint8Array, t: Tlv): void {
  const v = contentOf(der, t);
  if (v.length === 0 || v[v.length - 1]! & 0x80) throw new DerError('malformed OBJECT IDENTIFIER');
  for (let k = 0; k < v.length; k++) {
    if (v[k] === 0x80 && (k === 0 || !(v[k - 1]! & 0x80))) {
      throw new DerError('OBJECT IDENTIFIER not minimally encoded');
    }
  }
}

// A DER BOOLEAN is one byte, 0x00 or 0xff (X.690 11.1); BER's other non-zero values are refused.
function readBoolean(der: Uint8Array, t: Tlv, what: string): boolean {
  if (t.tag !== 0x01 || t.end - t.content !== 1) throw new DerError(`${what} is not a BOOLEAN`);
  const b = der[t.content]!;
  if (b !== 0 && b !== 0xff) throw new DerError(`${what} is a BER boolean (0x${b.toString(16)}), not DER`);
  return b === 0xff;
}

function readExtensions(der: Uint8Array, wrapper: Tlv, out: ParsedCertificate): void {
  const list = expectTlv(der, wrapper.content, wrapper.end, 0x30, 'extensions');
  if (list.end !== wrapper.end) throw new DerError('trailing bytes inside the extensions [3]');
  const exts = children(der, list);
  if (exts.length === 0) throw new DerError('empty extensions list (RFC 5280: SIZE (1..MAX))');
  const seen = new Set<string>();
  for (const ext of exts) {
    if (ext.tag !== 0x30) throw new DerError('extension is not a SEQUENCE');
    const parts = children(der, ext);
    const oidT = need(parts[0], 0x06, 'extension id');
    checkOid(der, oidT);
    let critical = false;
    let valueT = parts[1];
    if (valueT?.tag === 0x01) {
      // DEFAULT FALSE: DER writes the flag only when it is TRUE.
      if (!readBoolean(der, valueT, 'critical flag'))
        throw new DerError('critical flag FALSE must be omitted in DER');
      critical = true;
      valueT = parts[2];
    }
    const value = need(valueT, 0x04, 'extension value');
    if (parts.length !== (critical ? 3 : 2)) throw new DerError('extension has extra elements');
    const oid = toHex(contentOf(der, oidT));
    if (seen.has(oid)) throw new DerError(`duplicate extension ${oidToString(contentOf(der, oidT))}`);
    seen.add(oid);
    out.extensions.push({ oid: oidToString(contentOf(der, oidT)), critical });
    if (oid === OID_BASIC_CONSTRAINTS) {
      const seq = expectTlv(der, value.content, value.end, 0x30, 'basicConstraints');
      if (seq.end !== value.end) throw new DerError('trailing bytes inside the basicConstraints value');
      const fields = children(der, seq);
      let ca = false;
      let pathLen: number | undefined;
      let k = 0;
      if (fields[k]?.tag === 0x01) {
        // cA BOOLEAN DEFAULT FALSE: present only as TRUE in DER.
        if (!readBoolean(der, fields[k]!, 'basicConstraints cA')) {
          throw new DerError('basicConstraints cA FALSE must be omitted in DER');
        }
        ca = true;
        k++;
      }
      if (fields[k]?.tag === 0x02) pathLen = readSmallInt(der, fields[k++]!, 'pathLenConstraint');
      if (k !== fields.length)
        throw new DerError('basicConstraints fields repeated, out of order or unknown');
      out.basicConstraints = pathLen === undefined ? { critical, ca } : { critical, ca, pathLen };
    } else if (oid === OID_KEY_USAGE) {
      const bits = expectTlv(der, value.content, value.end, 0x03, 'keyUsage');
      if (bits.end !== value.end) throw new DerError('trailing bytes inside the keyUsage value');
      const n = bits.end - bits.content;
      const unused = n >= 1 ? der[bits.content]! : -1;
      if (n < 1 || unused > 7 || (n === 1 && unused !== 0))
        throw new DerError('malformed keyUsage BIT STRING');
      // DER: the unused low bits of the last byte are zero (X.690 11.2.1).
      if (n > 1 && der[bits.end - 1]! & ((1 << unused) - 1))
        throw new DerError('keyUsage unused bits are not zero');
      out.keyUsage = { critical, bits: der.subarray(bits.content + 1, bits.end), unusedBits: unused };
    } else {
      // Every extnValue is the DER encoding of one value (RFC 5280 4.1); the few we do not read but
      // other X.509 readers do (SKI, AKI, CRL distribution points) must also fit their schema, so
      // that we never accept a certificate they refuse as malformed.
      const inner = readTlv(der, value.content, value.end);
      if (inner.end !== value.end) throw new DerError('extnValue is not exactly one DER element');
      checkEncodings(der, inner, 0);
      checkKnownExtension(der, oid, inner);
      if (critical && !UNDERSTOOD_CRITICAL.has(oid))
        out.unknownCritical.push(oidToString(contentOf(der, oidT)));
    }
  }
}

const OID_SUBJECT_KEY_ID = '551d0e';
const OID_AUTHORITY_KEY_ID = '551d23';
const OID_CRL_DISTRIBUTION_POINTS = '551d1f';
const OID_SUBJECT_ALT_NAME = '551d11';
const OID_ISSUER_ALT_NAME = '551d12';
const OID_EXT_KEY_USAGE = '551d25';

// Schemas of RFC 5280 4.2.1.1, .2, .6, .7, .12 and .13, element by element.
function checkKnownExtension(der: Uint8Array, oid: string, v: Tlv): void {
  const fields = (t: Tlv, tags: number[], what: string) => {
    const list = children(der, t);
    let k = 0;
    for (const f of list) {
      const at = tags.indexOf(f.tag, k);
      if (at < 0) throw new DerError(`${what}: unexpected, repeated or misordered element`);
      k = at + 1;
    }
    return list;
  };
  if (oid === OID_SUBJECT_KEY_ID) {
    if (v.tag !== 0x04) throw new DerError('subjectKeyIdentifier is not an OCTET STRING');
  } else if (oid === OID_SUBJECT_ALT_NAME || oid === OID_ISSUER_ALT_NAME) {
    if (v.tag !== 0x30) throw new DerError('alternative names are not a SEQUENCE');
    checkGeneralNames(der, v);
  } else if (oid === OID_EXT_KEY_USAGE) {
    const purposes = v.tag === 0x30 ? children(der, v) : [];
    if (purposes.length === 0 || purposes.some((x) => x.tag !== 0x06))
      throw new DerError('extKeyUsage is not a non-empty SEQUENCE OF OBJECT IDENTIFIER');
  } else if (oid === OID_AUTHORITY_KEY_ID) {
    if (v.tag !== 0x30) throw new DerError('authorityKeyIdentifier is not a SEQUENCE');
    for (const f of fields(v, [0x80, 0xa1, 0x82], 'authorityKeyIdentifier'))
      if (f.tag === 0xa1) checkGeneralNames(der, f);
  } else if (oid === OID_CRL_DISTRIBUTION_POINTS) {
    if (v.tag !== 0x30 || v.end === v.content)
      throw new DerError('cRLDistributionPoints is not a non-empty SEQUENCE');
    for (const dp of children(der, v)) {
      if (dp.tag !== 0x30) throw new DerError('DistributionPoint is not a SEQUENCE');
      const dpFields = fields(dp, [0xa0, 0x81, 0xa2], 'DistributionPoint');
      // RFC 5280 4.2.1.13: a distributionPoint or a cRLIssuer must be present.
      if (!dpFields.some((f) => f.tag !== 0x81))
        throw new DerError('DistributionPoint names no point and no issuer');
      for (const f of dpFields) {
        if (f.tag === 0xa2) checkGeneralNames(der, f);
        else if (f.tag === 0xa0) {
          const [name, ...more] = children(der, f);
          if (!name || more.length) throw new DerError('DistributionPointName must be one CHOICE');
          if (name.tag === 0xa0) checkGeneralNames(der, name);
          else if (name.tag !== 0xa1) throw new DerError('DistributionPointName has an unknown CHOICE');
        } else if (f.end - f.content < 1 || der[f.content]! > 7)
          throw new DerError('malformed reasons BIT STRING');
      }
    }
  }
}

// GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName (here as the content of an IMPLICIT tag).
function checkGeneralNames(der: Uint8Array, t: Tlv): void {
  const names = children(der, t);
  if (names.length === 0) throw new DerError('empty GeneralNames');
  for (const n of names) {
    const kind = n.tag & 0x1f;
    const constructed = (n.tag & 0x20) !== 0;
    // otherName [0], x400Address [3], directoryName [4], ediPartyName [5] are constructed; the rest
    // (rfc822Name, dNSName, URI, iPAddress, registeredID) primitive.
    if ((n.tag & 0xc0) !== 0x80 || kind > 8 || constructed !== [0, 3, 4, 5].includes(kind))
      throw new DerError('malformed GeneralName');
    const v = contentOf(der, n);
    if ((kind === 1 || kind === 2 || kind === 6) && v.some((b) => b > 0x7f))
      throw new DerError('GeneralName text is not IA5');
    if (kind === 7 && v.length !== 4 && v.length !== 16 && v.length !== 8 && v.length !== 32)
      throw new DerError('GeneralName iPAddress has a wrong length');
    if (kind === 8) checkOid(der, n);
    if (kind === 4) {
      const [name, ...more] = children(der, n);
      if (!name || more.length || name.tag !== 0x30) throw new DerError('directoryName is not one Name');
      nameToString(der, name);
    }
  }
}

// AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }.
function checkAlgorithmIdentifier(der: Uint8Array, t: Tlv): Tlv[] {
  const parts = children(der, t);
  if (parts.length < 1 || parts.length > 2 || parts[0]!.tag !== 0x06)
    throw new DerError('malformed AlgorithmIdentifier');
  return parts;
}

/**
 * True when bit `bit` of a keyUsage is set.
 *
 * @example
 * ```ts
 * hasKeyUsage(cert, KEY_USAGE.keyCertSign);
 * ```
 */
export function hasKeyUsage(cert: ParsedCertificate, bit: number): boolean {
  const ku = cert.keyUsage;
  // Bits the unused-bits count excludes are not part of the value, whatever they hold.
  if (!ku || bit >= ku.bits.length * 8 - ku.unusedBits) return false;
  const byte = ku.bits[bit >> 3];
  return byte !== undefined && (byte & (0x80 >> (bit & 7))) !== 0;
}

// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> 48-byte big-endian r || s for WebCrypto.
// Strict DER: a signature value with a redundant leading zero verifies all the same, so accepting
// it would let anyone mint another encoding (another fingerprint) of a signed certificate.
function ecdsaSigToRaw(der: Uint8Array, bitString: Tlv): Uint8Array {
  if (bitString.end - bitString.content < 2 || der[bitString.content] !== 0)
    throw new DerError('signatureValue BIT STRING must have 0 unused bits');
  const seq = expectTlv(der, bitString.content + 1, bitString.end, 0x30, 'ECDSA-Sig-Value');
  if (seq.end !== bitString.end) throw new DerError('trailing bytes inside signatureValue');
  const [r, s, ...more] = children(der, seq);
  if (!r || !s || more.length || r.tag !== 0x02 || s.tag !== 0x02)
    throw new DerError('ECDSA-Sig-Value must be two INTEGERs');
  const out = new Uint8Array(96);
  for (const [t, off] of [
    [r, 0],
    [s, 48],
  ] as const) {
    let v = readInteger(der, t, 'ECDSA signature integer');
    if (v[0]! & 0x80) throw new DerError('negative ECDSA signature integer');
    if (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v.length > 48) throw new DerError('ECDSA signature integer longer than 48 bytes');
    out.set(v, off + 48 - v.length);
  }
  return out;
}

const NAME_STRING_TAGS = new Set([0x0c, 0x12, 0x13, 0x14, 0x16, 0x1a, 0x1c, 0x1e]);

function nameToString(der: Uint8Array, name: Tlv): string {
  const parts: string[] = [];
  for (const rdn of children(der, name)) {
    if (rdn.tag !== 0x31) throw new DerError('Name element is not a SET');
    const atvs = children(der, rdn);
    if (atvs.length === 0) throw new DerError('empty RelativeDistinguishedName');
    for (const atv of atvs) {
      const [oidT, valT, ...extra] = atv.tag === 0x30 ? children(der, atv) : [];
      if (!oidT || !valT || extra.length || oidT.tag !== 0x06) throw new DerError('bad Name attribute');
      checkOid(der, oidT);
      // Attribute values of names are character strings (DirectoryString and its relatives).
      if (!NAME_STRING_TAGS.has(valT.tag))
        throw new DerError(`Name attribute value has tag 0x${valT.tag.toString(16)}`);
      const oid = oidToString(contentOf(der, oidT));
      const raw = contentOf(der, valT);
      const text =
        valT.tag === 0x1e
          ? String.fromCharCode(
              ...Array.from({ length: raw.length >> 1 }, (_, k) => (raw[2 * k]! << 8) | raw[2 * k + 1]!),
            )
          : (decodeUtf8(raw) ?? toHex(raw));
      parts.push(`${NAME_LABELS[oid] ?? oid}=${text}`);
    }
  }
  // RFC 4514 writes the most specific part (CN) first.
  return parts.reverse().join(', ');
}
