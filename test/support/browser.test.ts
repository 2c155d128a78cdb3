// The browser tests' Chromium resolution: the order (CHROMIUM_PATH, system, bundled), the
// ENCLAVE_VERIFY_TEST_BROWSER switch, and that the bundled one really launches with the flags we
// chose (CORS and secure-context rules intact, unlike @sparticuz/chromium's Lambda defaults).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pickChromium, resolveChromium } from './browser.js';

const exe = (paths: string[]) => (p: string) => paths.includes(p);

describe('pickChromium order', () => {
  it('CHROMIUM_PATH wins over a system chromium', () => {
    const picked = pickChromium({
      env: { CHROMIUM_PATH: '/opt/c/chrome', PATH: '/usr/bin' },
      isExecutable: exe(['/opt/c/chrome', '/usr/bin/chromium']),
    });
    expect(picked).toEqual({ executablePath: '/opt/c/chrome', source: 'CHROMIUM_PATH' });
  });

  it('a CHROMIUM_PATH that does not exist is an error, not a silent fallback', () => {
    expect(() =>
      pickChromium({
        env: { CHROMIUM_PATH: '/nope', PATH: '/usr/bin' },
        isExecutable: exe(['/usr/bin/chromium']),
      }),
    ).toThrow('CHROMIUM_PATH=/nope is not an executable file');
  });

  it('system chromium before google-chrome, first PATH entry first', () => {
    const isExecutable = exe(['/a/google-chrome', '/b/chromium']);
    expect(pickChromium({ env: { PATH: '/a:/b' }, isExecutable })).toEqual({
      executablePath: '/a/google-chrome',
      source: 'system',
    });
    expect(pickChromium({ env: { PATH: '/b:/a' }, isExecutable })).toEqual({
      executablePath: '/b/chromium',
      source: 'system',
    });
  });

  it('nothing on PATH: bundled (undefined)', () => {
    expect(pickChromium({ env: { PATH: '/x:/y' }, isExecutable: exe([]) })).toBeUndefined();
  });

  it('ENCLAVE_VERIFY_TEST_BROWSER=bundled ignores CHROMIUM_PATH and PATH', () => {
    const picked = pickChromium({
      env: { ENCLAVE_VERIFY_TEST_BROWSER: 'bundled', CHROMIUM_PATH: '/opt/c/chrome', PATH: '/usr/bin' },
      isExecutable: exe(['/opt/c/chrome', '/usr/bin/chromium']),
    });
    expect(picked).toBeUndefined();
  });

  it('ENCLAVE_VERIFY_TEST_BROWSER=system without one is an error; unknown values are refused', () => {
    expect(() =>
      pickChromium({ env: { ENCLAVE_VERIFY_TEST_BROWSER: 'system', PATH: '/x' }, isExecutable: exe([]) }),
    ).toThrow('ENCLAVE_VERIFY_TEST_BROWSER=system but neither CHROMIUM_PATH nor');
    expect(() =>
      pickChromium({ env: { ENCLAVE_VERIFY_TEST_BROWSER: 'firefox' }, isExecutable: exe([]) }),
    ).toThrow('ENCLAVE_VERIFY_TEST_BROWSER=firefox: use "bundled", "system" or leave it unset');
  });
});

describe('the resolved browser', () => {
  let origin: string;
  let other: string;
  const servers: http.Server[] = [];
  const listen = async (handler: http.RequestListener) => {
    const s = http.createServer(handler);
    servers.push(s);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    origin = await listen((_q, r) => r.writeHead(200, { 'content-type': 'text/html' }).end('<p>page</p>'));
    other = await listen((q, r) => {
      const cors = q.url === '/cors' ? { 'access-control-allow-origin': '*' } : {};
      r.writeHead(200, { 'content-type': 'text/plain', ...cors }).end('secret');
    });
  });
  afterAll(() => {
    for (const s of servers) s.close();
  });

  it('launches, keeps cross-origin reads blocked and WebCrypto available', async () => {
    const found = await resolveChromium();
    if (process.env.ENCLAVE_VERIFY_TEST_BROWSER === 'bundled') {
      expect(found.source).toBe('bundled');
      expect(found.label).toMatch(/^bundled @sparticuz\/chromium \d+\.\d+\.\d+ \(/);
    }
    expect(found.args).toContain('--no-sandbox');
    expect(found.args).not.toContain('--disable-web-security');
    expect(found.args).not.toContain('--single-process');
    const browser = await launchBrowser();
    try {
      const page = await (await browser.newContext()).newPage();
      await page.goto(origin);
      const reads = await page.evaluate(async (base) => {
        const read = (u: string) =>
          fetch(u).then(
            (r) => r.text(),
            () => 'blocked',
          );
        return { plain: await read(`${base}/plain`), cors: await read(`${base}/cors`) };
      }, other);
      expect(reads).toEqual({ plain: 'blocked', cors: 'secret' });
      const digest = await page.evaluate(async () => {
        const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc'));
        return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
      });
      expect(digest).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    } finally {
      await browser.close();
    }
  });
});
