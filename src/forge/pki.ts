/**
 * A synthetic PKI shaped like the Nitro one (root, regional, zonal and instance CAs, then a leaf,
 * with the same extensions and pathLens as AWS) for tests, test vectors and the demo enclave.
 * Every name says TEST and NOT AWS: nothing here can be mistaken for, or chain to, the real root.
 * Certificates are made with @peculiar/x509 over WebCrypto, so this runs in Node and browsers.
 */
import type * as X509 from '@peculiar/x509';
import { fromBase64 } from '../util/bytes.js';
import { loadX509, type X509Module } from './x509.js';

/** The levels of the Nitro hierarchy, top down. */
export const PKI_LEVELS = ['root', 'regional', 'zonal', 'instance', 'leaf'] as const;
/** One level of the hierarchy. */
export type PkiLevel = (typeof PKI_LEVELS)[number];

/** Per-certificate knobs, mostly for forging certificates that must be rejected. */
export interface CertificateKnobs {
  /** Subject name (RFC 4514 text). */
  subject?: string;
  /** Issuer name written in the certificate, overriding the real issuer's subject (name mismatch). */
  issuerName?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** basicConstraints CA flag; `null` omits the extension. */
  ca?: boolean | null;
  /** Mark basicConstraints critical (AWS: yes). */
  caCritical?: boolean;
  /** pathLen; `null` omits it. Defaults follow AWS: root none, regional 2, zonal 1, instance 0. */
  pathLen?: number | null;
  /** keyUsage flags (`x509.KeyUsageFlags` bits); `null` omits the extension. */
  keyUsage?: number | null;
  /** Add an unknown critical extension. */
  unknownCriticalExtension?: boolean;
  /** Hash of the issuer's signature (AWS: SHA-384). */
  signatureHash?: 'SHA-256' | 'SHA-384' | 'SHA-512';
  /** Curve of this certificate's key (AWS: P-384). */
  curve?: 'P-256' | 'P-384' | 'P-521';
  /** Sign with a fresh unrelated key instead of the issuer's (bad signature). */
  wrongSigner?: boolean;
  /** CRL Distribution Points URLs (AWS puts one on the regional and zonal CA certificates). */
  crlDistributionPoints?: string[];
}

/** Options of {@link createTestPki}. */
export interface TestPkiOptions {
  /** Time the leaf is issued (the documents' time). Default: now. */
  at?: Date;
  /** Leaf lifetime in ms (AWS: 3 hours). */
  leafLifetimeMs?: number;
  /** Knobs per level. */
  knobs?: Partial<Record<PkiLevel, CertificateKnobs>>;
  /** Short label put into names, e.g. a case id. */
  label?: string;
  /** Reuse the keys of an earlier PKI (same hierarchy, new certificates). */
  keys?: Partial<Record<PkiLevel, CryptoKeyPair>>;
  /** Reuse certificates of an earlier PKI as they are (e.g. its root, so one trusted root serves many cases). */
  reuse?: Partial<Record<PkiLevel, TestCertificate>>;
}

/** One certificate of a test PKI with its key pair. */
export interface TestCertificate {
  level: PkiLevel;
  der: Uint8Array;
  pem: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  keys: CryptoKeyPair;
}

/** A Nitro-shaped test PKI: use `rootPem` as the trusted root, `leaf.keys` to sign documents. */
export interface TestPki {
  root: TestCertificate;
  regional: TestCertificate;
  zonal: TestCertificate;
  instance: TestCertificate;
  leaf: TestCertificate;
  /** PEM of the root, to pass as `trustedRoots`. */
  rootPem: string;
  /** The bundle a document carries: `[root, regional, zonal, instance]`. */
  cabundle: Uint8Array[];
  /** Enclave id matching the leaf name, for `module_id`. */
  moduleId: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
type LevelDefaults = { before: number; after: number; pathLen: number | null; keyUsage: number };

// A function of the loaded module (its keyUsage flag values), since @peculiar/x509 is loaded on
// the first createTestPki call, not with this module.
function levelDefaults(x509: X509Module): Record<PkiLevel, LevelDefaults> {
  const KU = x509.KeyUsageFlags;
  const AWS_CA_USAGE = KU.digitalSignature | KU.keyCertSign | KU.cRLSign;
  return {
    root: { before: 365 * DAY, after: 30 * 365 * DAY, pathLen: null, keyUsage: AWS_CA_USAGE },
    regional: { before: 2 * DAY, after: 18 * DAY, pathLen: 2, keyUsage: AWS_CA_USAGE },
    zonal: { before: DAY, after: 5 * DAY, pathLen: 1, keyUsage: AWS_CA_USAGE },
    instance: { before: HOUR, after: 23 * HOUR, pathLen: 0, keyUsage: KU.keyCertSign },
    leaf: { before: 0, after: 3 * HOUR, pathLen: null, keyUsage: KU.digitalSignature | KU.nonRepudiation },
  };
}

function names(label: string): Record<PkiLevel, string> {
  // Written C first, like AWS names, so reports print CN first.
  const org = 'C=ZZ, O=enclave-verify test PKI, OU=TEST NOT AWS';
  const region = 'us-test-1';
  return {
    root: `${org}, CN=enclave-verify TEST root NOT AWS${label}`,
    regional: `${org}, CN=test${label}.${region}.not-aws.nitro-enclaves`,
    zonal: `${org}, CN=test${label}.zonal.${region}.not-aws.nitro-enclaves`,
    instance: `${org}, CN=i-00000000000000000.${region}.not-aws.nitro-enclaves`,
    leaf: `${org}, CN=i-00000000000000000-enc0000000000000000.${region}.not-aws`,
  };
}

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, non-zero leading byte
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

async function generateKeys(curve: string): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
}

/**
 * Create a Nitro-shaped test PKI. Validity windows follow AWS lifetimes around `at` (leaf 3 h from
 * `at`, instance CA 1 day, zonal 6 days, regional 20 days, root decades); knobs change one
 * certificate to forge an invalid chain.
 *
 * @example
 * ```ts
 * const pki = await createTestPki({ at: new Date('2025-01-01T00:00:00Z') });
 * const doc = await issueAttestation(pki, { nonce });
 * await verifyAttestation(doc, { trustedRoots: [pki.rootPem], currentDate: 'document', expectedPcrs: testPcrs() });
 * ```
 */
export async function createTestPki(options: TestPkiOptions = {}): Promise<TestPki> {
  const x509 = await loadX509();
  x509.cryptoProvider.set(crypto);
  const DEFAULTS = levelDefaults(x509);
  const at = Math.floor((options.at ?? new Date()).getTime() / 1000) * 1000;
  const subjects = names(options.label ? ` ${options.label}` : '');
  const made: Partial<Record<PkiLevel, TestCertificate>> = {};
  let parent: TestCertificate | undefined;
  for (const level of PKI_LEVELS) {
    const reused = options.reuse?.[level];
    if (reused) {
      made[level] = reused;
      parent = reused;
      continue;
    }
    const k = options.knobs?.[level] ?? {};
    const d = DEFAULTS[level];
    const keys = options.keys?.[level] ?? (await generateKeys(k.curve ?? 'P-384'));
    const subject = k.subject ?? subjects[level];
    const notBefore = k.notBefore ?? new Date(at - d.before);
    const lifetime = level === 'leaf' ? (options.leafLifetimeMs ?? d.after) : d.after;
    const notAfter = k.notAfter ?? new Date(at + lifetime);
    const extensions: X509.Extension[] = [];
    const ca = k.ca === undefined ? level !== 'leaf' : k.ca;
    if (ca !== null) {
      const pathLen = k.pathLen === undefined ? d.pathLen : k.pathLen;
      extensions.push(new x509.BasicConstraintsExtension(ca, pathLen ?? undefined, k.caCritical ?? true));
    }
    const keyUsage = k.keyUsage === undefined ? d.keyUsage : k.keyUsage;
    // AWS marks keyUsage critical on CAs and not on the leaf.
    if (keyUsage !== null) extensions.push(new x509.KeyUsagesExtension(keyUsage, level !== 'leaf'));
    if (k.crlDistributionPoints)
      extensions.push(new x509.CRLDistributionPointsExtension(k.crlDistributionPoints));
    if (k.unknownCriticalExtension) {
      extensions.push(new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([0x05, 0x00])));
    }
    const signer = k.wrongSigner
      ? (await generateKeys('P-384')).privateKey
      : (parent?.keys.privateKey ?? keys.privateKey);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomHex(16),
      subject,
      issuer: k.issuerName ?? parent?.subject ?? subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: signer,
      signingAlgorithm: { name: 'ECDSA', hash: k.signatureHash ?? 'SHA-384' } as EcdsaParams,
      extensions,
    });
    const entry: TestCertificate = {
      level,
      der: new Uint8Array(cert.rawData),
      pem: cert.toString('pem'),
      subject,
      notBefore,
      notAfter,
      keys,
    };
    made[level] = entry;
    parent = entry;
  }
  const pki = made as Record<PkiLevel, TestCertificate>;
  return {
    ...pki,
    rootPem: pki.root.pem,
    cabundle: [pki.root.der, pki.regional.der, pki.zonal.der, pki.instance.der],
    moduleId: 'i-00000000000000000-enc0000000000000000',
  };
}

/**
 * DER bytes of a PEM certificate from a test PKI (convenience for callers without a PEM reader).
 *
 * @example
 * ```ts
 * const der = testPemToDer(pki.rootPem);
 * ```
 */
export function testPemToDer(pem: string): Uint8Array {
  return fromBase64(pem.replace(/-----[A-Z ]+-----/g, ''), 'PEM');
}
