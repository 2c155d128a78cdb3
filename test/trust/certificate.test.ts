import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { isEnclaveVerifyError } from '../../src/errors.js';
import { parseAttestation } from '../../src/parse/document.js';
import { AWS_NITRO_ROOT_G1_PEM } from '../../src/trust/aws-root.js';
import { hasKeyUsage, KEY_USAGE, parseCertificate } from '../../src/trust/certificate.js';
import { pemToDer } from '../../src/trust/roots.js';

const NITRO = new URL('../../vectors/real/nitro/', import.meta.url);
const doc = parseAttestation(
  new Uint8Array(readFileSync(new URL('valid/anjuna_2021-03-17_prod.cbor', NITRO))),
).document;

describe('minimal X.509 reader', () => {
  test('reads the AWS root as openssl shows it', () => {
    const root = parseCertificate(pemToDer(AWS_NITRO_ROOT_G1_PEM)[0]!);
    expect(root.subject).toBe('CN=aws.nitro-enclaves, OU=AWS, O=Amazon, C=US');
    expect(root.issuer).toBe(root.subject);
    expect(root.version).toBe(3);
    expect(new Date(root.notBeforeMs).toISOString()).toBe('2019-10-28T13:28:05.000Z');
    expect(new Date(root.notAfterMs).toISOString()).toBe('2049-10-28T14:28:05.000Z');
    expect(root.keyIsP384).toBe(true);
    expect(root.signatureIsEcdsaSha384).toBe(true);
    expect(root.basicConstraints).toEqual({ critical: true, ca: true });
    expect(hasKeyUsage(root, KEY_USAGE.keyCertSign)).toBe(true);
    expect(root.serialHex).toBe('00f93175681b90afe11d46ccb4e4e7f856');
  });

  test('reads the real leaf and instance CA extensions (pathLen 0, CA:FALSE, non-critical keyUsage)', () => {
    const leaf = parseCertificate(doc.certificate);
    expect(leaf.subject).toBe(
      'CN=i-078824548edcf6519-enc01784234ec227b58.us-east-2.aws, OU=AWS, O=Amazon, L=Seattle, ST=Washington, C=US',
    );
    expect(leaf.basicConstraints).toEqual({ critical: true, ca: false });
    expect(leaf.keyUsage?.critical).toBe(false);
    expect(hasKeyUsage(leaf, KEY_USAGE.digitalSignature)).toBe(true);
    expect(new Date(leaf.notBeforeMs).toISOString()).toBe('2021-03-17T22:01:55.000Z');
    expect(leaf.signatureRaw?.length).toBe(96);
    const instance = parseCertificate(doc.cabundle[3]!);
    expect(instance.basicConstraints).toEqual({ critical: true, ca: true, pathLen: 0 });
    expect(hasKeyUsage(instance, KEY_USAGE.keyCertSign)).toBe(true);
    expect(hasKeyUsage(instance, KEY_USAGE.digitalSignature)).toBe(false);
    const regional = parseCertificate(doc.cabundle[1]!);
    expect(regional.basicConstraints?.pathLen).toBe(2);
    expect(regional.unknownCritical).toEqual([]);
  });

  test('malformed DER is ERR_CHAIN_INVALID, at every truncation point', () => {
    for (let n = 0; n < doc.certificate.length; n += 7) {
      let code = '';
      try {
        parseCertificate(doc.certificate.subarray(0, n));
      } catch (e) {
        if (isEnclaveVerifyError(e)) code = e.code;
      }
      expect(code).toBe('ERR_CHAIN_INVALID');
    }
  });
});
