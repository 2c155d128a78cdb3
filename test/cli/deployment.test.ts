/**
 * `enclave-verify deployment` in-process against the demo enclave and small test servers on
 * loopback: exit codes, the one JSON object, the audit record, and the watch loop (one line per
 * probe, never two requests in flight, --fail-fast).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { run } from '../../src/cli/commands/deployment.js';
import { run as verify } from '../../src/cli/commands/verify.js';
import type { CliContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { type DemoEnclave, startDemoEnclave } from '../../src/deployment/demo/enclave.js';
import { pemToDer } from '../../src/trust/roots.js';
import { fromBase64, toHex } from '../../src/util/bytes.js';
import { sha256 } from '../../src/util/digest.js';
import { captureContext } from '../support/cli.js';

function capture(cwd: string): { ctx: CliContext; out: () => string; err: () => string } {
  const { ctx, out } = captureContext({ cwd });
  return { ctx, out: () => out.stdout, err: () => out.stderr };
}

let dir: string;
let demo: DemoEnclave;
let args: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ev-deployment-cli-'));
  demo = await startDemoEnclave();
  await writeFile(join(dir, 'root.pem'), demo.rootPem);
  await writeFile(join(dir, 'tls.pem'), demo.tlsCertPem);
  await writeFile(join(dir, 'demo.eif'), demo.image.eif);
  args = [demo.origin, '--root', 'root.pem', '--ca', 'tls.pem', '--eif', 'demo.eif'];
});

afterAll(async () => {
  await demo.close();
  await rm(dir, { recursive: true, force: true });
});

describe('one check', () => {
  test('verified: exit 0, verdict first, every section present', async () => {
    const c = capture(dir);
    expect(await run(args, c.ctx)).toBe(0);
    const text = c.out();
    expect(text.split('\n')[0]).toBe(
      `VERIFIED: ${demo.origin}/attestation runs the expected enclave image (3 PCRs match); TLS channel bound to it; chain to a root YOU supplied, NOT the AWS Nitro root`,
    );
    const order = [
      'What was checked, against what',
      'Attestation document: VERIFIED',
      'PCRs (value in the document',
      'certificate chain (leaf first)',
      'checks',
      'TLS binding',
      'Manifest (UNSIGNED',
    ].map((heading) => text.indexOf(`\n${heading}`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain(`  PASSED: the TLS leaf of this connection matches certfp`);
    expect(text).toContain(`\n   0 match  ${toHex(demo.image.pcrs.pcr0)}\n`);
    expect(c.err()).toBe('');
  });

  test('--json: exactly one JSON object with the full values', async () => {
    const c = capture(dir);
    expect(await run([...args, '--json'], c.ctx)).toBe(0);
    const lines = c.out().trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    expect(j.ok).toBe(true);
    expect(j.tlsBinding.status).toBe('passed');
    expect(j.tlsBinding.observedCertfp).toBe(demo.certfp);
    expect(j.verification.pcrs.find((r: { index: number }) => r.index === 0).actual).toBe(
      toHex(demo.image.pcrs.pcr0),
    );
    expect(j.verification.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
    expect(j.manifest.signed).toBe(false);
    expect(toHex(await sha256(fromBase64(j.evidence.base64)))).toBe(j.evidence.sha256);
  });

  test('--report: the audit record holds inputs, time, nonce, evidence and its SHA-256, and the re-check command', async () => {
    const c = capture(dir);
    expect(await run([...args, '--report', 'audit.md', '--json'], c.ctx)).toBe(0);
    const j = JSON.parse(c.out());
    const md = await readFile(join(dir, 'audit.md'), 'utf8');
    expect(md.startsWith('# Enclave deployment check: audit record\n\n**Verdict:** VERIFIED')).toBe(true);
    expect(md).toContain(`| Time of the check (verification time) | ${j.checkedAt} |`);
    expect(md).toContain(`\`${j.nonce}\``);
    expect(md).toContain(`- SHA-256 of the document: \`${j.evidence.sha256}\``);
    expect(md).toContain(`--eif ${join(dir, 'demo.eif')} (SHA-256 ${toHex(await sha256(demo.image.eif))})`);
    expect(md).toContain('## TLS binding\n\n- Status: **passed**');
    // The embedded base64 is the evidence: extract it as the record says and hash it.
    const b64 = /```base64\n([\s\S]*?)\n```/.exec(md)?.[1] ?? '';
    expect(toHex(await sha256(fromBase64(b64)))).toBe(j.evidence.sha256);
    const pcrFlags = [demo.image.pcrs.pcr0, demo.image.pcrs.pcr1, demo.image.pcrs.pcr2]
      .map((v, i) => `--pcr ${i}=${toHex(v)}`)
      .join(' ');
    const command = `enclave-verify verify document.b64 --at ${j.checkedAt} --nonce ${j.nonce} --max-age 300s ${pcrFlags} --root ${join(dir, 'root.pem')}`;
    expect(md).toContain(`\n${command}\n`);

    // Re-check later, offline, exactly as the record says: the verdict is reproduced.
    await writeFile(join(dir, 'document.b64'), b64);
    const later = capture(dir);
    expect(await verify(command.split(' ').slice(2), later.ctx)).toBe(0);
    const tampered = capture(dir);
    const wrongTime = command
      .split(' ')
      .slice(2)
      .map((a) => (a === j.checkedAt ? '2030-01-01T00:00:00Z' : a));
    expect(await verify(wrongTime, tampered.ctx)).toBe(1);
  });

  test('--report on a failure without a document still records inputs, time and the error', async () => {
    const c = capture(dir);
    expect(
      await run(['http://127.0.0.1:1', '--any-pcrs', '--report', 'failed.md', '--timeout', '2s'], c.ctx),
    ).toBe(1);
    const md = await readFile(join(dir, 'failed.md'), 'utf8');
    expect(md).toContain('**Verdict:** REJECTED ERR_HTTP: ');
    expect(md).toContain('| Error code | `ERR_HTTP` |');
    expect(md).toContain('No document was received.');
    expect(md).toContain('There is no document to re-check.');
  });

  test('--root takes a DER file; a file that is no certificate is named, exit 2, before any request', async () => {
    await writeFile(join(dir, 'root.der'), pemToDer(demo.rootPem)[0]!);
    const c = capture(dir);
    expect(
      await run([demo.origin, '--root', 'root.der', '--ca', 'tls.pem', '--eif', 'demo.eif'], c.ctx),
    ).toBe(0);
    expect(c.out()).toMatch(/^VERIFIED: /);
    await expect(
      run([demo.origin, '--root', 'tls.pem', '--ca', 'tls.pem', '--any-pcrs'], capture(dir).ctx),
    ).resolves.toBe(1);
    await expect(
      run([demo.origin, '--root', 'demo.eif', '--any-pcrs'], capture(dir).ctx),
    ).rejects.toMatchObject({
      code: 'ERR_INPUT_FORMAT',
      message: '--root demo.eif: a trusted root is neither DER (starting 0x30) nor PEM text',
    });
  });

  test('--report in a directory that does not exist: ERR_IO before any request is sent', async () => {
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests++;
      res.end('{}');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await expect(
        run([url, '--any-pcrs', '--report', 'no-such-dir/audit.md'], capture(dir).ctx),
      ).rejects.toMatchObject({
        code: 'ERR_IO',
        message: expect.stringMatching(
          /^cannot write the audit record .*no-such-dir\/audit\.md: ENOENT.*; choose a writable --report path$/,
        ),
      });
      expect(requests).toBe(0);
    } finally {
      server.close();
    }
  });

  test('one expected PCR: the verdict says "1 PCR matches"', async () => {
    const c = capture(dir);
    const argv = [
      demo.origin,
      '--root',
      'root.pem',
      '--ca',
      'tls.pem',
      '--pcr',
      `0=${toHex(demo.image.pcrs.pcr0)}`,
    ];
    expect(await run(argv, c.ctx)).toBe(0);
    expect(c.out().split('\n')[0]).toBe(
      `VERIFIED: ${demo.origin}/attestation runs the expected enclave image (1 PCR matches); TLS channel bound to it; chain to a root YOU supplied, NOT the AWS Nitro root`,
    );
  });

  test('a rejected check: exit 1, REJECTED verdict with the code, error on stderr', async () => {
    const c = capture(dir);
    const argv = [demo.origin, '--root', 'root.pem', '--ca', 'tls.pem', '--pcr', `0=${'ab'.repeat(48)}`];
    expect(await run(argv, c.ctx)).toBe(1);
    expect(c.out().split('\n')[0]).toMatch(
      /^REJECTED ERR_PCR_MISMATCH: PCR0 differs from the expected values/,
    );
    expect(c.err()).toMatch(/^enclave-verify: ERR_PCR_MISMATCH: /);
  });

  test('--json on failure: one object with ok false and the code', async () => {
    const c = capture(dir);
    expect(await run([demo.origin, '--ca', 'tls.pem', '--eif', 'demo.eif', '--json'], c.ctx)).toBe(1);
    const j = JSON.parse(c.out());
    expect(j).toMatchObject({ ok: false, code: 'ERR_CHAIN_UNTRUSTED', class: 'trust' });
  });

  test('without --ca the self-signed certificate is refused (ERR_HTTP), never silently accepted', async () => {
    const c = capture(dir);
    expect(await run([demo.origin, '--root', 'root.pem', '--eif', 'demo.eif', '--json'], c.ctx)).toBe(1);
    expect(JSON.parse(c.out()).code).toBe('ERR_HTTP');
  });

  test('usage errors exit 2', async () => {
    for (const argv of [
      ['deployment'],
      ['deployment', demo.origin, '--timeout', 'soon'],
      ['deployment', demo.origin, '--fail-fast'],
      ['deployment', demo.origin, '--bogus'],
      ['deployment', 'ftp://x'],
      ['deployment', demo.origin, '--root', 'missing.pem', '--any-pcrs'],
    ]) {
      const c = capture(dir);
      expect(await main(argv, c.ctx), argv.join(' ')).toBe(2);
    }
    // A zero watch interval would probe back to back.
    for (const interval of ['0s', '0ms', '0']) {
      const c = capture(dir);
      expect(await main(['deployment', demo.origin, '--any-pcrs', '--watch', interval], c.ctx)).toBe(2);
      expect(c.err()).toContain(`ERR_USAGE: --watch ${interval} is no interval: give e.g. 30s or 5m`);
    }
  });

  test('without an expectation: ERR_USAGE naming the flags and --any-pcrs, before any request', async () => {
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests++;
      res.end('{}');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const c = capture(dir);
      expect(await main(['deployment', url], c.ctx)).toBe(2);
      expect([c.out(), c.err()]).toEqual([
        '',
        'enclave-verify: ERR_USAGE: no expected PCRs given: without them deployment proves only that the document is genuine, not which code runs. Say what you expect with --pcr, --expect-pcrs, --eif, --rebuild, or pass --any-pcrs to check genuineness only; see `enclave-verify deployment --help`\n',
      ]);
      const both = capture(dir);
      expect(await main(['deployment', url, '--any-pcrs', '--eif', 'demo.eif'], both.ctx)).toBe(2);
      expect(both.err()).toContain('ERR_USAGE: --any-pcrs says no PCRs are expected, but --eif gives');
      expect(requests).toBe(0);
    } finally {
      server.close();
    }
  });

  test('--any-pcrs: a genuine enclave passes, the report and the re-check command keep the choice', async () => {
    const c = capture(dir);
    const argv = [demo.origin, '--root', 'root.pem', '--ca', 'tls.pem', '--any-pcrs', '--report', 'any.md'];
    expect(await run(argv, c.ctx)).toBe(0);
    expect(c.out()).toContain('no expected PCRs given: the enclave code is NOT checked, only genuineness');
    const md = await readFile(join(dir, 'any.md'), 'utf8');
    const command = /\n(enclave-verify verify document\.b64 .*)\n/.exec(md)?.[1] ?? '';
    expect(command).toMatch(/ --any-pcrs( |$)/);
    await writeFile(join(dir, 'document.b64'), /```base64\n([\s\S]*?)\n```/.exec(md)?.[1] ?? '');
    expect(await verify(command.split(' ').slice(2), capture(dir).ctx)).toBe(0);
  });

  test('--help', async () => {
    const c = capture(dir);
    expect(await run(['--help'], c.ctx)).toBe(0);
    expect(c.out()).toContain('usage: enclave-verify deployment <url>');
  });
});

describe('--watch', () => {
  test('one line per probe: time, verdict, PCR0 prefix, TLS, latency', async () => {
    const c = capture(dir);
    expect(await run([...args, '--watch', '50ms', '--count', '3'], c.ctx)).toBe(0);
    const lines = c.out().trim().split('\n');
    expect(lines).toHaveLength(3);
    const pcr0 = toHex(demo.image.pcrs.pcr0).slice(0, 16);
    for (const line of lines) {
      expect(line).toMatch(
        new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  VERIFIED  pcr0=${pcr0}  tls=passed  \\d+ ms$`),
      );
    }
  });

  test('--fail-fast stops at the first failure with exit 1', async () => {
    const bad = await startDemoEnclave({ misbehave: { badNonce: true } });
    try {
      const c = capture(dir);
      const argv = [
        bad.origin,
        '--ca',
        'tls.pem',
        '--any-pcrs',
        '--watch',
        '20ms',
        '--count',
        '5',
        '--fail-fast',
      ];
      await writeFile(join(dir, 'tls.pem'), bad.tlsCertPem);
      expect(await run(argv, c.ctx)).toBe(1);
      const lines = c.out().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('REJECTED');
      expect(bad.issued).toBe(1);
    } finally {
      await writeFile(join(dir, 'tls.pem'), demo.tlsCertPem);
      await bad.close();
    }
  });

  test('a slow endpoint never gets two requests at once; failures without --fail-fast continue, exit 1', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let requests = 0;
    const server = http.createServer((req, res) => {
      requests++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      req.resume();
      setTimeout(() => {
        inFlight--;
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"errors":["warming up"]}');
      }, 120);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const c = capture(dir);
      expect(await run([url, '--any-pcrs', '--watch', '10ms', '--count', '4', '--json'], c.ctx)).toBe(1);
      const lines = c
        .out()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => l.code)).toEqual(Array(4).fill('ERR_ENDPOINT_ERROR'));
      expect(requests).toBe(4);
      expect(maxInFlight).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
