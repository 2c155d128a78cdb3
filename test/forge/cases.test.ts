import { beforeAll, describe, expect, test } from 'vitest';
import { isEnclaveVerifyError } from '../../src/errors.js';
import { type AttestationCaseSet, buildAttestationCases, caseVerifyOptions } from '../../src/forge/index.js';
import { verifyAttestation } from '../../src/verify.js';

// One forged document per rule of SPEC 1.1-1.4 (src/forge/cases.ts), each verified fresh here.
let set: AttestationCaseSet;
beforeAll(async () => {
  set = await buildAttestationCases();
});

const ids = await buildAttestationCases().then((s) => s.cases.map((c) => c.id));

describe('synthetic attestation cases', () => {
  test('ids are unique and every group is covered', () => {
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(set.cases.map((c) => c.group))).toEqual(
      new Set(['valid', 'input', 'cbor', 'envelope', 'payload', 'chain', 'policy']),
    );
  });

  test.each(ids)('%s', async (id) => {
    const c = set.cases.find((x) => x.id === id)!;
    let outcome = 'ok';
    try {
      await verifyAttestation(c.bytes, caseVerifyOptions(c.options, set.rootPem));
    } catch (e) {
      if (!isEnclaveVerifyError(e)) throw e;
      outcome = e.code;
    }
    expect(outcome).toBe(c.expect);
  });
});
