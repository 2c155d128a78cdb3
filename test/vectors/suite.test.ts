import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cli } from './cli-support.js';

describe('enclave-verify vectors run vectors/', () => {
  it('passes every case of the committed suite with this library', async () => {
    const r = await cli(['run', 'vectors/', '--json']);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      passed: number;
      failed: number;
      skipped: number;
      results: { id: string; kind: string; status: string; message?: string }[];
    };
    const failures = out.results.filter((x) => x.status === 'fail').map((x) => `${x.id}: ${x.message}`);
    expect(failures).toEqual([]);
    expect(r.code).toBe(0);
    const perKind: Record<string, number> = {};
    for (const x of out.results) if (x.status === 'pass') perKind[x.kind] = (perKind[x.kind] ?? 0) + 1;
    console.log(
      `[vectors] ${out.passed} passed, ${out.failed} failed, ${out.skipped} skipped; per kind ${JSON.stringify(perKind)}`,
    );
    // The project carries every input (vectors/real holds the copies of the public documents).
    const count = (prefix: string) =>
      out.results.filter((x) => x.id.startsWith(prefix) && x.status === 'pass').length;
    expect(count('eif/synthetic/') + count('eif/malformed/')).toBe(29);
    expect(count('expected-pcrs/synthetic/')).toBe(21);
    expect(count('ramdisk/')).toBe(17 + 12);
    // nitro-cli: every case of vectors/real/nitro-cli in both layouts (customer ramdisk SHA-256
    // and size, PCR2; the docker-save form with the bootstrap blobs also PCR0 and PCR1).
    expect(count('ramdisk/real/nitro-cli/')).toBe(12);
    expect(count('attestation/forge/')).toBe(113);
    // NitroTPM (issue 16): 2 real documents x 8 cases, each passing with its exact code.
    expect(count('attestation/real/nitrotpm/')).toBe(16);
    // None may be skipped: no case depends on data outside the clone.
    expect(out.skipped).toBe(0);
    expect(out.results.filter((x) => x.id.startsWith('attestation/real/')).length).toBe(48);
    expect(out.results.filter((x) => x.id.startsWith('eif/real/')).length).toBe(7);
  }, 120_000);

  it('prints "N passed, M failed" and honours --only', async () => {
    const r = await cli(['run', 'vectors/', '--only', 'eif/real/*', '--only', 'expected-pcrs/real/*']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('13 passed, 0 failed (passed: eif 7, expected-pcrs 6)\n');
    const none = await cli(['run', 'vectors/', '--only', 'nothing/*']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/ERR_USAGE: no case id matches nothing\/\*/);
    const bogus = await cli(['run', 'vectors/', '--bogus', '--json']);
    expect(bogus.code).toBe(2);
    expect(JSON.parse(bogus.stdout)).toMatchObject({ ok: false, code: 'ERR_USAGE' });
  });

  it('fails a run whose expectation is wrong, naming the case and both outcomes', async () => {
    const r = await cli(['run', 'test/vectors/fixtures/wrong.json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^FAIL wrong\/expects-accept: expected accept, got reject ERR_CERT_EXPIRED \(certificate .* is expired at 2031-01-01T00:00:00.000Z .*\)\n0 passed, 1 failed\n$/,
    );
  });

  it('refuses bad usage with exit 2', async () => {
    expect((await cli(['run'])).code).toBe(2);
    expect((await cli(['walk', 'vectors/'])).code).toBe(2);
    expect((await cli(['run', 'vectors/', '--match', 'vibes'])).code).toBe(2);
    expect((await cli(['run', 'vectors/', '--command', 'x {nope}'])).code).toBe(2);
    expect((await cli(['run', 'no/such/dir'])).code).toBe(2);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: enclave-verify vectors run/);
  });
});

describe('vectors/attestation.json', () => {
  it('is in step with the forged catalogue in vectors/attestation/cases.json (re-run scripts/vectors/attestation.mjs)', () => {
    const read = (p: string) =>
      JSON.parse(readFileSync(new URL(`../../vectors/${p}`, import.meta.url), 'utf8'));
    const source = read('attestation/cases.json') as {
      root: string;
      cases: { id: string; file: string; expect: string; options: Record<string, unknown> }[];
    };
    const ours = read('attestation.json') as {
      cases: {
        id: string;
        input: { file: string };
        options: Record<string, unknown>;
        expect: { result: string; code?: string };
      }[];
    };
    const want = source.cases.map((c) => [
      `attestation/forge/${c.id}`,
      c.file,
      c.expect === 'ok' ? 'accept' : c.expect,
    ]);
    const got = ours.cases.map((c) => [
      c.id,
      c.input.file,
      c.expect.result === 'accept' ? 'accept' : c.expect.code,
    ]);
    expect(got).toEqual(want);
    for (const c of ours.cases) expect(c.options.trustedRoots).toEqual([source.root]);
  });
});
