// End-to-end tests of the verifier page in real headless Chromium: the page is built with Vite
// from the current sources, served by the `ui` command's server, and fed real documents from
// vectors/real through its file inputs. Running the library in the browser is also the proof
// that the entry the page imports (src/index.ts) pulls in nothing from `node:`.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/commands/demo.js';
import type { UiServer } from '../../src/cli/commands/ui.js';
import { run as runVerify } from '../../src/cli/commands/verify.js';
import type { CliContext } from '../../src/cli/context.js';
import { detectDocumentInput, isEnclaveVerifyError } from '../../src/index.js';
import { launchBrowser } from '../support/browser.js';
import { type ServedPage, servePage } from '../support/web-page.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
const VECTORS = fileURLToPath(new URL('../../vectors/real/', import.meta.url));
const SCREENSHOTS = join(PROJECT, 'test-output', 'screenshots');

interface ManifestEntry {
  name: string;
  file: string;
  timestamp: number;
  pcr0: string;
  pcr1: string;
  pcr2: string;
}
const manifest = JSON.parse(readFileSync(join(VECTORS, 'nitro/manifest.json'), 'utf8')) as ManifestEntry[];
function entry(name: string): ManifestEntry {
  const e = manifest.find((m) => m.name === name);
  if (!e) throw new Error(`no ${name} in manifest.json`);
  return e;
}
const vector = (rel: string) => join(VECTORS, rel);

let served: ServedPage;
let ui: UiServer;
let browser: Browser;
let context: BrowserContext;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  served = await servePage('ev-web-build-');
  ui = served.ui;
  browser = await launchBrowser();
  context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    // Only for the demo enclave's self-signed certificate on 127.0.0.1 (the endpoint test).
    ignoreHTTPSErrors: true,
  });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await served?.close();
});

async function openPage(viewport?: { width: number; height: number }): Promise<Page> {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(ui.url);
  await page.waitForSelector('html[data-ready="true"]');
  return page;
}

/** Run `action` (a click or key press) and wait for the verdict it produces. */
async function afterAction(
  page: Page,
  action: () => Promise<void>,
): Promise<{ state: string; code: string | null; text: string }> {
  const before = (await page.getAttribute('#verdict', 'data-run')) ?? '';
  await action();
  await page.waitForFunction((prev) => {
    const run = document.getElementById('verdict')?.dataset.run;
    return run !== undefined && run !== prev;
  }, before);
  return verdictOf(page);
}

/** Press Verify and wait for the new verdict. */
function verify(page: Page): Promise<{ state: string; code: string | null; text: string }> {
  return afterAction(page, () => page.click('#verify'));
}

async function verdictOf(page: Page): Promise<{ state: string; code: string | null; text: string }> {
  return {
    state: (await page.getAttribute('#verdict', 'data-state')) ?? '',
    code: await page.getAttribute('#verdict', 'data-code'),
    text: (await page.textContent('#verdict')) ?? '',
  };
}

async function pcrRows(
  page: Page,
): Promise<Record<string, { state: string; expected: string; actual: string }>> {
  return page.$$eval('#pcr-table tbody tr', (rows) =>
    Object.fromEntries(
      rows.map((r) => [
        (r as HTMLElement).dataset.pcr ?? '',
        {
          state: (r as HTMLElement).dataset.state ?? '',
          expected: r.querySelector('.expected')?.textContent ?? '',
          actual: r.querySelector('.actual')?.textContent ?? '',
        },
      ]),
    ),
  );
}

/** What `enclave-verify verify --json` says about the same file: the page must say the same. */
async function cliRefusal(file: string, ...flags: string[]): Promise<{ code: string; message: string }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c) => {
    text += String(c);
  });
  const ctx: CliContext = {
    stdout: out,
    stderr: new PassThrough(),
    stdin: new PassThrough(),
    env: {},
    cwd: PROJECT,
  };
  // The page verifies without expected PCRs when none are given; the CLI needs that said.
  const expects = flags.some((f) => f === '--pcr' || f === '--expect-pcrs');
  const exit = await runVerify([file, '--json', ...flags, ...(expects ? [] : ['--any-pcrs'])], ctx);
  const result = JSON.parse(text) as { ok: boolean; code?: string; message?: string };
  expect(exit).toBe(1);
  expect(result.ok).toBe(false);
  return { code: result.code ?? '', message: result.message ?? '' };
}

/** `enclave-verify demo --serve` in-process on a free loopback port; its files go to a temp dir. */
async function startDemo(
  ...flags: string[]
): Promise<{ origin: string; dir: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ev-demo-'));
  const abort = new AbortController();
  const out = new PassThrough();
  let printed = '';
  out.on('data', (c) => {
    printed += String(c);
  });
  const ctx: CliContext = {
    stdout: out,
    stderr: new PassThrough(),
    stdin: new PassThrough(),
    env: {},
    cwd: PROJECT,
  };
  const exit = runDemo(['--serve', '--port', '0', '--dir', dir, ...flags], ctx, abort.signal);
  const stop = async () => {
    abort.abort();
    expect(await exit).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await expect.poll(() => printed, { timeout: 20_000 }).toContain('Press Ctrl-C to stop.');
  } catch (e) {
    await stop();
    throw e;
  }
  const origin = /listening on (https?:\/\/127\.0\.0\.1:\d+)\/attestation/.exec(printed)?.[1];
  if (!origin) throw new Error(`demo printed no origin: ${printed}`);
  return { origin, dir, stop };
}

/**
 * Every visible text whose colour has less than 4.5:1 contrast (WCAG AA) with the background it
 * sits on (the nearest ancestor with an opaque background), as `id-or-tag: ratio` strings.
 */
function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgba = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = (c: number[]) => {
      const f = (v: number) => {
        const x = v / 255;
        return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(c[0]!) + 0.7152 * f(c[1]!) + 0.0722 * f(c[2]!);
    };
    const background = (el: Element | null): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3]! >= 1)) return c;
      }
      return [255, 255, 255];
    };
    const bad: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || !n.textContent?.trim() || el.closest('[hidden], [aria-hidden="true"], button:disabled'))
        continue;
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      const fg = lum(rgba(getComputedStyle(el).color));
      const bg = lum(background(el));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 4.5) bad.push(`${el.id || el.className || el.tagName}: ${ratio.toFixed(2)}`);
    }
    return [...new Set(bad)];
  });
}

const pcrLines = (e: ManifestEntry) => `PCR0: ${e.pcr0}\nPCR1: ${e.pcr1}\nPCR2: ${e.pcr2}\n`;

const nitroCliJson = (e: ManifestEntry) =>
  JSON.stringify(
    { Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: e.pcr0, PCR1: e.pcr1, PCR2: e.pcr2 } },
    null,
    2,
  );
const describeEifJson = (e: ManifestEntry) =>
  JSON.stringify(
    {
      EifVersion: 4,
      Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: e.pcr0, PCR1: e.pcr1, PCR2: e.pcr2 },
      IsSigned: false,
      CheckCRC: true,
      ImageName: 'app',
      ImageVersion: '1.0',
      Metadata: { BuildTime: '2025-01-01T00:00:00+00:00', DockerInfo: {} },
    },
    null,
    2,
  );
const eifBuildPcrs = (e: ManifestEntry) => `${e.pcr0} PCR0\n${e.pcr1} PCR1\n${e.pcr2} PCR2\n`;
const plainMap = (e: ManifestEntry) => JSON.stringify({ 0: e.pcr0, 1: e.pcr1, 2: e.pcr2 });
const canaryConfig = (e: ManifestEntry) =>
  JSON.stringify({
    version: 0,
    targets: [
      { id: 'other', name: 'Other app', expected_pcrs: { 0: 'ab'.repeat(48), 1: e.pcr1, 2: e.pcr2 } },
      { id: 'this-one', name: 'This app', expected_pcrs: { 0: e.pcr0, 1: e.pcr1, 2: e.pcr2 } },
    ],
  });

function tamperedSignature(bytes: Uint8Array): Uint8Array {
  // The signature (96 bytes, r || s) is the last element of the untagged COSE array.
  const copy = bytes.slice();
  copy[copy.length - 10]! ^= 0x01;
  return copy;
}

describe('verifier page in Chromium', () => {
  it('verifies a real Nitro document at its own time with matching PCRs', async () => {
    const doc = entry('caution_2025-12-23_bootproof');
    const page = await openPage();
    await page.setInputFiles('#doc-file', vector(`nitro/${doc.file}`));
    await expect
      .poll(() => page.textContent('#doc-status'))
      .toContain('module i-00fc9beee0ec1bddb-enc019b47ec6c3e036e');
    await page.fill('#pcrs-text', pcrLines(doc));
    await page.check('#at-document');
    const v = await verify(page);
    expect(v.state).toBe('ok');
    expect(v.text).toContain('Verified');
    const rows = await pcrRows(page);
    for (const i of ['0', '1', '2']) expect(rows[i]?.state).toBe('match');
    expect(rows['0']?.actual).toContain(doc.pcr0);
    expect(await page.textContent('#pcr-summary')).toBe('3 of 3 expected PCRs match.');
    expect(await page.textContent('#checked-at')).toContain('2025-12-23 17:06:03 UTC');
    // Every certificate of the chain covers the document's own time, root first.
    const covers = await page.$$eval('#chain-list li', (li) =>
      li.map((l) => (l as HTMLElement).dataset.covers),
    );
    expect(covers).toEqual(['yes', 'yes', 'yes', 'yes', 'yes']);
    expect(await page.textContent('#chain-list li:first-child')).toContain('CN=aws.nitro-enclaves');
    expect(await page.textContent('#user-data')).toContain('verifying_key');
    await page.screenshot({ path: join(SCREENSHOTS, 'verified-desktop.png'), fullPage: true });

    // Same document at "now": its 3-hour leaf has long expired. Same code as the library in Node.
    await page.check('#at-now');
    const late = await verify(page);
    const cli = await cliRefusal(vector(`nitro/${doc.file}`), '--at', 'now');
    expect(late.state).toBe('bad');
    expect(cli.code).toBe('ERR_CERT_EXPIRED');
    expect(late.code).toBe(cli.code);
    const leafCovers = await page.$eval(
      '#chain-list li:last-child',
      (l) => (l as HTMLElement).dataset.covers,
    );
    expect(leafCovers).toBe('no');
    await page.screenshot({ path: join(SCREENSHOTS, 'expired-at-now.png'), fullPage: true });
    await page.close();
  });

  it('refuses a tampered document with ERR_SIGNATURE_INVALID and the CLI message', async () => {
    const doc = entry('anchorage_2022-11-09_eu-west-1');
    const bytes = tamperedSignature(new Uint8Array(readFileSync(vector(`nitro/${doc.file}`))));
    const page = await openPage();
    await page.setInputFiles('#doc-file', {
      name: 'tampered.cbor',
      mimeType: 'application/cbor',
      buffer: Buffer.from(bytes),
    });
    await page.check('#at-document');
    const v = await verify(page);
    const tmp = mkdtempSync(join(tmpdir(), 'ev-tampered-'));
    writeFileSync(join(tmp, 'tampered.cbor'), bytes);
    const cli = await cliRefusal(join(tmp, 'tampered.cbor'), '--at', 'document');
    rmSync(tmp, { recursive: true, force: true });
    expect(v.state).toBe('bad');
    expect(v.code).toBe('ERR_SIGNATURE_INVALID');
    expect(cli.code).toBe('ERR_SIGNATURE_INVALID');
    expect(await page.textContent('#verdict .verdict-error')).toBe(`ERR_SIGNATURE_INVALID: ${cli.message}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'tampered-signature.png'), fullPage: true });
    await page.close();
  });

  it('shows a genuine document checked without expected PCRs as a warning, never the green verdict', async () => {
    const doc = entry('caution_2025-12-23_bootproof');
    const page = await openPage();
    await page.setInputFiles('#doc-file', vector(`nitro/${doc.file}`));
    await expect.poll(() => page.textContent('#doc-status')).toContain('module ');
    await page.check('#at-document');
    const warn = await verify(page);
    expect(warn.state).toBe('warn');
    expect(await page.getAttribute('#verdict', 'class')).toBe('verdict verdict-warn');
    expect(await page.textContent('#verdict .verdict-title')).toBe('⚠ Genuine, code not checked');
    expect(warn.text).toContain(
      'No expected PCRs were given: this proves the document is genuine, not WHICH code runs.',
    );
    expect(await page.textContent('#pcr-summary')).toBe(
      'No expected PCRs given: the values are shown, not checked.',
    );
    const colours = () =>
      page.$eval('#verdict', (el) => {
        const s = getComputedStyle(el);
        return `${s.backgroundColor} ${s.borderLeftColor}`;
      });
    const warnColours = await colours();
    await page.screenshot({ path: join(SCREENSHOTS, 'genuine-code-not-checked.png'), fullPage: true });
    // The same document with its PCRs expected: the green verdict, in other colours.
    await page.fill('#pcrs-text', pcrLines(doc));
    const ok = await verify(page);
    expect([ok.state, await page.textContent('#verdict .verdict-title')]).toEqual(['ok', 'Verified']);
    expect(await colours()).not.toBe(warnColours);
    await page.close();
  });

  it('verifies a real NitroTPM document: kind shown, TPM PCRs labelled, unmeasured PCRs never match', async () => {
    const tpm = (
      JSON.parse(readFileSync(vector('nitrotpm/manifest.json'), 'utf8')) as {
        file: string;
        module_id: string;
        nitrotpm_pcrs: Record<string, string>;
      }[]
    )[0]!;
    const page = await openPage();
    await page.setInputFiles('#doc-file', vector(`nitrotpm/${tpm.file}`));
    await expect.poll(() => page.textContent('#doc-status')).toContain(`module ${tpm.module_id}`);
    await page.check('#at-document');
    await page.fill('#pcrs-text', `PCR4: ${tpm.nitrotpm_pcrs['4']}\nPCR7: ${tpm.nitrotpm_pcrs['7']}`);
    const v = await verify(page);
    expect([v.state, await page.textContent('#verdict .verdict-title')]).toEqual(['ok', 'Verified']);
    expect(v.text).toContain('Genuine AWS NitroTPM attestation of an EC2 instance');
    expect(await page.getAttribute('#document-kind', 'data-kind')).toBe('nitrotpm');
    expect(await page.textContent('#document-kind')).toContain('nitrotpm_pcrs');
    expect(await page.textContent('#pcrs-result-heading')).toBe('NitroTPM PCRs (nitrotpm_pcrs)');
    const rows = await pcrRows(page);
    expect([rows['4']?.state, rows['7']?.state, rows['0']?.state]).toEqual(['match', 'match', 'unchecked']);
    expect(await page.textContent('#pcr-table tr[data-pcr="4"] th')).toBe('TPM PCR4');
    // No debug badge on a TPM document's PCR0..2; the all-ff PCR17..22 are shown.
    expect(await page.textContent('#pcr-table tr[data-pcr="0"] .actual')).toBe(tpm.nitrotpm_pcrs['0']);
    expect(rows['17']?.actual).toBe('ff'.repeat(48));
    await page.screenshot({ path: join(SCREENSHOTS, 'nitrotpm-verified.png'), fullPage: true });
    // An expectation naming a PCR that holds its reset value is refused, as by the CLI.
    await page.fill('#pcrs-text', `PCR4: ${tpm.nitrotpm_pcrs['4']}\nPCR12: ${'00'.repeat(48)}`);
    const bad = await verify(page);
    const cli = await cliRefusal(
      vector(`nitrotpm/${tpm.file}`),
      '--at',
      'document',
      '--pcr',
      `4=${tpm.nitrotpm_pcrs['4']}`,
      '--pcr',
      `12=${'00'.repeat(48)}`,
    );
    expect([bad.code, cli.code]).toEqual(['ERR_PCR_MISMATCH', 'ERR_PCR_MISMATCH']);
    expect(await page.textContent('#verdict .verdict-error')).toBe(`${cli.code}: ${cli.message}`);
    expect(await page.textContent('#pcr-table tr[data-pcr="12"] .actual')).toContain(
      'reset value: nothing measured',
    );
    expect((await pcrRows(page))['12']?.state).toBe('mismatch');
    await page.close();
  });

  it('checks at a given time exactly like verify --at: the same parser, a zone required', async () => {
    const doc = entry('anchorage_2022-11-09_eu-west-1');
    const page = await openPage();
    await page.setInputFiles('#doc-file', vector(`nitro/${doc.file}`));
    // The signing certificate lives 3 hours: 22:51:57 .. 01:52:00 UTC.
    await page.fill('#at-time', '2022-11-10T01:00:00Z');
    expect(await page.isChecked('#at-given')).toBe(true);
    const inside = await verify(page);
    // Genuine, but no PCRs were given: a warning, not the green verdict.
    expect(inside.state).toBe('warn');
    expect(await page.textContent('#checked-at')).toBe('2022-11-10 01:00:00 UTC: the time you gave');
    // A time without a zone is refused with the CLI's code and words, not read as UTC or local.
    await page.fill('#at-time', '2022-11-10T01:00:00');
    const zoneless = await verify(page);
    expect(zoneless.code).toBe('ERR_USAGE');
    expect(await page.textContent('#verdict .verdict-error')).toBe(
      "ERR_USAGE: the given verification time '2022-11-10T01:00:00' has no time zone, so it would depend on this machine's TZ setting; add Z for UTC or an offset, e.g. 2025-12-23T17:20:16Z or 2025-12-23T18:20:16+01:00",
    );
    await page.fill('#at-time', '2022-11-10T03:00:00+01:00');
    const after = await verify(page);
    const cli = await cliRefusal(vector(`nitro/${doc.file}`), '--at', '2022-11-10T02:00:00Z');
    expect(cli.code).toBe('ERR_CERT_EXPIRED');
    expect(await page.textContent('#verdict .verdict-error')).toBe(`${cli.code}: ${cli.message}`);
    expect(after.code).toBe('ERR_CERT_EXPIRED');
    await page.fill('#at-time', '');
    expect((await verify(page)).code).toBe('ERR_USAGE');
    await page.close();
  });

  it('flags a debug-mode document with ERR_DEBUG_MODE unless debug is allowed', async () => {
    const doc = entry('evervault_2022-10-12_debug');
    const page = await openPage();
    await page.setInputFiles('#doc-file', vector(`nitro/${doc.file}`));
    await page.check('#at-document');
    const v = await verify(page);
    const cli = await cliRefusal(vector(`nitro/${doc.file}`), '--at', 'document');
    expect(v.state).toBe('bad');
    expect(v.code).toBe('ERR_DEBUG_MODE');
    expect(await page.textContent('#verdict .verdict-error')).toBe(`${cli.code}: ${cli.message}`);
    expect(await page.textContent('#pcr-table tr[data-pcr="0"] .actual')).toContain('all zero: debug mode');
    await page.screenshot({ path: join(SCREENSHOTS, 'debug-mode.png'), fullPage: true });
    await page.check('#allow-debug');
    const allowed = await verify(page);
    expect(allowed.state).toBe('warn');
    expect(allowed.text).toContain('DEBUG enclave accepted on request');
    await page.close();
  });

  it('reads expected PCRs pasted in every format the CLI reads', async () => {
    const doc = entry('anchorage_2022-11-09_eu-west-1');
    const page = await openPage();
    await page.setInputFiles('#doc-file', vector(`nitro/${doc.file}`));
    await page.check('#at-document');
    const formats: [string, string][] = [
      ['nitro-cli build-enclave JSON', nitroCliJson(doc)],
      ['nitro-cli describe-eif JSON', describeEifJson(doc)],
      ['eif_build .pcrs', eifBuildPcrs(doc)],
      ['PCRn: hex lines', pcrLines(doc)],
      ['{"0": hex} map', plainMap(doc)],
      ['canary config', canaryConfig(doc)],
    ];
    for (const [name, text] of formats) {
      await page.fill('#pcrs-text', text);
      if (name === 'canary config') {
        expect(await page.isVisible('#pcrs-target')).toBe(true);
        await page.selectOption('#pcrs-target', 'this-one');
      }
      expect(await page.textContent('#pcrs-status'), name).toContain('3 expected PCRs (PCR0, PCR1, PCR2)');
      const v = await verify(page);
      expect(v.state, name).toBe('ok');
      const rows = await pcrRows(page);
      expect(
        ['0', '1', '2'].map((i) => rows[i]?.state),
        name,
      ).toEqual(['match', 'match', 'match']);
    }
    // The other canary target expects a different PCR0: refused, and the table shows which.
    await page.selectOption('#pcrs-target', 'other');
    const other = await verify(page);
    expect(other.code).toBe('ERR_PCR_MISMATCH');
    const rows = await pcrRows(page);
    expect(rows['0']?.state).toBe('mismatch');
    expect(rows['0']?.expected).toBe('ab'.repeat(48));
    expect(rows['1']?.state).toBe('match');
    await page.screenshot({ path: join(SCREENSHOTS, 'pcr-mismatch.png'), fullPage: true });

    // Unreadable expectations are refused before verifying, with the library's code.
    await page.fill('#pcrs-text', 'PCR0 = not hex at all');
    expect(await page.textContent('#pcrs-status')).toContain('ERR_EXPECTED_PCRS_FORMAT');
    expect((await verify(page)).code).toBe('ERR_EXPECTED_PCRS_FORMAT');
    await page.close();
  });

  it('loads the expected-PCR files of vectors/real/caution and shows their values', async () => {
    const doc = entry('caution_2025-12-23_bootproof');
    const page = await openPage();
    await page.setInputFiles('#doc-file', vector(`nitro/${doc.file}`));
    await page.check('#at-document');
    const files: [string, string, string | undefined][] = [
      ['caution/caution-verify-pcrs.txt', '3c07ec536432532f', undefined],
      ['caution/eif_build-enclave.pcrs', 'd4f748865131ffc3', undefined],
      ['caution/canary.json', 'e1e2ec28d08622cf', 'xwing-poc'],
    ];
    for (const [file, pcr0Prefix, target] of files) {
      await page.setInputFiles('#pcrs-file', vector(file));
      await expect
        .poll(() => page.textContent('#pcrs-status'), { message: file })
        .toContain('3 expected PCRs');
      if (target) await page.selectOption('#pcrs-target', target);
      const v = await verify(page);
      // These are other enclaves' values: PCR0 differs, PCR2 (no second ramdisk) is shared.
      expect(v.code, file).toBe('ERR_PCR_MISMATCH');
      const rows = await pcrRows(page);
      expect(rows['0']?.expected.startsWith(pcr0Prefix), file).toBe(true);
      expect(rows['0']?.state, file).toBe('mismatch');
      expect(rows['2']?.state, file).toBe('match');
    }
    await page.close();
  });

  it('accepts a document pasted as base64, hex and endpoint JSON', async () => {
    const doc = entry('anchorage_2022-11-09_eu-west-1');
    const bytes = readFileSync(vector(`nitro/${doc.file}`));
    const evidence = readFileSync(vector('caution/evidence-v0-vector.json'), 'utf8');
    const page = await openPage();
    await page.check('#at-document');
    for (const [name, text, moduleId] of [
      ['base64', bytes.toString('base64'), 'i-04fd167167daacf3b-enc01845e97d0b3eb4e'],
      ['hex', bytes.toString('hex'), 'i-04fd167167daacf3b-enc01845e97d0b3eb4e'],
      ['endpoint JSON', evidence, 'i-00fc9beee0ec1bddb-enc019b47ec6c3e036e'],
    ] as const) {
      await page.fill('#doc-text', text);
      expect(await page.textContent('#doc-status'), name).toContain(`module ${moduleId}`);
      const v = await verify(page);
      expect(v.state, name).toBe('warn');
      expect(await page.textContent('#module-id')).toBe(moduleId);
    }
    // An endpoint answer pasted with its manifest: shown, and labelled as not signed.
    await page.fill(
      '#doc-text',
      JSON.stringify({
        document: bytes.toString('base64'),
        manifest: { app_source: { url: 'https://git.example/app.git', commit: 'abc123' } },
      }),
    );
    expect((await verify(page)).state).toBe('warn');
    expect(await page.textContent('#manifest-heading')).toBe('Build manifest (NOT signed)');
    expect(await page.textContent('.manifest pre')).toContain('https://git.example/app.git');

    // Dropping a file on the drop zone loads it like the file picker.
    await page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'dropped.cbor'));
      document
        .getElementById('doc-drop')
        ?.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true }));
    }, bytes.toString('base64'));
    await expect
      .poll(() => page.textContent('#doc-status'))
      .toContain('Loaded dropped.cbor: 4461 bytes (raw CBOR)');
    expect((await verify(page)).state).toBe('warn');

    // A file too large to be a document is refused before reading, and never leaves the
    // earlier document in place to be verified instead.
    await page.setInputFiles('#doc-file', {
      name: 'huge.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(1024 * 1024 + 1),
    });
    await expect.poll(() => page.textContent('#doc-status')).toContain('huge.bin: ERR_INPUT_TOO_LARGE');
    expect((await verify(page)).code).toBe('ERR_INPUT_TOO_LARGE');

    // Garbage is refused with the library's own input error, word for word.
    const garbage = 'not a document!';
    let refusal = '';
    try {
      detectDocumentInput(new TextEncoder().encode(garbage));
    } catch (e) {
      if (isEnclaveVerifyError(e)) refusal = `${e.code}: ${e.message}`;
    }
    expect(refusal).toMatch(/^ERR_INPUT_FORMAT: /);
    await page.fill('#doc-text', garbage);
    expect(await page.textContent('#doc-status')).toBe(`pasted text: ${refusal}`);
    const refused = await verify(page);
    expect(refused.code).toBe('ERR_INPUT_FORMAT');
    expect(await page.textContent('#verdict .verdict-error')).toBe(refusal);
    expect(await page.$$('#report *')).toEqual([]);
    await page.close();
  });

  it('works with the keyboard alone and on a phone-sized screen', async () => {
    const doc = entry('anchorage_2022-11-09_eu-west-1');
    const bytes = readFileSync(vector(`nitro/${doc.file}`));
    const page = await openPage({ width: 390, height: 844 });
    // Every form control has a label.
    const unlabelled = await page.$$eval('input, textarea, select', (els) =>
      els
        .filter((e) => (e as HTMLInputElement).labels?.length === 0 && !e.getAttribute('aria-label'))
        .map((e) => e.id),
    );
    expect(unlabelled).toEqual([]);
    expect(await page.getAttribute('#verdict', 'aria-live')).toBe('polite');
    await page.focus('#doc-text');
    await page.keyboard.insertText(bytes.toString('base64'));
    await page.keyboard.press('Tab'); // endpoint URL
    await page.keyboard.press('Tab'); // fetch button
    for (let i = 0; i < 12; i++) {
      if ((await page.evaluate(() => document.activeElement?.id)) === 'at-now') break;
      await page.keyboard.press('Tab');
    }
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('at-now');
    await page.keyboard.press('ArrowDown'); // radio group: choose the document's time
    expect(await page.isChecked('#at-document')).toBe(true);
    // The date-time field has one tab stop per part (day, month, year, hours...).
    for (let i = 0; i < 16; i++) {
      if ((await page.evaluate(() => document.activeElement?.id)) === 'verify') break;
      await page.keyboard.press('Tab');
    }
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('verify');
    // No PCRs given: the warning verdict, whose text must meet the contrast bar below too.
    expect((await afterAction(page, () => page.keyboard.press('Enter'))).state).toBe('warn');
    // On a phone the result sits below the form: the page brings the verdict into view.
    expect(await page.$eval('#verdict', (el) => el.getBoundingClientRect().top)).toBeGreaterThanOrEqual(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'verified-phone-viewport.png') });
    await page.locator('section.chain').screenshot({ path: join(SCREENSHOTS, 'chain-phone.png') });
    // Nothing wider than the screen; text on the verdict meets WCAG AA contrast.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await lowContrastText(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await lowContrastText(page)).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'verified-phone-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: join(SCREENSHOTS, 'verified-phone.png'), fullPage: true });
    await page.close();
  });

  it('measures EIFs in the page exactly as eif_build reports them (PCR8 for a signed image)', async () => {
    const expected = JSON.parse(readFileSync(vector('eif/official/expected.json'), 'utf8')) as {
      case: string;
      eif: string;
      pcrs: Record<string, string>;
    }[];
    const page = await openPage();
    for (const name of ['signed-p384', 'three-ramdisks-named']) {
      const c = expected.find((e) => e.case === name)!;
      await page.setInputFiles('#eif-file', vector(`eif/official/${name}/${c.eif}`));
      const want = ['PCR0', 'PCR1', 'PCR2', 'PCR8']
        .filter((k) => c.pcrs[k] !== undefined)
        .map((k) => `${k}: ${c.pcrs[k]}`)
        .join('\n');
      await expect.poll(() => page.textContent('#eif-pcrs'), { message: name }).toBe(want);
    }
    // Not an EIF: the library's image error.
    await page.setInputFiles('#eif-file', vector('caution/canary.json'));
    await expect.poll(() => page.textContent('#eif-result')).toContain('ERR_EIF_');
    await page.close();
  });

  it('fetches from `demo --serve` on loopback with a fresh nonce (CORS), PCRs from its EIF measured in the page', async () => {
    const demo = await startDemo();
    try {
      const { origin, dir } = demo;
      const page = await openPage();
      // The demo enclave chains to its own throwaway root, never to AWS's: trust it explicitly.
      await page.click('#root-details summary');
      await page.fill('#root-pem', readFileSync(join(dir, 'demo-root.pem'), 'utf8'));
      // Measure the demo's EIF in the browser and use its PCRs as the expectation.
      await page.setInputFiles('#eif-file', join(dir, 'demo.eif'));
      await page.waitForSelector('#eif-use');
      await page.click('#eif-use');
      expect(await page.textContent('#pcrs-status')).toContain('3 expected PCRs (PCR0, PCR1, PCR2)');
      await page.fill('#endpoint-url', `${origin}/attestation`);
      const v = await afterAction(page, () => page.click('#endpoint-fetch'));
      expect(v.state, v.text).toBe('ok');
      expect(v.text).toContain('fresh nonce this page sent');
      expect(await page.textContent('#nonce-state')).toBe('matches the fresh nonce this page sent');
      expect(await page.textContent('#pcr-summary')).toBe('3 of 3 expected PCRs match.');
      expect(await page.textContent('#tls-binding')).toContain('not checkable in a browser');
      expect(await page.textContent('#manifest-heading')).toBe('Build manifest (NOT signed)');
      await page.screenshot({ path: join(SCREENSHOTS, 'endpoint-demo.png'), fullPage: true });

      // An endpoint on another origin without CORS headers (here: the page's own static server,
      // reached as localhost) cannot be read by a page: the library's network error says so.
      await page.fill('#endpoint-url', `http://localhost:${ui.port}/attestation`);
      const noCors = await afterAction(page, () => page.click('#endpoint-fetch'));
      expect(noCors.code).toBe('ERR_HTTP');
      expect(noCors.text).toContain('allows CORS');
      await page.close();
    } finally {
      await demo.stop();
    }
  });

  it('refuses a demo enclave that signs another nonce than the one the page sent', async () => {
    const demo = await startDemo('--bad-nonce');
    try {
      const page = await openPage();
      await page.click('#root-details summary');
      await page.fill('#root-pem', readFileSync(join(demo.dir, 'demo-root.pem'), 'utf8'));
      await page.fill('#endpoint-url', demo.origin);
      await page.press('#endpoint-url', 'Enter');
      await page.waitForSelector('#verdict[data-state="bad"]');
      expect(await page.getAttribute('#verdict', 'data-code')).toBe('ERR_NONCE_MISMATCH');
      expect(await page.textContent('#nonce-state')).toBe('does NOT match the nonce this page sent');
      await page.screenshot({ path: join(SCREENSHOTS, 'endpoint-bad-nonce.png'), fullPage: true });
      await page.close();
    } finally {
      await demo.stop();
    }
  });

  it('raised no uncaught error in any page', () => {
    expect(pageErrors).toEqual([]);
  });
});
