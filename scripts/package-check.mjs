#!/usr/bin/env node
// Checks that `npm pack` gives a package that works in an empty project, as a user installs it:
//   1. builds dist/ and dist-web/ from the current sources in a scratch copy of the project
//      (never touching this checkout's dist/, which other tests may be running), then `npm pack`;
//   2. checks the tarball's file list: bin, dist, dist-web, README, package.json; no tests,
//      vectors, sources, scripts or source maps of tests; prints its size;
//   3. installs it into an empty project OFFLINE from npm's cache: the consumer's lockfile pins
//      the runtime dependencies to this project's package-lock.json (the versions the tests ran
//      against), so `npm ci --offline` needs no registry;
//   4. imports enclave-verify, enclave-verify/node and enclave-verify/forge from an ESM file and
//      uses them (a forged document verified against its test root);
//   5. type-checks a TypeScript consumer with `tsc --noEmit` under moduleResolution node16 and
//      bundler, and checks that a wrong call is refused (so the shipped types are not `any`);
//   6. runs the installed CLI: `npx enclave-verify verify <real document> --at document --pcr 0=…`
//      (exit 0; a wrong PCR0 exits 1), `ui --port N` (page and its script fetched over
//      loopback) and `demo` (exit 0).
// Prints what it did and ends with `package-check: {json}`; exits 1 on the first failure.
//
//   node scripts/package-check.mjs [--keep]      (--keep leaves the scratch folders for a look)
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const project = fileURLToPath(new URL('../', import.meta.url));
const keep = process.argv.includes('--keep');
const started = Date.now();
const scratch = mkdtempSync(join(tmpdir(), 'ev-package-check-'));
const summary = {};

let last = started;
/** One line per step, with the step's own wall time. */
const log = (line) => {
  const now = Date.now();
  console.log(`[package] ${line} [${((now - last) / 1000).toFixed(1)} s]`);
  last = now;
};
const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

/** Run a command; on failure print its output and stop. */
function run(cmd, args, cwd, { allowFail = false, env = {} } = {}) {
  try {
    const stdout = execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false' },
      maxBuffer: 64 << 20,
      timeout: 180_000,
    });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const r = { code: e.status ?? 1, stdout: String(e.stdout ?? ''), stderr: String(e.stderr ?? e.message) };
    if (allowFail) return r;
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}) in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  }
}

function check(ok, what) {
  if (!ok) throw new Error(`package check failed: ${what}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** 1. Build in a scratch copy and pack. */
function pack() {
  const stage = join(scratch, 'stage');
  mkdirSync(stage);
  for (const f of ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src']) {
    cpSync(join(project, f), join(stage, f), { recursive: true });
  }
  symlinkSync(join(project, 'node_modules'), join(stage, 'node_modules'), 'dir');
  // --noCheck: the same files as `npm run build` (compared when this was written) at half the
  // CPU; `npm test` type-checks the sources anyway (`npm run typecheck`).
  run(
    process.execPath,
    [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--noCheck'],
    stage,
  );
  run(
    process.execPath,
    [
      join(project, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'src/web/vite.config.ts',
      '--logLevel',
      'error',
    ],
    stage,
  );
  const out = join(scratch, 'tarball');
  mkdirSync(out);
  const r = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], stage);
  const [info] = JSON.parse(r.stdout);
  return { tarball: join(out, info.filename), info };
}

/** 2. What the tarball holds. */
function checkContents(info) {
  const files = info.files.map((f) => f.path);
  const forbidden = files.filter(
    (p) =>
      /^(test|tests|vectors|src|scripts|node_modules|\.ci)\//.test(p) ||
      /(^|\/)(test|tests|__tests__)\//.test(p) ||
      /\.(test|spec)\.[cm]?[jt]s(\.map)?$/.test(p) ||
      p.endsWith('.map'),
  );
  check(forbidden.length === 0, `the tarball holds files it must not: ${forbidden.slice(0, 10).join(', ')}`);
  for (const needed of [
    'package.json',
    'README.md',
    'bin/enclave-verify.js',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/node.d.ts',
    'dist/forge/index.d.ts',
    'dist/cli/main.js',
    'dist-web/index.html',
  ]) {
    check(files.includes(needed), `the tarball lacks ${needed}`);
  }
  check(
    files.some((p) => /^dist-web\/assets\/.*\.js$/.test(p)),
    'the tarball lacks the page script under dist-web/assets/',
  );
  const tops = [...new Set(files.map((p) => p.split('/')[0]))].sort();
  summary.tarball = {
    file: info.filename,
    bytes: info.size,
    unpackedBytes: info.unpackedSize,
    files: files.length,
    topLevel: tops,
  };
  log(
    `tarball ${info.filename}: ${(info.size / 1024).toFixed(1)} KiB packed, ${(info.unpackedSize / 1024).toFixed(1)} KiB unpacked, ${files.length} files (${tops.join(', ')})`,
  );
}

/** 3. Install into an empty project, offline. */
function install(tarball) {
  const consumer = join(scratch, 'consumer');
  mkdirSync(consumer);
  const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'));
  const spec = `file:${tarball}`;
  const packages = {
    '': { name: 'consumer', dependencies: { 'enclave-verify': spec } },
    'node_modules/enclave-verify': {
      version: pkg.version,
      resolved: spec,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  // The runtime closure is exactly the lockfile entries not marked dev: same paths, versions
  // and integrity hashes, so npm finds every tarball in its cache.
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path && !entry.dev && !entry.devOptional) packages[path] = entry;
  }
  writeFileSync(
    join(consumer, 'package.json'),
    `${JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { 'enclave-verify': spec } }, null, 2)}\n`,
  );
  writeFileSync(
    join(consumer, 'package-lock.json'),
    `${JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`,
  );
  let mode = 'npm ci --offline';
  const r = run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], consumer, { allowFail: true });
  if (r.code !== 0) {
    // npm's cache lacks a dependency (cleaned since `npm ci`?): let npm fetch what is missing.
    if (!/ENOTCACHED/.test(r.stderr)) throw new Error(`npm ci --offline failed:\n${r.stderr}`);
    mode = 'npm install --prefer-offline (cache incomplete)';
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], consumer);
  }
  const installed = JSON.parse(
    readFileSync(join(consumer, 'node_modules/enclave-verify/package.json'), 'utf8'),
  ).version;
  check(installed === pkg.version, `installed version ${installed}, packed ${pkg.version}`);
  summary.install = mode;
  log(`installed enclave-verify ${installed} into an empty project with ${mode}`);
  return consumer;
}

/** 4. ESM imports, used for real. */
function imports(consumer) {
  writeFileSync(
    join(consumer, 'check.mjs'),
    `import * as lib from 'enclave-verify';
import * as node from 'enclave-verify/node';
import * as forge from 'enclave-verify/forge';
const pki = await forge.createTestPki();
const doc = await forge.issueAttestation(pki, { pcrs: { 0: new Uint8Array(48).fill(1) } });
const ok = await lib.verifyAttestation(doc, {
  trustedRoots: [pki.rootPem],
  currentDate: 'document',
  expectedPcrs: { 0: '01'.repeat(48) },
});
let refused = '';
try {
  await lib.verifyAttestation(doc, { currentDate: 'document', expectedPcrs: { 0: '01'.repeat(48) } });
} catch (e) {
  refused = lib.isEnclaveVerifyError(e) ? e.code : String(e);
}
console.log(JSON.stringify({
  lib: typeof lib.verifyAttestation,
  node: typeof node.measureEifFile,
  nodeHasLib: node.verifyAttestation === lib.verifyAttestation,
  forge: typeof forge.issueAttestation,
  verifiedPcr0: lib.toHex(ok.document.pcrs.get(0)),
  withoutTestRoot: refused,
}));
`,
  );
  const r = run(process.execPath, ['check.mjs'], consumer);
  const got = JSON.parse(r.stdout.trim());
  check(
    got.lib === 'function' && got.node === 'function' && got.forge === 'function' && got.nodeHasLib,
    `exports missing: ${r.stdout}`,
  );
  check(got.verifiedPcr0 === '01'.repeat(48), `forged document verified with PCR0 ${got.verifiedPcr0}`);
  check(got.withoutTestRoot.startsWith('ERR_'), `the AWS root accepted a forged document: ${r.stdout}`);
  summary.esm = got;
  log(
    `ESM: enclave-verify, /node, /forge import; a forged document verifies against its test root and is refused (${got.withoutTestRoot}) against the AWS root`,
  );
}

/** 5. TypeScript consumers. */
function types(consumer) {
  const tsc = join(project, 'node_modules/typescript/bin/tsc');
  writeFileSync(
    join(consumer, 'consumer.ts'),
    `import { type VerificationResult, type VerifyOptions, verifyAttestation, toHex } from 'enclave-verify';
import { measureEifFile } from 'enclave-verify/node';
import { createTestPki, issueAttestation } from 'enclave-verify/forge';

export async function pcr0Of(doc: Uint8Array, roots: string[]): Promise<string> {
  const options: VerifyOptions = { trustedRoots: roots, currentDate: 'document', expectedPcrs: { 0: '00'.repeat(48) } };
  const result: VerificationResult = await verifyAttestation(doc, options);
  const pcr0: Uint8Array | undefined = result.document.pcrs.get(0);
  return pcr0 ? toHex(pcr0) : '';
}
export async function forged(): Promise<Uint8Array> {
  return issueAttestation(await createTestPki());
}
export const measure: typeof measureEifFile = measureEifFile;
`,
  );
  writeFileSync(
    join(consumer, 'wrong.ts'),
    `import { verifyAttestation } from 'enclave-verify';
// a string where bytes are expected: the shipped types must refuse it
export const p = verifyAttestation('not bytes');
`,
  );
  const base = {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    target: 'ES2022',
    lib: ['ES2023', 'DOM'],
    types: ['node'],
    typeRoots: [join(project, 'node_modules/@types')],
  };
  const results = {};
  // The node16 run also checks every shipped declaration file (skipLibCheck false); the others
  // skip that repeat, which is most of tsc's time.
  for (const [name, opts] of [
    ['node16', { module: 'node16', moduleResolution: 'node16' }],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler', skipLibCheck: true }],
  ]) {
    writeFileSync(
      join(consumer, `tsconfig.${name}.json`),
      JSON.stringify({ compilerOptions: { ...base, ...opts }, files: ['consumer.ts'] }),
    );
    run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], consumer);
    results[name] = 'ok';
  }
  writeFileSync(
    join(consumer, 'tsconfig.wrong.json'),
    JSON.stringify({
      compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16', skipLibCheck: true },
      files: ['wrong.ts'],
    }),
  );
  const wrong = run(process.execPath, [tsc, '-p', 'tsconfig.wrong.json'], consumer, { allowFail: true });
  const code = /error (TS\d+)/.exec(wrong.stdout)?.[1];
  check(wrong.code !== 0 && code === 'TS2345', `a wrong call type-checked: ${wrong.stdout}`);
  results.wrongCall = code;
  summary.tsc = results;
  log(`tsc --noEmit: consumer compiles with node16 and bundler resolution; a wrong call fails with ${code}`);
}

/** 6. The installed CLI. */
async function cli(consumer) {
  const manifest = JSON.parse(readFileSync(join(project, 'vectors/real/nitro/manifest.json'), 'utf8'));
  const entry = manifest.find((m) => m.name === 'caution_2025-12-23_bootproof');
  const doc = join(project, 'vectors/real/nitro/valid/caution_2025-12-23_bootproof.cbor');
  const npx = (args, opts) => run('npx', ['--offline', 'enclave-verify', ...args], consumer, opts);
  const ok = npx(['verify', doc, '--at', 'document', '--pcr', `0=${entry.pcr0}`]);
  check(
    ok.stdout.startsWith('VERIFIED: genuine AWS Nitro attestation document'),
    `verify printed ${ok.stdout}`,
  );
  const bad = npx(['verify', doc, '--at', 'document', '--pcr', `0=${'00'.repeat(48)}`], { allowFail: true });
  check(
    bad.code === 1 && bad.stdout.startsWith('REJECTED ERR_PCR_MISMATCH'),
    `a wrong PCR0 gave exit ${bad.code}: ${bad.stdout.slice(0, 200)}`,
  );
  summary.verify = { exit: ok.code, wrongPcrExit: bad.code };
  log(
    `npx enclave-verify verify <caution document> --at document --pcr 0=${entry.pcr0.slice(0, 12)}…: exit 0; a wrong PCR0: exit 1 ERR_PCR_MISMATCH`,
  );

  const port = await freePort();
  const ui = spawn('npx', ['--offline', 'enclave-verify', 'ui', '--port', String(port)], {
    cwd: consumer,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = `http://127.0.0.1:${port}/`;
    let printed = '';
    ui.stdout.on('data', (c) => {
      printed += c;
    });
    const deadline = Date.now() + 30_000;
    while (!printed.includes(url)) {
      check(Date.now() < deadline && ui.exitCode === null, `ui did not start: ${printed}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const page = await fetch(url);
    const html = await page.text();
    check(page.status === 200 && html.includes('<title>'), `ui served ${page.status}`);
    const script = /src="\.?\/?(assets\/[^"]+\.js)"/.exec(html)?.[1];
    check(script !== undefined, 'the page names no script');
    const js = await fetch(url + script);
    const body = await js.text();
    check(
      js.status === 200 && body.length > 10_000,
      `the page script ${script}: ${js.status}, ${body.length} bytes`,
    );
    summary.ui = {
      status: page.status,
      title: /<title>([^<]*)<\/title>/.exec(html)?.[1],
      script,
      scriptBytes: body.length,
    };
    log(
      `npx enclave-verify ui --port ${port}: page "${summary.ui.title}" and ${script} (${body.length} bytes) served over loopback`,
    );
  } finally {
    try {
      process.kill(-ui.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }

  const demo = npx(['demo']);
  check(
    /^VERIFIED: https:\/\/127\.0\.0\.1:\d+\/attestation runs the expected enclave image/m.test(demo.stdout),
    `demo printed ${demo.stdout}`,
  );
  summary.demo = { exit: demo.code };
  log('npx enclave-verify demo: exit 0, VERIFIED against the simulated enclave');
}

try {
  const { tarball, info } = pack();
  log('packed from a fresh build of the sources (tsc, vite)');
  checkContents(info);
  const consumer = install(tarball);
  imports(consumer);
  types(consumer);
  await cli(consumer);
  summary.seconds = Number(((Date.now() - started) / 1000).toFixed(1));
  log(`all checks passed in ${seconds()}`);
  console.log(`package-check: ${JSON.stringify(summary)}`);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
} finally {
  if (keep) log(`kept ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
