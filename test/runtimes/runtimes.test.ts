// The runtime-agnostic core, proved in Bun, Deno and workerd (Node and Chromium are covered by the
// rest of the suite): each runtime loads the built package entry (dist/index.js; workerd a bundle
// of it behind a minimal worker config, driven over loopback HTTP) and runs the real-document
// vector cases (accept at the document's time with exact PCRs, the negative real documents, the
// official EIFs measured with exact PCRs) plus tampered real documents, whose error code must be
// the one Node gives. The binaries come from the `bun`, `deno` and `workerd` npm packages.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import 'reflect-metadata';
import { isEnclaveVerifyError } from '../../src/errors.js';
import { issueAttestation, testPcrs } from '../../src/forge/attestation.js';
import { issueTestCrl } from '../../src/forge/crl.js';
import { createTestPki } from '../../src/forge/pki.js';
import { toHex } from '../../src/util/bytes.js';
import { checkAttestation, verifyAttestation } from '../../src/verify.js';
import { ensureBuiltCli } from '../support/dist.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
const REAL = join(PROJECT, 'vectors/real');
const BIN = (name: string) => join(PROJECT, 'node_modules/.bin', name);
const run = promisify(execFile);

interface RuntimeResult {
  runtime: string;
  passed: number;
  failed: number;
  skipped: number;
  byKind: Record<string, { passed: number; failed: number }>;
  failures: Array<{ id: string; status: string; message: string }>;
  tampered: { same: number; differ: Array<{ id: string; expected: string; actual: string }> };
  revocation: { code: string | null; statuses: Array<[string, string | null]> };
}

let dir: string;
let payloadFile: string;
let expectedCases: { attestation: number; eif: number };
let tamperedCount: number;
let revocationExpected: { code: string | null; statuses: Array<[string, string | null]> };
const RV_AT = new Date('2026-05-01T00:00:00Z');

/** The real cases that run without a file system (attestation documents and EIFs), with their files. */
async function buildPayload() {
  const caseFile = JSON.parse(await readFile(join(REAL, 'cases.json'), 'utf8'));
  caseFile.cases = caseFile.cases.filter(
    (c: { kind: string }) => c.kind === 'attestation' || c.kind === 'eif',
  );
  const files: Record<string, string> = {};
  for (const c of caseFile.cases as Array<{
    input: { file: string };
    options?: { trustedRoots?: string[] };
  }>) {
    for (const f of [c.input.file, ...(c.options?.trustedRoots ?? [])]) {
      files[f] ??= (await readFile(join(REAL, f))).toString('base64');
    }
  }
  // Tampered real documents: the last signature byte, and one byte in the middle (payload or a
  // certificate). Node's code for each is the reference.
  const tampered: Array<{ id: string; base64: string; code: string }> = [];
  const manifest = JSON.parse(await readFile(join(REAL, 'nitro/manifest.json'), 'utf8')) as Array<{
    file: string;
  }>;
  for (const { file } of manifest.filter((m) => m.file.startsWith('valid/'))) {
    const doc = new Uint8Array(await readFile(join(REAL, 'nitro', file)));
    for (const [what, at] of [
      ['signature', doc.length - 1],
      ['middle', doc.length >> 1],
    ] as const) {
      const bad = doc.slice();
      bad[at]! ^= 0x01;
      let code = 'accepted';
      try {
        await verifyAttestation(bad, { currentDate: 'document' });
      } catch (e) {
        if (!isEnclaveVerifyError(e)) throw e;
        code = e.code;
      }
      tampered.push({ id: `${file}/${what}`, base64: Buffer.from(bad).toString('base64'), code });
    }
  }
  // Revocation from CRLs given offline: the root's list is empty, the regional CA's revokes the
  // zonal CA. Node's outcome is the reference.
  const pki = await createTestPki({
    at: RV_AT,
    knobs: {
      regional: { crlDistributionPoints: ['http://crl.invalid/root.crl'] },
      zonal: { crlDistributionPoints: ['http://crl.invalid/regional.crl'] },
    },
  });
  const thisUpdate = new Date(RV_AT.getTime() - 3_600_000);
  const crls = [
    await issueTestCrl(pki.root, { thisUpdate }),
    await issueTestCrl(pki.regional, { thisUpdate, revoked: [{ certificate: pki.zonal, reason: 1 }] }),
  ];
  const doc = await issueAttestation(pki, { timestamp: RV_AT, pcrs: testPcrs() });
  const pcr0 = toHex(testPcrs().get(0)!);
  const node = await checkAttestation(doc, {
    trustedRoots: [pki.rootPem],
    currentDate: RV_AT,
    expectedPcrs: { 0: pcr0 },
    checkRevocation: { crls, fetch: false },
  });
  revocationExpected = {
    code: node.error?.code ?? null,
    statuses: node.revocation!.map((s) => [s.status, s.code ?? null]),
  };
  const revocation = {
    doc: Buffer.from(doc).toString('base64'),
    rootPem: pki.rootPem,
    at: RV_AT.toISOString(),
    pcr0,
    crls: crls.map((c) => Buffer.from(c).toString('base64')),
  };
  const kinds = caseFile.cases.map((c: { kind: string }) => c.kind);
  return {
    payload: { caseFile, files, tampered, revocation },
    counts: {
      attestation: kinds.filter((k: string) => k === 'attestation').length,
      eif: kinds.filter((k: string) => k === 'eif').length,
    },
  };
}

beforeAll(async () => {
  ensureBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'ev-runtimes-'));
  const { payload, counts } = await buildPayload();
  expectedCases = counts;
  tamperedCount = payload.tampered.length;
  // Every tampered document is refused by Node: the runtimes must refuse it the same way.
  expect(payload.tampered.filter((t) => t.code === 'accepted')).toEqual([]);
  expect(revocationExpected).toEqual({
    code: 'ERR_CERT_REVOKED',
    statuses: [
      ['not-applicable', null],
      ['not-applicable', null],
      ['revoked', 'ERR_CERT_REVOKED'],
      ['good', null],
      ['not-applicable', null],
    ],
  });
  payloadFile = join(dir, 'payload.json');
  await writeFile(payloadFile, JSON.stringify(payload));
  // A stale dist/ is rebuilt with tsc first (shared with the launcher tests; `npm ci` builds it).
}, 240_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function expectAllPass(r: RuntimeResult): void {
  // Counts per runtime, printed so `npm test` shows what each runtime ran.
  console.log(
    `${r.runtime}: ${r.byKind.attestation?.passed ?? 0}/${expectedCases.attestation} real-document cases, ` +
      `${r.byKind.eif?.passed ?? 0}/${expectedCases.eif} EIF measurements, ` +
      `${r.tampered.same}/${tamperedCount} tampered documents refused with Node's code, ` +
      `revocation from offline CRLs ${r.revocation.code ?? 'ok'} (${r.revocation.statuses.map((x) => x[0]).join(' ')})`,
  );
  expect(r.failures).toEqual([]);
  expect(r.tampered.differ).toEqual([]);
  expect(r.byKind).toEqual({
    attestation: { passed: expectedCases.attestation, failed: 0 },
    eif: { passed: expectedCases.eif, failed: 0 },
  });
  expect(r.tampered.same).toBe(tamperedCount);
  expect(r.revocation).toEqual(revocationExpected);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('the package entry in other JavaScript runtimes', () => {
  test('Bun', async () => {
    const { stdout } = await run(
      BIN('bun'),
      ['run', join(PROJECT, 'test/runtimes/cli-entry.mjs'), payloadFile],
      {
        cwd: dir,
        env: { ...process.env, DO_NOT_TRACK: '1', BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' },
        timeout: 30_000,
      },
    );
    const r = JSON.parse(stdout) as RuntimeResult;
    expect(r.runtime).toMatch(/^bun \d/);
    expectAllPass(r);
  }, 40_000);

  test('Deno', async () => {
    const { stdout } = await run(
      BIN('deno'),
      [
        'run',
        // The project's package.json and node_modules resolve the entry's npm imports, as installed.
        '--node-modules-dir=manual',
        '--no-lock',
        '--no-prompt',
        `--allow-read=${payloadFile}`,
        join(PROJECT, 'test/runtimes/cli-entry.mjs'),
        payloadFile,
      ],
      { cwd: PROJECT, env: { ...process.env, DENO_DIR: join(dir, 'deno'), NO_COLOR: '1' }, timeout: 30_000 },
    );
    const r = JSON.parse(stdout) as RuntimeResult;
    expect(r.runtime).toMatch(/^deno \d/);
    expectAllPass(r);
  }, 40_000);

  test('workerd (a bundle of the entry behind a minimal worker config, over loopback HTTP)', async () => {
    const { build } = await import('vite');
    await build({
      configFile: false,
      logLevel: 'silent',
      root: PROJECT,
      build: {
        lib: {
          entry: join(PROJECT, 'test/runtimes/worker.mjs'),
          formats: ['es'],
          fileName: () => 'worker.js',
        },
        outDir: join(dir, 'worker'),
        emptyOutDir: true,
        minify: false,
        target: 'esnext',
      },
    });
    const chunks = (await readdir(join(dir, 'worker'))).filter((f) => f.endsWith('.js') && f !== 'worker.js');
    await writeFile(
      join(dir, 'worker', 'config.capnp'),
      [
        'using Workerd = import "/workerd/workerd.capnp";',
        'const config :Workerd.Config = (',
        '  services = [(name = "main", worker = .worker)],',
        '  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],',
        ');',
        'const worker :Workerd.Worker = (',
        // The entry first (workerd's main module), then the chunks Vite split off (loaded on demand).
        `  modules = [${['worker.js', ...chunks].map((f) => `(name = "${f}", esModule = embed "${f}")`).join(', ')}],`,
        '  compatibilityDate = "2025-01-01",',
        ');',
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const child = spawn(
      BIN('workerd'),
      ['serve', join(dir, 'worker', 'config.capnp'), '--socket-addr', `http=127.0.0.1:${port}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    try {
      const body = await readFile(payloadFile);
      let response: Response | undefined;
      for (let i = 0; i < 100 && !response; i++) {
        try {
          response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body });
        } catch {
          if (child.exitCode !== null) throw new Error(`workerd exited: ${stderr}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(response?.status, stderr).toBe(200);
      const r = (await response!.json()) as RuntimeResult;
      expect(r.runtime).toBe('workerd');
      expectAllPass(r);
    } finally {
      child.kill('SIGTERM');
    }
  }, 40_000);
});
