/**
 * A fresh self-signed TLS certificate for the demo enclave's HTTPS listener. Clients trust it
 * explicitly (the demo hands its PEM to the transport as a CA); nothing turns certificate
 * checking off. A new key per run means the TLS binding (`certfp`) really changes each time.
 */
import { webcrypto } from 'node:crypto';
import { loadX509 } from '../../forge/x509.js';

/** A TLS key and certificate in the forms node:https and the binding check need. */
export interface DemoTlsCertificate {
  /** PEM of the certificate, also usable as a trusted CA by clients. */
  certPem: string;
  /** PEM (PKCS#8) of the private key. */
  keyPem: string;
  /** DER of the certificate: `certfp` is its SHA-256. */
  certDer: Uint8Array;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

/**
 * Create a P-256 self-signed certificate valid for a day, for `localhost`, `127.0.0.1`, `::1`
 * and any extra DNS names given.
 *
 * @example
 * ```ts
 * const { certPem, keyPem } = await createDemoTlsCertificate();
 * https.createServer({ cert: certPem, key: keyPem }, handler);
 * ```
 */
export async function createDemoTlsCertificate(extraNames: string[] = []): Promise<DemoTlsCertificate> {
  const x509 = await loadX509();
  const crypto = webcrypto as unknown as Crypto;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const serial = Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('hex');
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: `7f${serial}`,
      name: 'CN=enclave-verify demo enclave (NOT AWS; self-signed TLS)',
      notBefore: new Date(now - 5 * 60_000),
      notAfter: new Date(now + 24 * 3600_000),
      signingAlgorithm: alg,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
          ...extraNames.map((value) => ({ type: 'dns' as const, value })),
        ]),
      ],
    },
    crypto,
  );
  const keyDer = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certPem: cert.toString('pem'),
    keyPem: pem('PRIVATE KEY', keyDer),
    certDer: new Uint8Array(cert.rawData),
  };
}
