import { describe, expect, test } from 'vitest';
import { createTestPki, issueAttestation, testPcrs } from '../../src/forge/index.js';
import { decodeAttestation } from '../../src/parse/document.js';
import { toHex } from '../../src/util/bytes.js';
import { checkAttestation, verifyAttestation } from '../../src/verify.js';

const AT = new Date('2025-06-01T12:00:00Z');

describe('forge', () => {
  test('a forged document verifies against its own root and is refused by the AWS root', async () => {
    const pki = await createTestPki({ at: AT });
    const nonce = new Uint8Array(32).fill(7);
    const bytes = await issueAttestation(pki, { nonce });
    const result = await verifyAttestation(bytes, {
      trustedRoots: [pki.rootPem],
      currentDate: 'document',
      nonce,
    });
    expect(result.document.timestampMs).toBe(AT.getTime());
    expect(result.chain.map((c) => c.role)).toEqual([
      'leaf',
      'intermediate',
      'intermediate',
      'intermediate',
      'root',
    ]);
    expect(result.chain[4]!.subject).toContain('NOT AWS');
    expect(toHex(result.document.pcrs.get(0)!)).toBe('10'.repeat(48));
    const aws = await checkAttestation(bytes, { currentDate: 'document' });
    expect(aws.error?.code).toBe('ERR_CHAIN_UNTRUSTED');
  });

  test('the document has the NSM shape: untagged, protected {1:-35}, nulls for absent optionals', async () => {
    const pki = await createTestPki({ at: AT });
    const bytes = await issueAttestation(pki);
    expect(toHex(bytes.subarray(0, 6))).toBe('8444a1013822');
    const doc = decodeAttestation(bytes);
    expect(doc.nonce).toBeUndefined();
    expect(doc.pcrs.size).toBe(16);
    expect(doc.cabundle.length).toBe(4);
    expect([...testPcrs().keys()]).toEqual([...doc.pcrs.keys()]);
  });
});
