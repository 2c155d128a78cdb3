// The `ui` command's static server: loopback only, the page's files and nothing else.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startUiServer, type UiServer } from '../../src/cli/commands/ui.js';
import type { CliContext } from '../../src/cli/context.js';
import { captureContext } from '../support/cli.js';

function capture(env: Record<string, string | undefined> = {}): {
  ctx: CliContext;
  out: () => string;
  err: () => string;
} {
  const { ctx, out } = captureContext({ env });
  return { ctx, out: () => out.stdout, err: () => out.stderr };
}

/** Raw request (fetch would normalise `..` in the path before sending it). */
function get(
  url: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += String(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let root: string;
let ui: UiServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ev-ui-'));
  mkdirSync(join(root, 'page', 'assets'), { recursive: true });
  writeFileSync(join(root, 'page', 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'page', 'assets', 'app-1.js'), 'console.log(1)');
  writeFileSync(join(root, 'secret.txt'), 'outside');
  symlinkSync(join(root, 'secret.txt'), join(root, 'page', 'link.txt'));
  ui = await startUiServer({ port: 0, root: join(root, 'page') });
});

afterAll(async () => {
  await ui?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('ui server', () => {
  it('listens on 127.0.0.1 and serves index.html with a strict CSP', async () => {
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await get(ui.url, '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe('<!doctype html><title>t</title>');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(String(res.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const js = await get(ui.url, '/assets/app-1.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('refuses paths outside the page folder, including through symlinks and encoded dots', async () => {
    expect((await get(ui.url, '/../secret.txt')).status).toBe(404);
    expect((await get(ui.url, '/%2e%2e/secret.txt')).status).toBe(404);
    expect((await get(ui.url, '/link.txt')).status).toBe(404);
    expect((await get(ui.url, '/nope.js')).status).toBe(404);
    expect((await get(ui.url, '/%00')).status).toBe(400);
  });

  it('answers only GET and HEAD', async () => {
    const res = await get(ui.url, '/', 'POST');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it('says how to build the page when it is missing (ERR_IO, exit 2)', async () => {
    const c = capture({ ENCLAVE_VERIFY_WEB_ROOT: join(root, 'missing') });
    expect(await run(['--port', '0'], c.ctx)).toBe(2);
    expect(c.err()).toMatch(/^enclave-verify: ERR_IO: the web page is not built .*npm run build:web/);
  });

  it('rejects bad flags with ERR_USAGE (exit 2) and prints --help', async () => {
    const bad = capture();
    expect(await run(['--port', '70000'], bad.ctx)).toBe(2);
    expect(bad.err()).toContain('ERR_USAGE: --port must be an integer from 0 to 65535');
    const unknown = capture();
    expect(await run(['--host', '0.0.0.0'], unknown.ctx)).toBe(2);
    expect(unknown.err()).toContain('ERR_USAGE');
    const help = capture();
    expect(await run(['--help'], help.ctx)).toBe(0);
    expect(help.out()).toContain('usage: enclave-verify ui [--port N]');
  });

  it('reports a busy port as ERR_USAGE', async () => {
    await expect(startUiServer({ port: ui.port, root: join(root, 'page') })).rejects.toMatchObject({
      code: 'ERR_USAGE',
    });
  });
});
