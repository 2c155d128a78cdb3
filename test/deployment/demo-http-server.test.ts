/**
 * The demo's attestation endpoint plumbing over real HTTP on loopback: CORS for the web page,
 * request validation answered with `{"errors": [...]}`, and the request size cap.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type RunningEndpoint, serveAttestation } from '../../src/deployment/demo/http-server.js';

let endpoint: RunningEndpoint;
const seen: number[] = [];

beforeAll(async () => {
  endpoint = await serveAttestation({
    attest: async (nonce) => {
      seen.push(nonce.length);
      return { document: new Uint8Array([0x84, 1, 2, 3]), manifest: { app_source: { commit: 'c0ffee' } } };
    },
  });
});
afterAll(() => endpoint.close());

const post = (body: string, path = '/attestation') =>
  fetch(`${endpoint.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

test('listens on loopback only', () => {
  expect(endpoint.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

test('CORS preflight and responses allow any origin to POST JSON', async () => {
  const pre = await fetch(`${endpoint.origin}/attestation`, {
    method: 'OPTIONS',
    headers: { origin: 'http://127.0.0.1:9', 'access-control-request-method': 'POST' },
  });
  expect(pre.status).toBe(204);
  expect(pre.headers.get('access-control-allow-origin')).toBe('*');
  expect(pre.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
  expect(pre.headers.get('access-control-allow-headers')).toBe('content-type');
  const r = await post(JSON.stringify({ nonce: Buffer.alloc(32, 7).toString('base64') }));
  expect(r.headers.get('access-control-allow-origin')).toBe('*');
  expect(await r.json()).toEqual({ document: 'hAECAw==', manifest: { app_source: { commit: 'c0ffee' } } });
  expect(seen.at(-1)).toBe(32);
});

test.each([
  ['not JSON', 'nonce please', 400, 'request body is not JSON; send {"nonce": "<base64>"}'],
  ['no nonce', '{}', 400, 'nonce must be a standard base64 string'],
  ['URL-safe base64', JSON.stringify({ nonce: '__--' }), 400, 'nonce must be a standard base64 string'],
  ['empty nonce', JSON.stringify({ nonce: '' }), 400, 'nonce must be 1..512 bytes'],
  [
    'nonce over 512 bytes',
    JSON.stringify({ nonce: Buffer.alloc(513).toString('base64') }),
    400,
    'nonce must be 1..512 bytes',
  ],
])('%s: {"errors"} with status %s', async (_name, body, status, message) => {
  const r = await post(body);
  expect(r.status).toBe(status);
  expect(await r.json()).toEqual({ errors: [message] });
});

test('other paths and methods answer {"errors"} too; oversized requests are cut off', async () => {
  const r404 = await post('{}', '/other');
  expect(r404.status).toBe(404);
  expect((await r404.json()).errors[0]).toContain('POST /attestation');
  const get = await fetch(`${endpoint.origin}/attestation`);
  expect(get.status).toBe(405);
  const big = await post(JSON.stringify({ nonce: 'A'.repeat(20_000) }));
  expect(big.status).toBe(413);
  expect(await big.json()).toEqual({ errors: ['request body over 8192 bytes'] });
});

test('a port already in use is ERR_IO with a hint', async () => {
  const port = Number(new URL(endpoint.origin).port);
  const err = await serveAttestation({ port, attest: async () => ({ document: new Uint8Array(1) }) }).catch(
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: 'ERR_IO' });
  expect((err as Error).message).toContain('choose another --port');
});
