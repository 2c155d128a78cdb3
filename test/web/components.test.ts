// Pure helpers of the page's components (the DOM parts are exercised in Chromium by page.test.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseExpectedPcrs } from '../../src/index.js';
import { axisPercent, utcText } from '../../src/web/components/chain.js';
import { durationText, printableText } from '../../src/web/components/details.js';
import { pcrRowState } from '../../src/web/components/pcr-table.js';
import { verifyDocument } from '../../src/web/verifier.js';

const at = new Date('2025-01-01T00:00:00Z');
const later = (ms: number) => new Date(at.getTime() + ms);
const HOUR = 3_600_000;

describe('chain time axis', () => {
  it('centres the verification time and mirrors past and future', () => {
    expect(axisPercent(at, at)).toBe(50);
    expect(axisPercent(later(HOUR), at) - 50).toBeCloseTo(50 - axisPercent(later(-HOUR), at), 10);
  });

  it('gives a 3-hour leaf a visible share and keeps a 30-year root inside the axis', () => {
    const leaf = axisPercent(later(3 * HOUR), at) - axisPercent(at, at);
    expect(leaf).toBeGreaterThan(10);
    expect(axisPercent(later(30 * 365 * 24 * HOUR), at)).toBeLessThan(100);
    expect(axisPercent(later(-30 * 365 * 24 * HOUR), at)).toBeGreaterThan(0);
    expect(axisPercent(later(1e15), at)).toBe(100);
  });

  it('formats UTC times to the second', () => {
    expect(utcText(new Date(1668034320696))).toBe('2022-11-09 22:52:00 UTC');
  });
});

describe('details', () => {
  it('writes durations at a readable scale', () => {
    expect(durationText(45_000)).toBe('45 s');
    expect(durationText(-45_000)).toBe('45 s');
    expect(durationText(20 * 60_000)).toBe('20 min');
    expect(durationText(3 * HOUR + 12 * 60_000)).toBe('3 h 12 min');
    expect(durationText(337 * 24 * HOUR)).toBe('337 days');
  });

  it('shows user data as text only when it is clean UTF-8', () => {
    const enc = new TextEncoder();
    expect(printableText(enc.encode('hello, world!'))).toBe('hello, world!');
    expect(printableText(enc.encode('{"a":\n1}'))).toBe('{"a":\n1}');
    expect(printableText(new Uint8Array([0x7c, 0x37, 0x10, 0x80]))).toBeUndefined();
    expect(printableText(enc.encode('bell\u0007'))).toBeUndefined();
    expect(printableText(new Uint8Array())).toBeUndefined();
  });
});

describe('PCR rows', () => {
  it('follows the library verdict and says when nothing was expected', () => {
    expect(pcrRowState({ index: 0, actual: 'ab', expected: ['ab'], match: true })).toBe('match');
    expect(pcrRowState({ index: 0, actual: 'ab', expected: ['cd'], match: false })).toBe('mismatch');
    expect(pcrRowState({ index: 9, expected: ['cd'], match: false })).toBe('missing');
    expect(pcrRowState({ index: 3, actual: 'ab', expected: [] })).toBe('unchecked');
  });
});

describe('verdict lines', () => {
  const NITRO = new URL('../../vectors/real/nitro/valid/', import.meta.url);
  const PCR0 =
    '2d151586641b790f3b1b92b8f89678c3aa86e73dd97969c892124be9d2b7fdc62b58a55cd9ee8216f6f5689cebf590ad';
  const PCR1 =
    '72d70b1f599a4af7213e2d243e4212a3643ebb4990b78b5218680f6fdec94185721c44e2b6858a452ca0523be521dbf6';

  it('count the expected PCRs in words that agree with the number', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('anjuna_2021-03-17_prod.cbor', NITRO)));
    const line = async (text: string) => {
      const outcome = await verifyDocument(bytes, {
        at: 'document',
        expected: parseExpectedPcrs(text),
        allowDebug: false,
        trustedRoots: undefined,
      });
      const { verdict } = outcome;
      // Only a verdict with lines has the PCR line; any other state fails the comparison by name.
      return verdict.state === 'ok' ? verdict.lines[1] : `verdict state ${verdict.state}`;
    };
    expect(await line(`PCR0: ${PCR0}`)).toBe('The expected PCR matches.');
    expect(await line(`PCR0: ${PCR0}\nPCR1: ${PCR1}`)).toBe('All 2 expected PCRs match.');
  });
});

describe('verdict states (issue 16)', () => {
  const TPM = new URL('../../vectors/real/nitrotpm/', import.meta.url);
  const tpm = (
    JSON.parse(readFileSync(new URL('manifest.json', TPM), 'utf8')) as {
      file: string;
      nitrotpm_pcrs: Record<string, string>;
    }[]
  )[0]!;
  const bytes = new Uint8Array(readFileSync(new URL(tpm.file, TPM)));
  const run = (expected: string | undefined) =>
    verifyDocument(bytes, {
      at: 'document',
      expected: expected === undefined ? undefined : parseExpectedPcrs(expected),
      allowDebug: false,
      trustedRoots: undefined,
    });

  it('no expected PCRs: the warning state, never "ok"; with PCRs: "ok", naming the NitroTPM kind', async () => {
    const warn = await run(undefined);
    expect([warn.verdict.state, warn.verdict.title]).toEqual(['warn', '⚠ Genuine, code not checked']);
    expect(warn.verdict.state === 'warn' && warn.verdict.lines).toEqual([
      expect.stringMatching(/^Genuine AWS NitroTPM attestation of an EC2 instance: the certificate chain/),
      'No expected PCRs were given: this proves the document is genuine, not WHICH code the instance booted. Give the PCRs you expect to check the code.',
    ]);
    const ok = await run(`PCR4: ${tpm.nitrotpm_pcrs['4']}`);
    expect([ok.verdict.state, ok.verdict.title]).toEqual(['ok', 'Verified']);
    expect(ok.report?.document?.kind).toBe('nitrotpm');
    const bad = await run(`PCR12: ${'00'.repeat(48)}`);
    expect(bad.verdict.state === 'bad' && bad.verdict.code).toBe('ERR_PCR_MISMATCH');
  });
});
