// The published package works in an empty project: scripts/package-check.mjs packs a fresh
// build, installs the tarball offline, imports the three entry points, type-checks a
// TypeScript consumer and runs the installed CLI (see the script for each step).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));

interface Summary {
  tarball: { file: string; bytes: number; unpackedBytes: number; files: number; topLevel: string[] };
  install: string;
  esm: {
    lib: string;
    node: string;
    nodeHasLib: boolean;
    forge: string;
    verifiedPcr0: string;
    withoutTestRoot: string;
  };
  tsc: { node16: string; bundler: string; wrongCall: string };
  verify: { exit: number; wrongPcrExit: number };
  ui: { status: number; title: string; script: string; scriptBytes: number };
  demo: { exit: number };
  seconds: number;
}

it('npm pack -> offline install -> import, tsc, verify, ui, demo', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
    (resolve) => {
      execFile(
        process.execPath,
        ['scripts/package-check.mjs'],
        { cwd: PROJECT, maxBuffer: 16 << 20, timeout: 400_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err.code as number) ?? 1) : 0, stdout, stderr }),
      );
    },
  );
  // the script's own step lines, tarball size included, in the test output
  console.log(
    stdout
      .split('\n')
      .filter((l) => l.startsWith('[package]'))
      .join('\n'),
  );
  expect(stderr, stdout).toBe('');
  expect(code).toBe(0);
  const line = stdout.split('\n').find((l) => l.startsWith('package-check: '));
  const s = JSON.parse(line!.slice('package-check: '.length)) as Summary;
  expect(s.tarball.file).toMatch(/^enclave-verify-\d+\.\d+\.\d+\.tgz$/);
  expect(s.tarball.topLevel).toEqual(['README.md', 'bin', 'dist', 'dist-web', 'package.json']);
  // a bound, so a stray folder in "files" is noticed: the package is about 300 KiB today
  expect(s.tarball.bytes).toBeGreaterThan(100_000);
  expect(s.tarball.bytes).toBeLessThan(1_000_000);
  expect(s.esm).toEqual({
    lib: 'function',
    node: 'function',
    nodeHasLib: true,
    forge: 'function',
    verifiedPcr0: '01'.repeat(48),
    withoutTestRoot: 'ERR_CHAIN_UNTRUSTED',
  });
  expect(s.tsc).toEqual({ node16: 'ok', bundler: 'ok', wrongCall: 'TS2345' });
  expect(s.verify).toEqual({ exit: 0, wrongPcrExit: 1 });
  expect(s.ui).toMatchObject({ status: 200, title: expect.stringContaining('enclave-verify') });
  expect(s.demo).toEqual({ exit: 0 });
}, 420_000);
