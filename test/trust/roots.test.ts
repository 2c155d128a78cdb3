import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { isEnclaveVerifyError } from '../../src/errors.js';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { AWS_NITRO_ROOT_G1_PEM } from '../../src/trust/aws-root.js';
import { awsNitroRoot, loadTrustedRoots, pemToDer } from '../../src/trust/roots.js';
import { utf8 } from '../../src/util/bytes.js';
import { verifyAttestation } from '../../src/verify.js';

const NITRO = new URL('../../vectors/real/nitro/', import.meta.url);

describe('trusted roots', () => {
  test('the embedded root is the shared PEM and passes its pin', async () => {
    const shared = readFileSync(new URL('aws_nitro_root_g1.pem', NITRO), 'utf8');
    expect(AWS_NITRO_ROOT_G1_PEM.trim()).toBe(shared.trim());
    expect((await awsNitroRoot()).fingerprint()).toBe(
      '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b',
    );
  });

  test('roots may be PEM text, PEM bytes or DER; several in one PEM', async () => {
    const a = await createTestPki();
    const b = await createTestPki({ label: 'B' });
    const roots = await loadTrustedRoots([`${a.rootPem}\n${b.rootPem}`, utf8(a.rootPem), a.root.der]);
    expect(roots.map((r) => r.cert.subject.includes('root'))).toEqual([true, true, true, true]);
    expect(pemToDer(b.rootPem)[0]).toEqual(b.root.der);
  });

  test('a document verifies against the right one of several trusted roots', async () => {
    const a = await createTestPki();
    const b = await createTestPki();
    // Same names, different keys: the verifier must pick the root whose key signed the chain.
    const bytes = await issueAttestation(b);
    const r = await verifyAttestation(bytes, {
      trustedRoots: [a.rootPem, b.rootPem],
      currentDate: 'document',
    });
    expect(r.chain.at(-1)!.subject).toBe(r.chain.at(-2)!.issuer);
    let code = '';
    try {
      await verifyAttestation(bytes, { trustedRoots: [a.rootPem], currentDate: 'document' });
    } catch (e) {
      if (isEnclaveVerifyError(e)) code = e.code;
    }
    expect(code).toBe('ERR_CHAIN_UNTRUSTED');
  });

  test('a real document is untrusted when only a test root is trusted', async () => {
    const pki = await createTestPki();
    const bytes = new Uint8Array(readFileSync(new URL('valid/anjuna_2021-03-17_prod.cbor', NITRO)));
    let code = '';
    try {
      await verifyAttestation(bytes, { trustedRoots: [pki.rootPem], currentDate: 'document' });
    } catch (e) {
      if (isEnclaveVerifyError(e)) code = e.code;
    }
    expect(code).toBe('ERR_CHAIN_UNTRUSTED');
  });

  test('text that holds no certificate is ERR_INPUT_FORMAT', () => {
    expect(() => pemToDer('nothing here')).toThrow(/BEGIN CERTIFICATE/);
  });
});
