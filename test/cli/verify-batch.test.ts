// Issue 14 part 3: `enclave-verify verify DIR|FILE... [--jobs N]`, a batch audit of saved evidence.
import { execFileSync, spawnSync } from 'node:child_process';
import { opendirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestPki, issueAttestation, type TestPki } from '../../src/forge/index.js';
import { toBase64, toHex } from '../../src/util/bytes.js';
import { runCli } from '../support/cli.js';
import { ensureBuiltCli } from '../support/dist.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));

const T = new Date('2025-01-01T00:00:00Z');
const HOUR = 3_600_000;
let work: string;
let dir: string;
let pki: TestPki;
let pcr0: string;

// Expected line of each file: its verdict (VERIFIED or REJECTED CODE).
const VERDICTS: Record<string, string> = {
  'a-valid.cbor': 'VERIFIED',
  'b-tampered.cbor': 'REJECTED ERR_SIGNATURE_INVALID',
  'c-expired.b64': 'REJECTED ERR_CERT_EXPIRED',
  'd-not-a-document.txt': 'REJECTED ERR_INPUT_FORMAT',
  'e-unreadable.cbor': 'REJECTED ERR_IO',
  'f-endpoint.json': 'VERIFIED',
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ev-batch-'));
  dir = join(work, 'evidence');
  await mkdir(dir);
  pki = await createTestPki({ at: T, label: 'batch' });
  pcr0 = toHex(new Uint8Array(48).fill(0x10));
  const valid = await issueAttestation(pki, { timestamp: T.getTime() + HOUR });
  const tampered = valid.slice();
  tampered[tampered.length - 1]! ^= 1;
  // Same root and CAs, a leaf that expired an hour before the audit time.
  const old = await createTestPki({
    at: T,
    reuse: { root: pki.root, regional: pki.regional, zonal: pki.zonal, instance: pki.instance },
    knobs: {
      leaf: { notBefore: new Date(T.getTime() - 4 * HOUR), notAfter: new Date(T.getTime() - 1 * HOUR) },
    },
  });
  const expired = await issueAttestation(old, { timestamp: T.getTime() - 2 * HOUR });
  await writeFile(join(dir, 'a-valid.cbor'), valid);
  await writeFile(join(dir, 'b-tampered.cbor'), tampered);
  await writeFile(join(dir, 'c-expired.b64'), toBase64(expired));
  await writeFile(join(dir, 'd-not-a-document.txt'), 'meeting notes, not evidence\n');
  await symlink(join(work, 'missing.cbor'), join(dir, 'e-unreadable.cbor')); // dangling: cannot be read
  await writeFile(join(dir, 'f-endpoint.json'), JSON.stringify({ document: toBase64(valid) }));
  await writeFile(join(work, 'root.pem'), pki.rootPem);
});
afterAll(() => rm(work, { recursive: true, force: true }));

// The paths of a directory's entries in the order the file system lists them (a batch streams
// them in that order, never sorted).
function listing(path: string): string[] {
  const listed: string[] = [];
  const d = opendirSync(path);
  for (let e = d.readSync(); e; e = d.readSync()) listed.push(join(path, e.name));
  d.closeSync();
  return listed;
}

const flags = () => ['--root', join(work, 'root.pem'), '--at', '2025-01-01T02:00:00Z', '--pcr', `0=${pcr0}`];

describe('verify, batch audit', () => {
  test('a mixed directory: one right line per file in listing order, the summary, exit 1', async () => {
    const r = await runCli(['verify', dir, ...flags(), '--jobs', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    // Files of a directory come in the order the file system lists them (streamed, never sorted).
    const listed = listing(dir).map((p) => p.slice(dir.length + 1));
    expect(lines).toHaveLength(listed.length + 1);
    listed.forEach((name, i) => {
      expect(lines[i]!.startsWith(`${join(dir, name)}: ${VERDICTS[name]}`)).toBe(true);
    });
    expect(lines.at(-1)).toBe(
      '6 files: 2 verified, 4 rejected (ERR_CERT_EXPIRED 1, ERR_INPUT_FORMAT 1, ERR_IO 1, ERR_SIGNATURE_INVALID 1)',
    );
  });

  test('files given one by one keep exactly the order given, whatever finishes first', async () => {
    const order = [
      'f-endpoint.json',
      'd-not-a-document.txt',
      'a-valid.cbor',
      'e-unreadable.cbor',
      'c-expired.b64',
      'b-tampered.cbor',
    ];
    for (const jobs of ['1', '2', '16']) {
      const r = await runCli(['verify', ...order, ...flags(), '--jobs', jobs], { cwd: dir });
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.slice(0, -1).map((l) => l.slice(0, l.indexOf(':')))).toEqual(order);
      for (const [i, name] of order.entries()) {
        expect(lines[i]!.startsWith(`${name}: ${VERDICTS[name]}`)).toBe(true);
      }
    }
  });

  test('--json: JSON Lines with the file name, then the summary object', async () => {
    const r = await runCli(
      ['verify', 'a-valid.cbor', 'e-unreadable.cbor', 'b-tampered.cbor', ...flags(), '--json'],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(1);
    const objs = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(objs.map((o) => [o.file, o.ok, o.code])).toEqual([
      ['a-valid.cbor', true, undefined],
      ['e-unreadable.cbor', false, 'ERR_IO'],
      ['b-tampered.cbor', false, 'ERR_SIGNATURE_INVALID'],
      [undefined, undefined, undefined],
    ]);
    expect(objs[0].document.pcrs['0']).toBe(pcr0);
    expect(objs[3]).toEqual({
      summary: { files: 3, verified: 1, rejected: 2, byCode: { ERR_IO: 1, ERR_SIGNATURE_INVALID: 1 } },
    });
  });

  test('exit 0 only when every file verified; nested directories are walked', async () => {
    const sub = join(work, 'good');
    await mkdir(join(sub, '2025-01'), { recursive: true });
    const doc = await issueAttestation(pki, { timestamp: T.getTime() + HOUR });
    await writeFile(join(sub, 'one.cbor'), doc);
    await writeFile(join(sub, '2025-01', 'two.cbor'), doc);
    const r = await runCli(['verify', sub, ...flags()]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('2 files: 2 verified, 0 rejected');
    expect(r.stdout).toContain(`${join(sub, '2025-01', 'two.cbor')}: VERIFIED`);
  });

  test('usage errors: --jobs out of range, stdin in a batch, an empty directory', async () => {
    const bad = await runCli(['verify', dir, ...flags(), '--jobs', '0']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('ERR_USAGE: --jobs')]);
    const stdin = await runCli(['verify', '-', join(dir, 'a-valid.cbor'), ...flags()]);
    expect([stdin.code, stdin.stderr]).toEqual([
      2,
      expect.stringContaining("'-' (stdin) cannot be part of a batch"),
    ]);
    await mkdir(join(work, 'empty'));
    const empty = await runCli(['verify', join(work, 'empty'), ...flags()]);
    expect([empty.code, empty.stderr]).toEqual([2, expect.stringContaining('no files to verify')]);
  });

  test('a FIFO does not block the batch: it is not a regular file', async () => {
    const fifoDir = join(work, 'fifo');
    await mkdir(fifoDir);
    execFileSync('mkfifo', [join(fifoDir, 'pipe.cbor')]);
    await writeFile(join(fifoDir, 'z.cbor'), await issueAttestation(pki, { timestamp: T.getTime() + HOUR }));
    const r = await runCli(['verify', join(fifoDir, 'pipe.cbor'), join(fifoDir, 'z.cbor'), ...flags()]);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual([
      `${join(fifoDir, 'pipe.cbor')}: REJECTED ERR_IO: '${join(fifoDir, 'pipe.cbor')}' is not a regular file; a batch verifies files only`,
      expect.stringMatching(/z\.cbor: VERIFIED/),
    ]);
  });

  test('a document file name with terminal escapes is neutralised in its line', async () => {
    const name = 'evil\u001b[2J.cbor';
    await writeFile(join(work, name), 'x');
    const r = await runCli(['verify', name, ...flags(), '--jobs', '1'], { cwd: work });
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toContain('evil [2J.cbor: REJECTED ERR_INPUT_FORMAT');
  });
});

describe('verify, batch audit on worker threads (the installed launcher over dist/)', () => {
  // Past its first 32 files a batch with several jobs moves to one worker thread per CPU; the
  // thread entry exists only compiled, so this runs bin/enclave-verify.js. Every line and the
  // summary must be exactly those of the same batch verified one file at a time.
  beforeAll(ensureBuiltCli, 180_000);

  const launch = (args: string[]) =>
    spawnSync(process.execPath, [join(PROJECT, 'bin/enclave-verify.js'), ...args], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });

  test('80 files, threads vs --jobs 1: identical output, input order, exit code', async () => {
    const many = join(work, 'many');
    await mkdir(many);
    const names: string[] = [];
    for (let i = 0; i < 80; i++) {
      const source = Object.keys(VERDICTS)[i % 4]!; // valid, tampered, expired, not a document
      const name = `${String(i).padStart(3, '0')}-${source}`;
      await symlink(join(dir, source), join(many, name));
      names.push(join(many, name));
    }
    const threaded = launch(['verify', ...names, ...flags(), '--jobs', '8']);
    const sequential = launch(['verify', ...names, ...flags(), '--jobs', '1']);
    expect(threaded.stderr).toBe('');
    expect([threaded.status, sequential.status]).toEqual([1, 1]);
    expect(threaded.stdout).toBe(sequential.stdout);
    const lines = threaded.stdout.trimEnd().split('\n');
    expect(lines.slice(0, -1).map((l) => l.slice(0, l.indexOf(': ')))).toEqual(names);
    expect(lines.at(-1)).toBe(
      '80 files: 20 verified, 60 rejected (ERR_CERT_EXPIRED 20, ERR_INPUT_FORMAT 20, ERR_SIGNATURE_INVALID 20)',
    );
  }, 120_000);

  test('a directory of 500 files in chunks to the threads, --json: the same JSON Lines as --jobs 1', async () => {
    // Many chunks per thread, each thread with several queued, results joined back in listing
    // order; the JSON Lines and their summary must not depend on which thread took which chunk.
    const big = join(work, 'big');
    await mkdir(big);
    for (let i = 0; i < 500; i++) {
      const source = Object.keys(VERDICTS)[i % 4]!;
      await symlink(join(dir, source), join(big, `${String(i).padStart(3, '0')}-${source}`));
    }
    const threaded = launch(['verify', big, ...flags(), '--jobs', '4', '--json']);
    const sequential = launch(['verify', big, ...flags(), '--jobs', '1', '--json']);
    expect(threaded.stderr).toBe('');
    expect([threaded.status, sequential.status]).toEqual([1, 1]);
    expect(threaded.stdout).toBe(sequential.stdout);
    const lines = threaded.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.slice(0, -1).map((l) => l.file)).toEqual(listing(big));
    expect(lines.at(-1)).toEqual({
      summary: {
        files: 500,
        verified: 125,
        rejected: 375,
        byCode: { ERR_CERT_EXPIRED: 125, ERR_INPUT_FORMAT: 125, ERR_SIGNATURE_INVALID: 125 },
      },
    });
  }, 120_000);

  test('a V8 flag on the node command line does not stop the threads (they take no execArgv)', async () => {
    // A Worker refuses V8 flags passed on to it ("invalid execArgv"); they hold for the whole
    // process anyway. This batch used to end with exit 2 and ERR_IO before a single thread ran.
    const flagged = join(work, 'flagged');
    await mkdir(flagged);
    for (let i = 0; i < 40; i++)
      await symlink(join(dir, 'a-valid.cbor'), join(flagged, `${String(i).padStart(2, '0')}.cbor`));
    const r = spawnSync(
      process.execPath,
      [
        '--max-old-space-size=256',
        '--single-threaded-gc',
        join(PROJECT, 'bin/enclave-verify.js'),
        'verify',
        flagged,
        ...flags(),
        '--jobs',
        '2',
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('40 files: 40 verified, 0 rejected');
  }, 120_000);
});
