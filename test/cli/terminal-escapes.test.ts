/**
 * Issue 15 finding 2, "terminal escapes from an unauthenticated endpoint": every output of every
 * command, stdout and stderr, text and --json, is scanned for C0/C1 control characters coming
 * from hostile inputs: an endpoint on loopback that sends escapes in its errors, manifest keys and
 * document fields, forged documents, an EIF whose metadata and command line carry escapes, archives
 * whose member names do, and file names that do. A hostile newline must not start a line either.
 *
 * To cover a new command (canary, batch verify...), add rows to RUNS: argv, the hostile input it
 * reads, and the exit code it must give.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, issueAttestation, type TestPki } from '../../src/forge/index.js';
import { writeCpioBytes } from '../../src/rebuild/cpio.js';
import { FileTree, makeInode, memoryData } from '../../src/rebuild/tree.js';
import { toBase64, toHex, utf8 } from '../../src/util/bytes.js';
import { runCli } from '../support/cli.js';

/** Escapes that clear the screen, recolour, ring, return the carriage, and a forged line. */
const HOSTILE =
  '\u001b[2J\u001b[H\u009b32m\u0085\u007f\u0007\rFORGED\nFORGED VERIFIED: all good\u001b]0;t\u0007';

/**
 * ASCII-only escapes, for an output path: `ramdisk extract` writes names as Latin-1 bytes, so a
 * directory name with C1 characters is another problem (reported separately).
 */
const HOSTILE_ASCII = '\u001b[2J\u0007\rFORGED\nFORGED VERIFIED: all good';

/** C0 controls but the line feed, DEL and C1 controls, as code points. */
function controls(text: string): string[] {
  return [...text]
    .map((c) => c.codePointAt(0) ?? 0)
    .filter((n) => (n < 0x20 && n !== 0x0a) || (n >= 0x7f && n < 0xa0))
    .map((n) => `U+${n.toString(16).padStart(4, '0')}`);
}

let dir: string;
let pki: TestPki;
let server: http.Server;
let origin: string;
const PCR0 = '10'.repeat(48);

/** The tar header of one regular file, written here so names the archive readers refuse can be made. */
function tarFile(name: string, content: Uint8Array): Uint8Array {
  const header = new Uint8Array(512);
  const put = (text: string, at: number) => header.set(utf8(text), at);
  put(name.slice(0, 100), 0);
  put('0000644\0', 100);
  put('0000000\0', 108);
  put('0000000\0', 116);
  put(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  put('00000000000\0', 136);
  put('        ', 148);
  put('0', 156);
  put('ustar\u000000', 257);
  const sum = header.reduce((a, b) => a + b, 0);
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const body = new Uint8Array(Math.ceil(content.length / 512) * 512);
  body.set(content);
  return new Uint8Array([...header, ...body, ...new Uint8Array(1024)]);
}

async function cpioWithNames(names: string[]): Promise<Uint8Array> {
  const tree = new FileTree();
  tree.ensureDir('bin');
  for (const n of names) tree.set(`bin/${n}`, makeInode('file', 0o644, { data: memoryData(utf8(n)) }));
  tree.set(`bin/link${HOSTILE}`, makeInode('symlink', 0o777, { target: HOSTILE }));
  return writeCpioBytes(tree);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ev-escapes-'));
  pki = await createTestPki();
  await writeFile(join(dir, 'root.pem'), pki.rootPem);
  const fields = { moduleId: `i-1${HOSTILE}`, userData: utf8(HOSTILE), publicKey: utf8(HOSTILE) };
  await writeFile(join(dir, 'doc.b64'), toBase64(await issueAttestation(pki, fields)));
  const badAlg = await issueAttestation(pki, {}, { protectedHeader: new Map([[1, HOSTILE]]) });
  await writeFile(join(dir, 'alg.b64'), toBase64(badAlg));
  await writeFile(join(dir, 'pcrs.txt'), `PCR0: ${PCR0}\nPCR${HOSTILE}: 00\n`);

  // A hostile endpoint: escapes in errors, manifest keys and values, document fields and headers.
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c;
    });
    req.on('end', async () => {
      const nonce = Buffer.from(JSON.parse(body || '{}').nonce ?? '', 'base64');
      const send = (status: number, value: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.url === '/errors') return send(500, { errors: [HOSTILE, { [HOSTILE]: HOSTILE }] });
      if (req.url === '/text') return res.writeHead(200).end(HOSTILE);
      if (req.url === '/alg') return send(200, { document: toBase64(badAlg) });
      const doc = await issueAttestation(pki, { ...fields, nonce });
      const manifest = {
        [`app_source${HOSTILE}_source`]: { url: HOSTILE, commit: HOSTILE },
        [`version${HOSTILE}`]: HOSTILE,
        [HOSTILE]: { [HOSTILE]: HOSTILE },
      };
      send(200, { document: toBase64(doc), manifest });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // An EIF whose metadata (ImageName, ImageVersion) and cmdline carry escapes, and ramdisks whose
  // member names and link targets do.
  await writeFile(join(dir, 'kernel'), utf8('kernel bytes'));
  await writeFile(join(dir, 'a.cpio'), await cpioWithNames([`a${HOSTILE}`, 'same']));
  await writeFile(join(dir, 'b.cpio'), await cpioWithNames([`b${HOSTILE}`, 'same']));
  const eif = await runCli(
    [
      'build-eif',
      '--kernel',
      'kernel',
      '--cmdline',
      `console=ttyS0 ${HOSTILE}`,
      '--ramdisk',
      'a.cpio',
    ].concat(['--name', HOSTILE, '--output', 'x.eif', '--build-time', '2025-01-01T00:00:00+00:00']),
    { cwd: dir },
  );
  expect(eif.code).toBe(0);
  const target = { id: HOSTILE, name: HOSTILE, attestation_url: `https://x.example/${HOSTILE}` };
  await writeFile(
    join(dir, 'canary.json'),
    JSON.stringify({ targets: [{ ...target, expected_pcrs: { 0: HOSTILE } }] }),
  );
  await writeFile(join(dir, 'unsafe.tar'), tarFile(`../${HOSTILE}`, utf8('x')));
  await writeFile(join(dir, 'app.tar'), tarFile(`bin/${HOSTILE}`, utf8('x')));
}, 60_000);

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  /** What the row feeds the command. */
  name: string;
  argv: () => string[];
  /** The exit code that shows the hostile input was really read. */
  code: number;
}

const root = ['--root', 'root.pem'];
const pcr = ['--pcr', `0=${PCR0}`];
const withJson = (runs: Run[]): Run[] =>
  runs.flatMap((r) => [r, { ...r, name: `${r.name} --json`, argv: () => [...r.argv(), '--json'] }]);

const RUNS: Run[] = [
  ...withJson([
    {
      name: 'verify: forged document fields',
      argv: () => ['verify', 'doc.b64', ...root, ...pcr, '--at', 'document'],
      code: 0,
    },
    {
      name: 'verify: text COSE alg',
      argv: () => ['verify', 'alg.b64', ...root, ...pcr, '--at', 'document'],
      code: 1,
    },
    { name: 'verify: hostile file name', argv: () => ['verify', `no${HOSTILE}`, ...pcr], code: 2 },
    {
      name: 'verify: hostile expected-PCR line',
      argv: () => ['verify', 'doc.b64', '--expect-pcrs', 'pcrs.txt'],
      code: 2,
    },
    {
      name: 'deployment: manifest keys',
      argv: () => ['deployment', `${origin}/m`, ...root, ...pcr],
      code: 0,
    },
    {
      name: 'deployment: errors body',
      argv: () => ['deployment', `${origin}/errors`, ...root, ...pcr],
      code: 1,
    },
    {
      name: 'deployment: non-JSON body',
      argv: () => ['deployment', `${origin}/text`, ...root, ...pcr],
      code: 1,
    },
    {
      name: 'deployment: text COSE alg',
      argv: () => ['deployment', `${origin}/alg`, ...root, ...pcr],
      code: 1,
    },
    {
      name: 'deployment --watch: errors body',
      argv: () => ['deployment', `${origin}/errors`, ...root, ...pcr, '--watch', '1s', '--count', '1'],
      code: 1,
    },
    {
      name: 'deployment --watch: text COSE alg',
      argv: () => ['deployment', `${origin}/alg`, ...root, ...pcr, '--watch', '1s', '--count', '1'],
      code: 1,
    },
    { name: 'measure: EIF metadata and cmdline', argv: () => ['measure', 'x.eif'], code: 0 },
    { name: 'measure: hostile file name', argv: () => ['measure', `no${HOSTILE}.eif`], code: 2 },
    { name: 'ramdisk ls: cpio member names', argv: () => ['ramdisk', 'ls', 'a.cpio'], code: 0 },
    { name: 'ramdisk ls: EIF ramdisk', argv: () => ['ramdisk', 'ls', 'x.eif'], code: 0 },
    { name: 'ramdisk diff: member names', argv: () => ['ramdisk', 'diff', 'a.cpio', 'b.cpio'], code: 1 },
    {
      name: 'rebuild: unsafe tar member',
      argv: () => ['rebuild', '--recipe', 'plain', '--app', 'unsafe.tar', '--out', 'r1'],
      code: 1,
    },
    {
      name: 'rebuild: member names',
      argv: () => [
        'rebuild',
        '--recipe',
        'plain',
        '--app',
        'app.tar',
        '--out',
        'r2',
        '--reference',
        'a.cpio',
      ],
      code: 1,
    },
    { name: 'pcr: hostile file name', argv: () => ['pcr', '--input', `no${HOSTILE}`], code: 2 },
    {
      name: 'build-eif: hostile file name',
      argv: () => [
        'build-eif',
        '--kernel',
        `no${HOSTILE}`,
        '--cmdline',
        'x',
        '--ramdisk',
        'a.cpio',
        '--output',
        'y.eif',
      ],
      code: 2,
    },
    { name: 'vectors: hostile suite path', argv: () => ['vectors', 'run', `no${HOSTILE}`], code: 2 },
  ]),
  {
    name: 'ramdisk extract: hostile out path',
    argv: () => ['ramdisk', 'extract', 'a.cpio', '--out', `out${HOSTILE_ASCII}`],
    code: 0,
  },
  {
    name: 'ramdisk extract: hostile out path --json',
    argv: () => ['ramdisk', 'extract', 'a.cpio', '--out', `json${HOSTILE_ASCII}`, '--json'],
    code: 0,
  },
  {
    name: 'build-eif: hostile output name',
    argv: () =>
      ['build-eif', '--kernel', 'kernel', '--cmdline', 'x', '--ramdisk', 'a.cpio'].concat([
        '--output',
        `out${HOSTILE}.eif`,
        '--build-time',
        '2025-01-01T00:00:00+00:00',
      ]),
    code: 0,
  },
  {
    name: 'verify --kernel/--ramdisk: hostile part names in the measured-from line',
    argv: () =>
      ['verify', 'doc.b64', ...root, '--at', 'document', '--kernel', 'kernel', '--cmdline', HOSTILE].concat([
        '--ramdisk',
        'a.cpio',
      ]),
    code: 1,
  },
  { name: 'inspect: forged document fields', argv: () => ['inspect', 'doc.b64'], code: 0 },
  { name: 'ui: hostile port', argv: () => ['ui', '--port', HOSTILE], code: 2 },
  { name: 'demo: hostile port', argv: () => ['demo', '--serve', '--port', HOSTILE], code: 2 },
  { name: 'unknown command', argv: () => [HOSTILE], code: 2 },
  ...withJson([
    {
      name: 'canary check-config: hostile config',
      argv: () => ['canary', 'check-config', 'canary.json'],
      code: 1,
    },
    {
      name: 'canary check-config: hostile file name',
      argv: () => ['canary', 'check-config', `no${HOSTILE}`],
      code: 2,
    },
    {
      name: 'canary verify-statement: hostile file names',
      argv: () => ['canary', 'verify-statement', `no${HOSTILE}`, '--trusted-keys', `no${HOSTILE}`],
      code: 2,
    },
  ]),
  { name: 'canary: hostile sub-command', argv: () => ['canary', HOSTILE], code: 2 },
];

describe('terminal escapes from hostile inputs: every output of every command is neutralised', () => {
  it.each(RUNS.map((r) => [r.name, r] as const))(
    '%s',
    async (_name, run) => {
      const r = await runCli(run.argv(), { cwd: dir });
      expect({ code: r.code, stderr: r.code === run.code ? '' : r.stderr }).toEqual({
        code: run.code,
        stderr: '',
      });
      for (const [stream, text] of [
        ['stdout', r.stdout],
        ['stderr', r.stderr],
      ] as const) {
        expect({ stream, controls: controls(text) }).toEqual({ stream, controls: [] });
        // A hostile newline must not start a line of its own that could pass for a verdict.
        expect(text.split('\n').filter((l) => l.startsWith('FORGED'))).toEqual([]);
      }
      // --json output still carries the hostile values exactly (escaped by JSON, not altered).
      if (run.argv().includes('--json') && r.stdout.trim().startsWith('{')) {
        for (const line of r.stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
      }
    },
    60_000,
  );

  it('deployment --json keeps the manifest and document values exactly as sent', async () => {
    const r = await runCli(['deployment', `${origin}/m`, ...root, ...pcr, '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(controls(r.stdout)).toEqual([]);
    const j = JSON.parse(r.stdout);
    expect(j.manifest.raw[`version${HOSTILE}`]).toBe(HOSTILE);
    expect(j.verification.document.moduleId).toBe(`i-1${HOSTILE}`);
    expect(j.verification.document.userData).toBe(toHex(utf8(HOSTILE)));
  });
});
