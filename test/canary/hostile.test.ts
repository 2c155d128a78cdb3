// Hostile input to the Canary parsers: mutated vectors and random JSON only ever give a typed
// ERR_CANARY_* error (or a valid parse), never another exception or a hang; and Caution's own
// PCR files are read for exactly their three PCRs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCanaryConfig } from '../../src/canary/config.js';
import { parseEvidenceBundle } from '../../src/canary/evidence.js';
import { parseStrictJson } from '../../src/canary/jcs.js';
import { parseKeysDocument } from '../../src/canary/keys.js';
import { parseNodeMetadata } from '../../src/canary/metadata.js';
import { parseStatement } from '../../src/canary/statement.js';
import { EnclaveVerifyError } from '../../src/errors.js';
import { parseExpectedPcrs } from '../../src/policy/expected-pcrs.js';
import { EVIDENCE_PCRS, vectorText } from './support.js';

const statementText = JSON.stringify(JSON.parse(vectorText('statement-v0-vector.json')).statement);
const keysText = JSON.stringify(JSON.parse(vectorText('statement-v0-vector.json')).keys);
const PARSERS: [string, string, (t: string) => unknown][] = [
  ['statement', statementText, parseStatement],
  ['keys', keysText, parseKeysDocument],
  ['config', vectorText('canary.json'), parseCanaryConfig],
  ['evidence', vectorText('evidence-v0-vector.json'), parseEvidenceBundle],
  ['metadata', '{"protocol":"caution-canary-v0"}', (t) => parseNodeMetadata(new TextEncoder().encode(t))],
];

async function outcome(parse: (t: string) => unknown, text: string): Promise<string> {
  try {
    await parse(text);
    return 'ok';
  } catch (e) {
    if (!(e instanceof EnclaveVerifyError)) throw e;
    expect(e.code).toMatch(/^ERR_CANARY_/);
    return e.code;
  }
}

describe('hostile input to the canary parsers', () => {
  it.each(PARSERS)('%s: 300 mutated texts give only typed errors', async (_, seed, parse) => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: seed.length - 1 }),
        fc.integer({ min: 0, max: 12 }),
        fc.string({ maxLength: 8 }),
        async (at, cut, insert) => {
          await outcome(parse, seed.slice(0, at) + insert + seed.slice(at + cut));
        },
      ),
      { numRuns: 300, seed: 12 },
    );
  });

  it('deep nesting is refused and a long string parses, both quickly', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const start = performance.now();
    for (const [, , parse] of PARSERS) expect(await outcome(parse, deep)).toMatch(/^ERR_CANARY_/);
    expect(() => parseStrictJson(`"${'\\u0041'.repeat(200_000)}"`)).not.toThrow();
    expect(performance.now() - start).toBeLessThan(2000);
  });
});

describe("Caution's PCR files", () => {
  it('trusted_hashes.json: the three PCRs, verified_at and tls ignored', () => {
    const text = JSON.stringify({
      pcr0: EVIDENCE_PCRS[0],
      pcr1: EVIDENCE_PCRS[1],
      pcr2: EVIDENCE_PCRS[2],
      verified_at: '2025-12-23T17:20:16Z',
      tls: { domain: 'x.example', certfp: 'ab'.repeat(32) },
    });
    expect([...parseExpectedPcrs(text).keys()]).toEqual([0, 1, 2]);
  });

  it("canaryctl's {pcr0, pcr1, pcr2} with extra members", () => {
    const pcrs = parseExpectedPcrs(
      JSON.stringify({ pcr2: EVIDENCE_PCRS[2], pcr0: EVIDENCE_PCRS[0], pcr1: EVIDENCE_PCRS[1], note: 'x' }),
    );
    expect(Buffer.from(pcrs.get(2)![0]!).toString('hex')).toBe(EVIDENCE_PCRS[2]);
    expect(pcrs.size).toBe(3);
  });
});
