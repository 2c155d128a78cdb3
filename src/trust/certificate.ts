/**
 * Reads from an X.509 certificate exactly what the chain checks need (SPEC 1.3), with a small DER
 * walker instead of pkijs or @peculiar/x509 object graphs: building those costs milliseconds per
 * document, more than the signature checks themselves.
 */
import { EnclaveVerifyError } from '../errors.js';
import { bytesEqual, decodeUtf8, toHex } from '../util/bytes.js';
import { children, contentOf, DerError, expectTlv, oidToString, type Tlv } from './der.js';

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
  keyUsage?: { critical: boolean; bits: Uint8Array };
  /** OIDs (dotted) of critical extensions we do not understand. */
  unknownCritical: string[];
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
    version = readSmallInt(der, v) + 1;
    i = 1;
  }
  const serialT = need(tbsParts[i++], 0x02, 'serialNumber');
  const innerAlgT = need(tbsParts[i++], 0x30, 'signature');
  const issuerT = need(tbsParts[i++], 0x30, 'issuer');
  const validityT = need(tbsParts[i++], 0x30, 'validity');
  const subjectT = need(tbsParts[i++], 0x30, 'subject');
  const spkiT = need(tbsParts[i++], 0x30, 'subjectPublicKeyInfo');
  let extsT: Tlv | undefined;
  for (; i < tbsParts.length; i++) {
    const t = tbsParts[i]!;
    if (t.tag === 0xa3) extsT = t;
    else if (t.tag !== 0x81 && t.tag !== 0xa1 && t.tag !== 0x82 && t.tag !== 0xa2) {
      throw new DerError(`unexpected TBSCertificate element 0x${t.tag.toString(16)}`);
    }
  }
  const outerAlg = der.subarray(algT.start, algT.end);
  const innerAlg = der.subarray(innerAlgT.start, innerAlgT.end);
  const algOid = expectTlv(der, innerAlgT.content, innerAlgT.end, 0x06, 'signature algorithm');
  const algOidHex = toHex(contentOf(der, algOid));
  const signatureIsEcdsaSha384 =
    bytesEqual(outerAlg, innerAlg) && algOidHex === OID_ECDSA_SHA384 && algOid.end === innerAlgT.end;

  const [nb, na, ...more] = children(der, validityT);
  if (!nb || !na || more.length) throw new DerError('validity must have 2 times');

  const spkiParts = children(der, spkiT);
  const keyAlgT = need(spkiParts[0], 0x30, 'key algorithm');
  const keyBits = need(spkiParts[1], 0x03, 'subjectPublicKey');
  if (keyBits.end - keyBits.content < 2 || der[keyBits.content] !== 0)
    throw new DerError('bad subjectPublicKey');
  const keyAlg = children(der, keyAlgT);
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
    signatureRaw: ecdsaSigToRaw(der, sigT),
    issuerRaw: der.subarray(issuerT.start, issuerT.end),
    subjectRaw: der.subarray(subjectT.start, subjectT.end),
    issuer: nameToString(der, issuerT),
    subject: nameToString(der, subjectT),
    notBeforeMs: readTime(der, nb),
    notAfterMs: readTime(der, na),
    spki: der.subarray(spkiT.start, spkiT.end),
    keyIsP384,
    publicKeyPoint: der.subarray(keyBits.content + 1, keyBits.end),
    unknownCritical: [],
  };
  if (extsT) readExtensions(der, extsT, parsed);
  return parsed;
}

function need(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t) throw new DerError(`${what} is missing`);
  if (t.tag !== tag) throw new DerError(`${what} has tag 0x${t.tag.toString(16)}`);
  return t;
}

function readSmallInt(der: Uint8Array, t: Tlv): number {
  const n = t.end - t.content;
  if (t.tag !== 0x02 || n < 1 || n > 4 || der[t.content]! & 0x80) throw new DerError('bad small integer');
  let v = 0;
  for (let p = t.content; p < t.end; p++) v = v * 256 + der[p]!;
  return v;
}

function readExtensions(der: Uint8Array, wrapper: Tlv, out: ParsedCertificate): void {
  const list = expectTlv(der, wrapper.content, wrapper.end, 0x30, 'extensions');
  const seen = new Set<string>();
  for (const ext of children(der, list)) {
    if (ext.tag !== 0x30) throw new DerError('extension is not a SEQUENCE');
    const parts = children(der, ext);
    const oidT = need(parts[0], 0x06, 'extension id');
    let critical = false;
    let valueT = parts[1];
    if (valueT?.tag === 0x01) {
      if (valueT.end - valueT.content !== 1 || der[valueT.content] !== 0xff) {
        throw new DerError('critical flag must be TRUE when present (DER)');
      }
      critical = true;
      valueT = parts[2];
    }
    const value = need(valueT, 0x04, 'extension value');
    const oid = toHex(contentOf(der, oidT));
    if (seen.has(oid)) throw new DerError(`duplicate extension ${oidToString(contentOf(der, oidT))}`);
    seen.add(oid);
    if (oid === OID_BASIC_CONSTRAINTS) {
      const seq = expectTlv(der, value.content, value.end, 0x30, 'basicConstraints');
      let ca = false;
      let pathLen: number | undefined;
      for (const f of children(der, seq)) {
        if (f.tag === 0x01) ca = der[f.content] === 0xff;
        else if (f.tag === 0x02) pathLen = readSmallInt(der, f);
        else throw new DerError('unexpected basicConstraints field');
      }
      out.basicConstraints = pathLen === undefined ? { critical, ca } : { critical, ca, pathLen };
    } else if (oid === OID_KEY_USAGE) {
      const bits = expectTlv(der, value.content, value.end, 0x03, 'keyUsage');
      if (bits.end - bits.content < 1) throw new DerError('empty keyUsage');
      out.keyUsage = { critical, bits: der.subarray(bits.content + 1, bits.end) };
    } else if (critical && !UNDERSTOOD_CRITICAL.has(oid)) {
      out.unknownCritical.push(oidToString(contentOf(der, oidT)));
    }
  }
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
  const byte = cert.keyUsage?.bits[bit >> 3];
  return byte !== undefined && (byte & (0x80 >> (bit & 7))) !== 0;
}

// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> 48-byte big-endian r || s for WebCrypto.
function ecdsaSigToRaw(der: Uint8Array, bitString: Tlv): Uint8Array | undefined {
  if (bitString.end - bitString.content < 2 || der[bitString.content] !== 0) return undefined;
  try {
    const seq = expectTlv(der, bitString.content + 1, bitString.end, 0x30);
    if (seq.end !== bitString.end) return undefined;
    const [r, s, ...more] = children(der, seq);
    if (!r || !s || more.length || r.tag !== 0x02 || s.tag !== 0x02) return undefined;
    const out = new Uint8Array(96);
    for (const [t, off] of [
      [r, 0],
      [s, 48],
    ] as const) {
      let v = contentOf(der, t);
      if (v.length === 0 || v[0]! & 0x80) return undefined;
      while (v.length > 1 && v[0] === 0) v = v.subarray(1);
      if (v.length > 48) return undefined;
      out.set(v, off + 48 - v.length);
    }
    return out;
  } catch {
    return undefined;
  }
}

function readTime(der: Uint8Array, t: Tlv): number {
  const s = String.fromCharCode(...contentOf(der, t));
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === 0x17) {
    m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) throw new DerError('bad UTCTime');
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (t.tag === 0x18) {
    m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) throw new DerError('bad GeneralizedTime');
    year = Number(m[1]);
  } else {
    throw new DerError('validity time has a wrong tag');
  }
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
    throw new DerError('time out of range');
  return Date.UTC(year, mo - 1, d, h, mi, se);
}

function nameToString(der: Uint8Array, name: Tlv): string {
  const parts: string[] = [];
  for (const rdn of children(der, name)) {
    if (rdn.tag !== 0x31) throw new DerError('Name element is not a SET');
    for (const atv of children(der, rdn)) {
      const [oidT, valT] = children(der, atv);
      if (!oidT || !valT || oidT.tag !== 0x06) throw new DerError('bad Name attribute');
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
