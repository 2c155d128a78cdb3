// The suite run through `--command` against our own CLI (the compiled dist/, as `npm ci` leaves
// it) must give the same verdict, case by case, as the in-process library run. Attestation and EIF
// cases are covered (the forged payload-field cases left out for time): they map to one CLI call
// each (`verify`, `measure`); ramdisk rebuilds and expected-PCR files have no single-command
// equivalent in this CLI.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { controlCharacters } from '../support/cli.js';
import { ensureBuiltCli } from '../support/dist.js';
import { cli, PROJECT } from './cli-support.js';
import { MULTI_MEMBER_ENTRIES, multiMemberSuite } from './multi-member-fixture.js';

const VERIFY =
  'attestation=node bin/enclave-verify.js verify {file} [--root {roots}] [--at {at}] [--expect-pcrs {pcrs}] ' +
  '[--nonce {nonce}] [--user-data {user_data}] [--public-key {public_key}] [--max-age {max_age_ms}ms] ' +
  '[--clock-skew {clock_skew_ms}ms] [--allow-debug{allow_debug}] [--kind {document_kind}] ' +
  '[--any-pcrs{any_pcrs}] --json';
const MEASURE = 'eif=node bin/enclave-verify.js measure {file} --format json';

interface RunJson {
  passed: number;
  failed: number;
  skipped: number;
  results: { id: string; status: string; message?: string; actual: { result: string; code?: string } }[];
}

beforeAll(ensureBuiltCli, 180_000);

describe('the installed command', () => {
  it('`enclave-verify vectors run vectors/` passes', () => {
    const out = execFileSync('node', ['bin/enclave-verify.js', 'vectors', 'run', 'vectors/'], {
      cwd: fileURLToPath(PROJECT),
      encoding: 'utf8',
    });
    console.log(`[vectors] enclave-verify vectors run vectors/: ${out.trim()}`);
    expect(out).toMatch(/^\d+ passed, 0 failed( \(passed: .*\))?\n$/);
  }, 120_000);
});

describe('vectors run --command against our own CLI', () => {
  it('gives the same verdict as the library for every attestation and EIF case', async () => {
    // All real documents and EIFs, and the forged documents except the 30 payload-field cases
    // (same parser path as the cbor-* ones), to keep this run near 30 s on two busy cores.
    const only = [
      ...['attestation/real/**', 'eif/**'],
      ...['valid', 'input', 'cbor', 'envelope', 'chain', 'policy'].map((g) => `attestation/forge/${g}-*`),
    ].flatMap((g) => ['--only', g]);
    const lib = JSON.parse((await cli(['run', 'vectors/', ...only, '--json'])).stdout) as RunJson;
    const viaCli = await cli([
      'run',
      'vectors/',
      ...only,
      '--json',
      '--command',
      VERIFY,
      '--command',
      MEASURE,
    ]);
    const cmd = JSON.parse(viaCli.stdout) as RunJson;
    const verdicts = (r: RunJson) => Object.fromEntries(r.results.map((x) => [x.id, x.status]));
    const codes = (r: RunJson) =>
      Object.fromEntries(r.results.map((x) => [x.id, `${x.actual.result} ${x.actual.code ?? ''}`]));
    console.log(
      `[vectors] library: ${lib.passed} passed, ${lib.failed} failed; through the CLI: ${cmd.passed} passed, ${cmd.failed} failed, ${cmd.skipped} skipped`,
    );
    // The CLI and the library must reach the same verdict with the same code on every case.
    expect(verdicts(cmd)).toEqual(verdicts(lib));
    expect(Object.values(verdicts(lib)).every((s) => s === 'pass')).toBe(true);
    expect(codes(cmd)).toEqual(codes(lib));
    expect(cmd.skipped).toBe(0);
    expect(cmd.results.length).toBeGreaterThanOrEqual(60);
  }, 300_000);

  it('judges a foreign CLI by outcome or class when its codes differ', async () => {
    // A stand-in "implementation" that rejects everything with its own code.
    const liar = `node -e "console.log(JSON.stringify({{code:'E_NOPE',class:'image'}}));process.exit(1)" {file}`;
    const base = [
      'run',
      'vectors/',
      '--only',
      'eif/malformed/version-*',
      '--only',
      'eif/malformed/bad-magic',
      '--command',
      `eif=${liar}`,
    ];
    const byCode = await cli([...base, '--json']);
    const byClass = await cli([...base, '--match', 'class', '--json']);
    const codeRun = JSON.parse(byCode.stdout) as RunJson;
    const classRun = JSON.parse(byClass.stdout) as RunJson;
    expect(codeRun.passed).toBe(0);
    expect(classRun.failed).toBe(0);
    expect(classRun.passed).toBe(codeRun.failed);
    expect(classRun.passed).toBe(3);
    expect(byClass.code).toBe(0);
    // The accept cases catch an implementation that rejects everything.
    const all = await cli([
      'run',
      'vectors/',
      '--only',
      'eif/synthetic/*',
      '--match',
      'outcome',
      '--command',
      `eif=${liar}`,
    ]);
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(/\n0 passed, 5 failed\n$/);
  }, 120_000);

  it('prints what a foreign CLI answered without its control characters', async () => {
    const liar = `node -e "console.log(JSON.stringify({{code:'E\\u001b[2JX'}}));process.exit(1)" {file}`;
    const r = await cli(['run', 'vectors/', '--only', 'eif/malformed/bad-magic', '--command', `eif=${liar}`]);
    expect(r.code).toBe(1);
    expect(controlCharacters(r.stdout)).toEqual([]);
    expect(r.stdout).toContain('E [2JX');
  }, 60_000);

  it('skips cases whose options the template cannot pass, and reports an unusable command', async () => {
    const r = await cli([
      'run',
      'vectors/',
      '--only',
      'attestation/real/caution-evidence/*',
      '--command',
      'node bin/enclave-verify.js verify {file} --json',
      '--json',
    ]);
    const out = JSON.parse(r.stdout) as RunJson;
    expect(out.skipped).toBe(3);
    for (const x of out.results)
      expect(x.message).toMatch(/^the template has no \{(roots|at|nonce)\} \(this case needs it\)$/);
    const missing = await cli([
      'run',
      'vectors/',
      '--only',
      'eif/synthetic/*',
      '--command',
      'eif=/no/such/program {file}',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/cannot run \/no\/such\/program/);
  }, 60_000);
});

// Defect: the library executor read a ramdisk only through its first gzip member, while the
// CLI's `ramdisk` commands read every member; both executors must count the same entries.
describe('a ramdisk of several gzip and plain members with NUL padding', () => {
  it('gives the same outcome through the library and through `ramdisk ls --json`', async () => {
    const { file, id } = await multiMemberSuite();
    const lib = JSON.parse((await cli(['run', file, '--json'])).stdout) as RunJson;
    const viaCli = JSON.parse(
      (
        await cli([
          'run',
          file,
          '--json',
          '--command',
          'ramdisk=node bin/enclave-verify.js ramdisk ls {file} --json',
        ])
      ).stdout,
    ) as RunJson;
    for (const run of [lib, viaCli]) {
      expect(run.results.map((r) => [r.id, r.status, r.actual])).toEqual([
        [id, 'pass', { result: 'accept', entries: MULTI_MEMBER_ENTRIES }],
      ]);
    }
  }, 120_000);
});
