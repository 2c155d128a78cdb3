// The one place browser tests get Chromium from, so that `npm ci && npm test` runs them on a bare
// machine. Order:
//   1. CHROMIUM_PATH (must exist: a path the user named is never silently replaced);
//   2. a system chromium / chromium-browser / google-chrome on PATH (Debian's, as .ci/run
//      installs: already unpacked, so it starts faster);
//   3. the Chromium inside the dev dependency @sparticuz/chromium. Its binary ships brotli-packed
//      in the npm tarball (nothing is downloaded); it is unpacked once per installed version.
// ENCLAVE_VERIFY_TEST_BROWSER=bundled skips 1 and 2 (to test what a bare machine gets);
// ENCLAVE_VERIFY_TEST_BROWSER=system requires 1 or 2.
//
// Usage:
//   const browser = await launchBrowser();          // a playwright-core Browser
//   const context = await browser.newContext({ ignoreHTTPSErrors: true });
//   ...
//   await browser.close();
// `resolveChromium()` gives the path, where it came from and a label for test output.
import { execFileSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
const SPARTICUZ = join(PROJECT, 'node_modules/@sparticuz/chromium');

/** Names a system Chromium goes by on Debian, Ubuntu, Fedora and Google's own packages. */
const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/**
 * Flags for every Chromium here. Tests run as root in containers, so the setuid/namespace sandbox
 * cannot start (`--no-sandbox`). Background networking, component updates, sync and QUIC make
 * the browser dial Google's servers; offline they end in refused connections and log noise, and
 * tests must talk to 127.0.0.1 only.
 */
const COMMON_ARGS = [
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-domain-reliability',
  '--no-pings',
];

/**
 * What we take from `chromium.args` of @sparticuz/chromium: what lets its binary start as root
 * and render with its own SwiftShader. Its list also has `--disable-web-security`,
 * `--allow-running-insecure-content`, `--disable-site-isolation-trials` and `--single-process`
 * (meant for AWS Lambda); those would switch off the very CORS and origin checks the page and
 * deployment tests exercise, so they are left out on purpose.
 */
const BUNDLED_ARGS_ALLOWED = new Set([
  '--no-sandbox',
  '--disable-setuid-sandbox',
  '--no-zygote',
  '--ignore-gpu-blocklist',
  '--in-process-gpu',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--font-render-hinting=none',
]);

export type ChromiumSource = 'CHROMIUM_PATH' | 'system' | 'bundled';

export interface ResolvedChromium {
  /** The executable to hand to playwright-core. */
  executablePath: string;
  /** Which rule found it. */
  source: ChromiumSource;
  /** Arguments to launch it with. */
  args: string[];
  /** One line for test output, e.g. `bundled @sparticuz/chromium 153.0.0 (/…/chromium)`. */
  label: string;
}

/** Where the rules look; injectable so the order itself is tested without launching anything. */
export interface ChromiumLookup {
  env: Record<string, string | undefined>;
  /** True when `path` is an executable file. */
  isExecutable: (path: string) => boolean;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const defaultLookup: ChromiumLookup = { env: process.env, isExecutable: isExecutableFile };

/**
 * Rules 1 and 2 (and the ENCLAVE_VERIFY_TEST_BROWSER switch): the path of a user-named or
 * system Chromium, or `undefined` when the bundled one is to be used.
 */
export function pickChromium(
  lookup: ChromiumLookup = defaultLookup,
): { executablePath: string; source: 'CHROMIUM_PATH' | 'system' } | undefined {
  const { env, isExecutable } = lookup;
  const mode = env.ENCLAVE_VERIFY_TEST_BROWSER ?? '';
  if (mode !== '' && mode !== 'bundled' && mode !== 'system') {
    throw new Error(`ENCLAVE_VERIFY_TEST_BROWSER=${mode}: use "bundled", "system" or leave it unset`);
  }
  if (mode === 'bundled') return undefined;
  const named = env.CHROMIUM_PATH;
  if (named) {
    if (!isExecutable(named)) {
      throw new Error(`CHROMIUM_PATH=${named} is not an executable file: fix it or unset it`);
    }
    return { executablePath: named, source: 'CHROMIUM_PATH' };
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of SYSTEM_NAMES) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return { executablePath: candidate, source: 'system' };
    }
  }
  if (mode === 'system') {
    throw new Error(
      `ENCLAVE_VERIFY_TEST_BROWSER=system but neither CHROMIUM_PATH nor ${SYSTEM_NAMES.join('/')} on PATH`,
    );
  }
  return undefined;
}

function sparticuzVersion(): string {
  return (JSON.parse(readFileSync(join(SPARTICUZ, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Unpack the bundled Chromium once per installed version into node_modules/.cache.
 * `chromium.executablePath()` always unpacks into os.tmpdir() and treats any existing
 * `chromium` file there as finished, so two test files unpacking at once (or another checkout
 * sharing /tmp) could launch a half-written binary. Instead it runs in a child process whose
 * TMPDIR is a private staging folder, and the finished folder is renamed into place: a
 * directory rename is atomic, and whoever loses the race uses the winner's copy.
 */
function unpackBundled(): string {
  const version = sparticuzVersion();
  const cacheRoot = join(PROJECT, 'node_modules/.cache/enclave-verify-chromium');
  const final = join(cacheRoot, version);
  const binary = join(final, 'chromium');
  if (existsSync(binary)) return binary;
  mkdirSync(cacheRoot, { recursive: true });
  const staging = join(cacheRoot, `.staging-${process.pid}-${Date.now()}`);
  mkdirSync(staging);
  try {
    const printed = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const c = (await import('@sparticuz/chromium')).default; process.stdout.write(await c.executablePath());",
      ],
      { cwd: PROJECT, env: { ...process.env, TMPDIR: staging }, encoding: 'utf8', timeout: 120_000 },
    );
    if (printed !== join(staging, 'chromium')) {
      throw new Error(`@sparticuz/chromium unpacked to ${printed}, expected ${join(staging, 'chromium')}`);
    }
    try {
      renameSync(staging, final);
    } catch (e) {
      if (!existsSync(binary)) throw e;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}

async function bundledArgs(): Promise<string[]> {
  const packaged = (await import('@sparticuz/chromium')).default.args;
  return packaged.filter((a) => BUNDLED_ARGS_ALLOWED.has(a));
}

let resolved: Promise<ResolvedChromium> | undefined;

/**
 * Find the Chromium the browser tests use (memoised per test file).
 * @example
 *   const { label } = await resolveChromium(); // 'system /usr/bin/chromium'
 */
export function resolveChromium(): Promise<ResolvedChromium> {
  resolved ??= (async () => {
    const picked = pickChromium();
    if (picked) {
      return {
        ...picked,
        args: COMMON_ARGS,
        label: `${picked.source} ${picked.executablePath}`,
      };
    }
    const executablePath = unpackBundled();
    const args = [...new Set([...(await bundledArgs()), ...COMMON_ARGS])];
    return {
      executablePath,
      source: 'bundled' as const,
      args,
      label: `bundled @sparticuz/chromium ${sparticuzVersion()} (${executablePath})`,
    };
  })();
  return resolved;
}

/**
 * Launch headless Chromium (see the order above) with playwright-core. The caller closes it.
 * Prints which browser it is, so a failing run says what it ran on.
 * @example
 *   const browser = await launchBrowser();
 *   const page = await (await browser.newContext()).newPage();
 */
export async function launchBrowser(): Promise<Browser> {
  const found = await resolveChromium();
  console.info(`[browser] ${found.label}`);
  return chromium.launch({ executablePath: found.executablePath, args: found.args, headless: true });
}
