import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ERROR_CODES, isEnclaveVerifyError } from '../../src/errors.js';
import { buildAttestationCases, type CaseOptions, caseVerifyOptions } from '../../src/forge/index.js';
import { verifyAttestation } from '../../src/verify.js';

// The committed output of scripts/gen-test-pki.mjs: each file must give exactly its expected outcome.
const DIR = new URL('../../vectors/attestation/', import.meta.url);
const suite = JSON.parse(readFileSync(new URL('cases.json', DIR), 'utf8')) as {
  format: string;
  root: string;
  cases: Array<{ id: string; file: string; expect: string; class?: string; options: CaseOptions }>;
};
const rootPem = readFileSync(new URL(suite.root, DIR), 'utf8');

describe('vectors/attestation', () => {
  test('cases.json lists the same cases as the catalogue in src/forge/cases.ts', async () => {
    const catalogue = await buildAttestationCases();
    expect(suite.format).toBe('enclave-verify/attestation-cases@1');
    expect(suite.cases.map((c) => [c.id, c.expect])).toEqual(catalogue.cases.map((c) => [c.id, c.expect]));
    expect(rootPem).toContain('BEGIN CERTIFICATE');
  });

  test.each(suite.cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const bytes = new Uint8Array(readFileSync(new URL(c.file, DIR)));
    let outcome = 'ok';
    try {
      await verifyAttestation(bytes, caseVerifyOptions(c.options, rootPem));
    } catch (e) {
      if (!isEnclaveVerifyError(e)) throw e;
      outcome = e.code;
    }
    expect(outcome).toBe(c.expect);
    if (c.expect !== 'ok') expect(c.class).toBe(ERROR_CODES[c.expect as keyof typeof ERROR_CODES]);
  });
});
