// The monitor's revocation check (canary watch --check-revocation): evidence that passed is
// failed as INVALID_CERTIFICATE_CHAIN when a chain certificate is revoked, or, when required,
// when a status could not be learnt; otherwise the verdict stands and the log says what happened.
import 'reflect-metadata';
import { expect, test } from 'vitest';
import type { ProbeResult } from '../../src/canary/node/probe.js';
import { revocationEvidenceHook } from '../../src/canary/node/revocation-hook.js';
import { issueAttestation, testPcrs } from '../../src/forge/attestation.js';
import { issueTestCrl } from '../../src/forge/crl.js';
import { createTestPki } from '../../src/forge/pki.js';
import { runCli } from '../support/cli.js';

const AT = new Date('2026-05-01T00:00:00Z');

test('revoked, good, unavailable and required-unavailable evidence', async () => {
  const pki = await createTestPki({
    at: AT,
    knobs: {
      regional: { crlDistributionPoints: ['http://crl.invalid/root.crl'] },
      zonal: { crlDistributionPoints: ['http://crl.invalid/regional.crl'] },
    },
  });
  const thisUpdate = new Date(AT.getTime() - 3_600_000);
  const rootCrl = await issueTestCrl(pki.root, { thisUpdate });
  const goodRegional = await issueTestCrl(pki.regional, { thisUpdate });
  const revoking = await issueTestCrl(pki.regional, { thisUpdate, revoked: [{ certificate: pki.zonal }] });
  const doc = await issueAttestation(pki, { timestamp: AT, pcrs: testPcrs() });
  const result = { attemptedAt: AT } as ProbeResult;
  const lines: string[] = [];
  const hook = (crls: Uint8Array[], require = false) =>
    revocationEvidenceHook({
      trustedRoots: [pki.rootPem],
      checkRevocation: { crls, fetch: false, require },
      log: (l) => lines.push(l),
    })(doc, result);
  expect(await hook([rootCrl, goodRegional])).toBeUndefined();
  expect(lines).toEqual([]);
  expect(await hook([rootCrl, revoking])).toBe('INVALID_CERTIFICATE_CHAIN');
  expect(lines[0]).toMatch(/^revocation: '.*zonal.*' REVOKED at /);
  lines.length = 0;
  expect(await hook([rootCrl])).toBeUndefined();
  expect(lines[0]).toMatch(
    /unavailable \[ERR_HTTP\]: the CRL at http:\/\/crl\.invalid\/regional\.crl is not cached/,
  );
  expect(await hook([rootCrl], true)).toBe('INVALID_CERTIFICATE_CHAIN');
});

test('canary watch takes the revocation flags (and refuses --crl alone)', async () => {
  const help = await runCli(['canary', 'watch', '--help']);
  expect(help.stdout).toContain('--require-revocation');
  const alone = await runCli(['canary', 'watch', 'canary.json', '--crl', 'x.crl']);
  expect(alone.code).toBe(2);
  expect(alone.stderr).toContain('--crl and --crl-cache only apply with --check-revocation');
});
