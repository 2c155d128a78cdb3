/**
 * Issue 15 finding 7, "--max-age silently widened by the clock skew": the age limit is exact at
 * its bound whatever the skew; the skew only excuses documents dated in the future.
 */
import { describe, expect, it } from 'vitest';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import type { AttestationDocument } from '../../src/parse/payload.js';
import { checkFreshness } from '../../src/policy/checks.js';
import { checkAttestation } from '../../src/verify.js';

const T = Date.parse('2025-01-01T00:00:00Z');
const doc = { timestampMs: T, timestamp: new Date(T) } as AttestationDocument;

describe('--max-age silently widened by the clock skew: checkFreshness', () => {
  it.each([
    // [age, maxAgeMs, clockSkewMs, code or 'ok']
    [89_000, 30_000, 60_000, 'ERR_STALE'], // the review's case: was "89 s old, within 30 s"
    [30_000, 30_000, 60_000, 'ok'],
    [30_001, 30_000, 60_000, 'ERR_STALE'],
    [30_001, 30_000, 0, 'ERR_STALE'],
    [300_000, 300_000, 2 ** 31 - 1, 'ok'],
    [300_001, 300_000, 2 ** 31 - 1, 'ERR_STALE'],
    [0, 0, 60_000, 'ok'],
    [1, 0, 60_000, 'ERR_STALE'],
    [-60_000, 0, 60_000, 'ok'], // dated in the future, within the skew
    [-60_001, 0, 60_000, 'ERR_FUTURE'],
    [-1, 30_000, 0, 'ERR_FUTURE'],
  ])('age %i ms, maxAgeMs %i, clockSkewMs %i: %s', (age, maxAgeMs, skew, expected) => {
    const c = checkFreshness(doc, T + age, maxAgeMs, skew);
    expect(c.ok ? 'ok' : c.code).toBe(expected);
  });

  it('messages state the exact age and limit', () => {
    expect(checkFreshness(doc, T + 89_000, 30_000, 60_000).detail).toBe(
      'the document is 89 s old, more than the allowed 30 s: request a fresh one',
    );
    expect(checkFreshness(doc, T + 30_001, 30_000, 60_000).detail).toBe(
      'the document is 30.001 s old, more than the allowed 30 s: request a fresh one',
    );
    expect(checkFreshness(doc, T + 30_000, 30_000, 60_000).detail).toBe('30 s old, within 30 s');
    expect(checkFreshness(doc, T - 5_000, 30_000, 60_000).detail).toBe(
      'dated 5 s after the verification time, within the clock skew of 60 s; at most 30 s old allowed',
    );
  });

  it('verifyAttestation: maxAgeMs 30 s refuses a document 30.001 s old with the default 60 s skew', async () => {
    const pki = await createTestPki({ at: new Date(T) });
    const bytes = await issueAttestation(pki, { timestamp: T });
    const at = (ms: number) =>
      checkAttestation(bytes, {
        trustedRoots: [pki.rootPem],
        currentDate: new Date(T + ms),
        maxAgeMs: 30_000,
      });
    expect((await at(30_000)).ok).toBe(true);
    expect((await at(30_001)).error?.code).toBe('ERR_STALE');
    expect((await at(89_000)).error?.code).toBe('ERR_STALE');
  });
});
