// Importing a package entry must not load the dependencies only rare paths need (the X.509
// writer stack, the forge): they cost several times node's own startup, in every process and
// worker thread (scripts/bench/import.mjs prints the figures). A module hook in a fresh child
// process logs every module the built package resolves; the log is read after the bare import,
// then after each function that needs the heavy parts, which must have loaded them by then.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltCli } from '../support/dist.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
/** Loaded on demand only; pkijs/asn1js are listed so that a future import of them is caught too. */
const LAZY = ['@peculiar/x509', 'reflect-metadata', 'pkijs', 'asn1js'];

// appendFileSync in the hook thread finishes before the resolution it logs is handed back, so
// whatever the child's import() resolved is in the log when the import settles.
const HOOK = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\n');
  return result;
}
`;

let dir: string;
let hookUrl: string;

beforeAll(() => {
  ensureBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'ev-lazy-'));
  writeFileSync(join(dir, 'hook.mjs'), HOOK);
  hookUrl = pathToFileURL(join(dir, 'hook.mjs')).href;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Package names (node_modules) and package files (dist/...) among the logged URLs. */
function loaded(urls: string[]): string[] {
  const names = new Set<string>();
  for (const url of urls) {
    const nm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (nm) names.add(nm[1]!);
    else if (url.startsWith(pathToFileURL(join(PROJECT, 'dist')).href))
      names.add(url.slice(url.indexOf('/dist/') + 1));
  }
  return [...names].sort();
}

/**
 * Run `steps` (module code calling `mark(name)` for each of `names`) in a child with the logging
 * hook; returns what had been loaded at each mark.
 */
async function phases<K extends string>(
  name: string,
  names: K[],
  steps: string,
): Promise<Record<K, string[]>> {
  const log = join(dir, `${name}.log`);
  writeFileSync(log, '');
  const code = `
import { register } from 'node:module';
import { readFileSync } from 'node:fs';
register(${JSON.stringify(hookUrl)}, { data: { log: ${JSON.stringify(log)} } });
const marks = {};
const mark = (name) => { marks[name] = readFileSync(${JSON.stringify(log)}, 'utf8').split('\\n').filter(Boolean); };
${steps}
process.stdout.write(JSON.stringify(marks));
`;
  const { stdout, stderr, failed } = await new Promise<{ stdout: string; stderr: string; failed: boolean }>(
    (done) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', code],
        { cwd: PROJECT, timeout: 60_000, maxBuffer: 8 << 20 },
        (err, stdout, stderr) => done({ stdout, stderr, failed: err !== null }),
      );
    },
  );
  expect(failed, stderr).toBe(false);
  const marks = JSON.parse(stdout) as Record<string, string[]>;
  expect(Object.keys(marks)).toEqual(names);
  return Object.fromEntries(Object.entries(marks).map(([k, urls]) => [k, loaded(urls)])) as Record<
    K,
    string[]
  >;
}

describe('heavy dependencies load on first use, not with the entry', () => {
  it('enclave-verify/node: X.509 stack with the demo TLS certificate, forge with the demo enclave', async () => {
    const at = await phases(
      'node',
      ['import', 'tls', 'demo'],
      `
const lib = await import('enclave-verify/node');
mark('import');
const tls = await lib.createDemoTlsCertificate();
if (tls.certDer[0] !== 0x30 || !tls.certPem.startsWith('-----BEGIN CERTIFICATE-----')) throw new Error('no certificate');
mark('tls');
const demo = await lib.startDemoEnclave({ plainHttp: true });
await demo.close();
if (!demo.rootPem.startsWith('-----BEGIN CERTIFICATE-----')) throw new Error('no demo root');
mark('demo');
`,
    );
    // the hook sees the entry's own static dependencies (else the absences below prove nothing)
    expect(at.import).toContain('@noble/curves');
    expect(at.import).toContain('dist/node.js');
    expect(at.import).toContain('dist/deployment/demo/enclave.js');
    for (const pkg of LAZY) expect(at.import).not.toContain(pkg);
    // of the forge, only its few-line X.509 loader (the TLS certificate module imports it)
    expect(at.import.filter((m) => m.startsWith('dist/forge/'))).toEqual(['dist/forge/x509.js']);

    expect(at.tls).toEqual(
      expect.arrayContaining(['@peculiar/x509', 'reflect-metadata', 'dist/forge/x509.js']),
    );
    expect(at.tls).not.toContain('dist/forge/pki.js');

    expect(at.demo).toEqual(expect.arrayContaining(['dist/forge/pki.js', 'dist/forge/attestation.js']));
    // the demo needs the PKI and the signer, not the test-case builder or CRLs of the forge entry
    expect(at.demo).not.toContain('dist/forge/cases.js');
    expect(at.demo).not.toContain('dist/forge/crl.js');
  });

  it('enclave-verify/forge and enclave-verify: X.509 stack with the first test PKI or CRL', async () => {
    const at = await phases(
      'forge',
      ['index', 'import', 'pki', 'crl'],
      `
await import('enclave-verify');
mark('index');
const forge = await import('enclave-verify/forge');
mark('import');
const pki = await forge.createTestPki({ at: new Date('2025-01-01T00:00:00Z') });
if (pki.root.der[0] !== 0x30) throw new Error('no root');
mark('pki');
const crl = await forge.issueTestCrl(pki.zonal, { revoked: [{ certificate: pki.instance, reason: 1 }] });
if (crl[0] !== 0x30) throw new Error('no crl');
mark('crl');
`,
    );
    expect(at.index).toContain('@noble/post-quantum');
    expect(at.import).toContain('dist/forge/pki.js');
    for (const pkg of LAZY) {
      expect(at.index).not.toContain(pkg);
      expect(at.import).not.toContain(pkg);
    }
    expect(at.pki).toEqual(expect.arrayContaining(['@peculiar/x509', 'reflect-metadata']));
    expect(at.crl).toEqual(expect.arrayContaining(['@peculiar/x509', 'dist/forge/crl.js']));
  });
});
