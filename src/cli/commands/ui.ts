/**
 * `enclave-verify ui [--port N]`: serve the verifier web page (built by `npm run build:web` into
 * `dist-web/`) on the loopback interface only. The page verifies everything in the browser; this
 * server only hands out static files, so it never sees a document.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EnclaveVerifyError } from '../../errors.js';
import { usageError } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, reportError } from '../context.js';

const HELP = `usage: enclave-verify ui [--port N]

Serve the verifier web page on http://127.0.0.1:N/ (loopback only) until interrupted.
The page runs the same library as the CLI inside the browser; nothing is sent to this server.

options:
  --port N   TCP port on 127.0.0.1 (default 8787; 0 picks a free port)
  --help     show this help

The page is built by \`npm run build:web\` (run automatically by \`npm ci\`) into dist-web/;
set ENCLAVE_VERIFY_WEB_ROOT to serve a page built elsewhere.
`;

/** Where `npm run build:web` writes the page: `<project>/dist-web`, from src/ or dist/ alike. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../dist-web/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

// The page needs no third-party origin except the attestation endpoints the user types in, which
// can be anywhere: connect-src stays open, everything else is pinned to this server.
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; connect-src *; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/** A running page server. */
export interface UiServer {
  /** Base URL, e.g. `http://127.0.0.1:8787/`. */
  url: string;
  /** The port actually bound (useful with port 0). */
  port: number;
  /** Stop accepting connections and close open ones. */
  close(): Promise<void>;
}

/**
 * Serve the static files under `root` on 127.0.0.1. Throws ERR_IO when `root` holds no built
 * page, ERR_USAGE when the port cannot be bound.
 *
 * @example
 * ```ts
 * const ui = await startUiServer({ port: 0 });
 * console.log(`open ${ui.url}`);
 * await ui.close();
 * ```
 */
export async function startUiServer(options: { port?: number; root?: string } = {}): Promise<UiServer> {
  const root = await realpath(options.root ?? DEFAULT_WEB_ROOT).catch(() => undefined);
  const index = root === undefined ? undefined : await stat(join(root, 'index.html')).catch(() => undefined);
  if (root === undefined || !index?.isFile()) {
    throw new EnclaveVerifyError(
      'ERR_IO',
      `the web page is not built (no index.html in ${options.root ?? DEFAULT_WEB_ROOT}); run \`npm run build:web\` first`,
    );
  }
  const server = createServer((req, res) => {
    serveStatic(root, req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  const port = options.port ?? 8787;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new EnclaveVerifyError(
          'ERR_USAGE',
          `cannot listen on 127.0.0.1:${port} (${err.code ?? err.message}); choose another port with --port`,
          { cause: err },
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${bound}/`, port: bound, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
  res.end(body);
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, 'method not allowed\n');
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
  } catch {
    return send(res, 400, 'bad request\n');
  }
  if (pathname.endsWith('/')) pathname += 'index.html';
  if (pathname.includes('\0')) return send(res, 400, 'bad request\n');
  // Resolve symlinks and `..` and refuse anything that lands outside the page's folder.
  const file = await realpath(join(root, pathname)).catch(() => undefined);
  if (file === undefined || !(file === root || file.startsWith(root + sep)))
    return send(res, 404, 'not found\n');
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return send(res, 404, 'not found\n');
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': String(info.size),
    // Hashed asset names change with their content; index.html must be re-read every time.
    'cache-control': pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...SECURITY_HEADERS,
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).pipe(res);
}

/**
 * CLI entry: serve the page until SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * await run(['--port', '9000'], nodeContext()); // returns 0 after Ctrl-C
 * ```
 */
export const run: Command = async (argv, ctx) => {
  let values: { port?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return reportError(ctx, usageError('ui', (error as Error).message), false);
  }
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  let port = 8787;
  if (values.port !== undefined) {
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) {
      return reportError(
        ctx,
        new EnclaveVerifyError(
          'ERR_USAGE',
          `--port must be an integer from 0 to 65535, got '${values.port}'`,
        ),
        false,
      );
    }
    port = Number(values.port);
  }
  let ui: UiServer;
  try {
    ui = await startUiServer({ port, root: ctx.env.ENCLAVE_VERIFY_WEB_ROOT });
  } catch (error) {
    return reportError(ctx, error, false);
  }
  ctx.stdout.write(
    `enclave-verify ui: serving the verifier page at ${ui.url} (loopback only; Ctrl-C to stop)\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await ui.close();
  return EXIT.VERIFIED;
};
