// The page's Canary section in headless Chromium: a statement with its keys and an evidence
// bundle with expected PCRs, each giving the same verdict and code as `enclave-verify canary`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/canary/jcs.js';
import { startUiServer, type UiServer } from '../../src/cli/commands/ui.js';
import { EVIDENCE_PCRS, statementVector, vectorText } from '../canary/support.js';
import { launchBrowser } from '../support/browser.js';
import { runCli } from '../support/cli.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));

const v = statementVector();
const STATEMENT = JSON.stringify(v.statement, null, 2);
const KEYS = canonicalJson(v.keys);
const EVIDENCE = vectorText('evidence-v0-vector.json');
const PCRS = JSON.stringify({ pcr0: EVIDENCE_PCRS[0], pcr1: EVIDENCE_PCRS[1], pcr2: EVIDENCE_PCRS[2] });
const OTHER_PCR2 = JSON.stringify({ pcr0: EVIDENCE_PCRS[0], pcr1: EVIDENCE_PCRS[1], pcr2: EVIDENCE_PCRS[0] });

let ui: UiServer;
let webBuild: string;
let browser: Browser;
let context: BrowserContext;
let files: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  webBuild = mkdtempSync(join(tmpdir(), 'ev-canary-web-'));
  await build({
    configFile: join(PROJECT, 'src/web/vite.config.ts'),
    logLevel: 'error',
    build: { outDir: webBuild, emptyOutDir: true },
  });
  ui = await startUiServer({ port: 0, root: webBuild });
  browser = await launchBrowser();
  context = await browser.newContext();
  files = mkdtempSync(join(tmpdir(), 'ev-canary-page-files-'));
  writeFileSync(join(files, 'statement.json'), STATEMENT);
  writeFileSync(join(files, 'keys.json'), KEYS);
  writeFileSync(join(files, 'evidence.json'), EVIDENCE);
  writeFileSync(join(files, 'pcrs.json'), PCRS);
  writeFileSync(join(files, 'other.json'), OTHER_PCR2);
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await ui?.close();
  for (const d of [webBuild, files]) if (d) rmSync(d, { recursive: true, force: true });
});

async function openPage(): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(ui.url);
  await page.waitForSelector('html[data-ready="true"]');
  return page;
}

async function check(
  page: Page,
  fields: Record<string, string>,
): Promise<{ state: string; code: string | null; text: string }> {
  for (const [id, value] of Object.entries(fields)) await page.fill(`#${id}`, value);
  const before = (await page.getAttribute('#canary-verdict', 'data-run')) ?? '';
  await page.click('#canary-verify');
  await page.waitForFunction((prev) => {
    const run = document.getElementById('canary-verdict')?.dataset.run;
    return run !== undefined && run !== prev;
  }, before);
  return {
    state: (await page.getAttribute('#canary-verdict', 'data-state')) ?? '',
    code: await page.getAttribute('#canary-verdict', 'data-code'),
    text: (await page.textContent('#canary-verdict')) ?? '',
  };
}

const cli = async (args: string[]) =>
  JSON.parse((await runCli(['canary', ...args, '--json'], { cwd: files })).stdout) as {
    ok: boolean;
    code: string | null;
  };

describe('Canary section of the page', () => {
  it('a statement with its keys: VALID at verification_time, ERR_CANARY_EXPIRED at expires_at, as the CLI', async () => {
    const page = await openPage();
    await page.setInputFiles('#canary-file', join(files, 'statement.json'));
    await page.waitForFunction(
      () => (document.getElementById('canary-text') as HTMLTextAreaElement).value.length > 0,
    );
    const ok = await check(page, { 'canary-keys': KEYS, 'canary-at': v.verification_time });
    expect(ok.state).toBe('ok');
    expect(ok.text).toContain('VALID statement: target payments-prod is VERIFIED (ALL_CHECKS_PASSED)');
    expect(
      await cli([
        'verify-statement',
        'statement.json',
        '--trusted-keys',
        'keys.json',
        '--at',
        v.verification_time,
      ]),
    ).toMatchObject({
      ok: true,
      code: null,
    });

    const expired = await check(page, { 'canary-at': '2026-07-17T12:03:00Z' });
    const cliExpired = await cli([
      'verify-statement',
      'statement.json',
      '--trusted-keys',
      'keys.json',
      '--at',
      '2026-07-17T12:03:00Z',
    ]);
    expect([expired.state, expired.code]).toEqual(['bad', 'ERR_CANARY_EXPIRED']);
    expect(cliExpired.code).toBe(expired.code);

    const tampered = STATEMENT.replace('"payments-prod"', '"payments-prod2"');
    writeFileSync(join(files, 'tampered.json'), tampered);
    const bad = await check(page, { 'canary-text': tampered, 'canary-at': v.verification_time });
    expect([bad.state, bad.code]).toEqual(['bad', 'ERR_CANARY_SIGNATURE']);
    expect(
      (
        await cli([
          'verify-statement',
          'tampered.json',
          '--trusted-keys',
          'keys.json',
          '--at',
          v.verification_time,
        ])
      ).code,
    ).toBe(bad.code);
    await page.close();
  });

  it('an evidence bundle with expected PCRs: replayed, and refused with another PCR2, as the CLI', async () => {
    const page = await openPage();
    const ok = await check(page, { 'canary-text': EVIDENCE, 'canary-pcrs': PCRS });
    expect(ok.state).toBe('ok');
    expect(ok.text).toContain('Evidence replayed: ALL_CHECKS_PASSED');
    expect(await cli(['verify-evidence', 'evidence.json', '--expect-pcrs', 'pcrs.json'])).toMatchObject({
      ok: true,
    });

    const bad = await check(page, { 'canary-pcrs': OTHER_PCR2 });
    expect([bad.state, bad.code]).toEqual(['bad', 'ERR_PCR_MISMATCH']);
    expect(bad.text).toContain('PCR_MISMATCH');
    expect((await cli(['verify-evidence', 'evidence.json', '--expect-pcrs', 'other.json'])).code).toBe(
      bad.code,
    );
    await page.close();
    expect(pageErrors).toEqual([]);
  });
});
