// The revocation flags of `verify` and `deployment` over loopback CRLs (and a loopback attestation
// endpoint), the CRL cache directory, offline --crl files, and `inspect` listing a real Nitro
// chain's CRL URLs. Every run states its expected PCRs (the CLI will require them).
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { issueAttestation, testPcrs } from '../../src/forge/attestation.js';
import { issueTestCrl } from '../../src/forge/crl.js';
import { createTestPki, type TestPki } from '../../src/forge/pki.js';
import { toHex } from '../../src/util/bytes.js';
import { runCli } from '../support/cli.js';

const HOUR = 3_600_000;
// A recent time, so the lists served are current by the wall clock too (the cache keeps them).
const AT = new Date(Math.floor((Date.now() - 60_000) / 1000) * 1000);
const PCR0 = toHex(testPcrs().get(0)!);

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
let server: Server;
let base: string;
let dir: string;
let pki: TestPki;
let doc: Uint8Array;

const serve = (path: string, der: Uint8Array) => routes.set(path, (_req, res) => res.writeHead(200).end(der));

beforeAll(async () => {
  server = createServer((req, res) => {
    const h = routes.get(req.url!);
    if (h) h(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'ev-revocation-cli-'));
  // Shaped like AWS: only the regional and zonal CA certificates name a CRL.
  pki = await createTestPki({
    at: AT,
    knobs: {
      regional: { crlDistributionPoints: [`${base}/root.crl`] },
      zonal: { crlDistributionPoints: [`${base}/regional.crl`] },
    },
  });
  await writeFile(join(dir, 'root.pem'), pki.rootPem);
  doc = await issueAttestation(pki, { timestamp: AT, pcrs: testPcrs() });
  await writeFile(join(dir, 'doc.cbor'), doc);
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

async function serveGood() {
  serve('/root.crl', await issueTestCrl(pki.root, { thisUpdate: new Date(AT.getTime() - HOUR) }));
  serve('/regional.crl', await issueTestCrl(pki.regional, { thisUpdate: new Date(AT.getTime() - HOUR) }));
}

const verifyArgs = (...more: string[]) => [
  'verify',
  'doc.cbor',
  '--root',
  'root.pem',
  '--at',
  AT.toISOString(),
  '--pcr',
  `0=${PCR0}`,
  ...more,
];

describe('verify --check-revocation', () => {
  test('good: statuses in text and JSON; the cache directory keeps the lists', async () => {
    await serveGood();
    const cache = join(dir, 'cache-good');
    const r = await runCli(verifyArgs('--check-revocation', '--crl-cache', cache), { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/, expected PCRs match, no certificate revoked$/);
    expect(r.stdout).toContain(
      `revocation good (CRL ${base}/regional.crl, issued ${new Date(AT.getTime() - HOUR).toISOString()}`,
    );
    expect(r.stdout).toContain('revocation not applicable: names no CRL distribution point');
    expect(r.stdout).toMatch(/ok {3}chain\.revocation +2 certificate\(s\) not revoked/);
    expect((await readdir(cache)).filter((f) => f.endsWith('.crl'))).toHaveLength(2);
    // The server stops answering: the lists come from the directory.
    routes.clear();
    const j = await runCli(verifyArgs('--require-revocation', '--crl-cache', cache, '--json'), { cwd: dir });
    expect(j.code).toBe(0);
    const out = JSON.parse(j.stdout);
    expect(out.revocation.map((s: { status: string }) => s.status)).toEqual([
      'not-applicable',
      'not-applicable',
      'good',
      'good',
      'not-applicable',
    ]);
    expect(out.revocation[2].crl).toMatchObject({ url: `${base}/regional.crl`, source: 'store', entries: 0 });
  });

  test('revoked intermediate: exit 1, ERR_CERT_REVOKED with the serial', async () => {
    await serveGood();
    const revokedAt = new Date(AT.getTime() - 2 * HOUR);
    serve(
      '/regional.crl',
      await issueTestCrl(pki.regional, {
        thisUpdate: new Date(AT.getTime() - HOUR),
        revoked: [{ certificate: pki.zonal, at: revokedAt, reason: 1 }],
      }),
    );
    const serial = new x509.X509Certificate(new Uint8Array(pki.zonal.der)).serialNumber.toLowerCase();
    const r = await runCli(verifyArgs('--check-revocation', '--crl-cache', 'none'), { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toContain(
      `REJECTED ERR_CERT_REVOKED: certificate '${pki.zonal.subject.split(', ').reverse().join(', ')}' (serial ${serial}) was revoked at ${revokedAt.toISOString()} (keyCompromise)`,
    );
    const j = JSON.parse(
      (await runCli(verifyArgs('--check-revocation', '--crl-cache', 'none', '--json'), { cwd: dir })).stdout,
    );
    expect(j.code).toBe('ERR_CERT_REVOKED');
    expect(j.revocation[2]).toMatchObject({
      status: 'revoked',
      serial,
      revokedAt: revokedAt.toISOString(),
      revocationReason: 'keyCompromise',
    });
  });

  test('unavailable: shown (WARN, verdict says so) and exit 0; --require-revocation exits 1', async () => {
    await serveGood();
    routes.set('/root.crl', (_req, res) => res.writeHead(301, { location: '/elsewhere.crl' }).end());
    const r = await runCli(verifyArgs('--check-revocation', '--crl-cache', 'none'), { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/, revocation UNAVAILABLE for 1 certificate\(s\)$/);
    expect(r.stdout).toMatch(/WARN chain\.revocation +NOT CHECKED for 1 certificate\(s\) \(1 good\)/);
    expect(r.stdout).toContain('revocation unavailable [ERR_HTTP_REDIRECT]');
    const req = await runCli(verifyArgs('--require-revocation', '--crl-cache', 'none', '--json'), {
      cwd: dir,
    });
    expect(req.code).toBe(1);
    expect(JSON.parse(req.stdout)).toMatchObject({ ok: false, code: 'ERR_REVOCATION_UNAVAILABLE' });
  });

  test('--crl files offline; bad uses are usage or input errors', async () => {
    routes.clear();
    await writeFile(
      join(dir, 'root.crl'),
      await issueTestCrl(pki.root, { thisUpdate: new Date(AT.getTime() - HOUR) }),
    );
    const regional = await issueTestCrl(pki.regional, { thisUpdate: new Date(AT.getTime() - HOUR) });
    await writeFile(
      join(dir, 'regional.pem'),
      `-----BEGIN X509 CRL-----\n${Buffer.from(regional).toString('base64')}\n-----END X509 CRL-----\n`,
    );
    const r = await runCli(
      verifyArgs(
        '--require-revocation',
        '--crl',
        'root.crl',
        '--crl',
        'regional.pem',
        '--crl-cache',
        'none',
        '--json',
      ),
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    expect(
      JSON.parse(r.stdout).revocation.map((s: { crl?: { source: string } }) => s.crl?.source ?? null),
    ).toEqual([null, null, 'given', 'given', null]);
    await writeFile(join(dir, 'junk.crl'), 'not a crl');
    const junk = await runCli(verifyArgs('--check-revocation', '--crl', 'junk.crl'), { cwd: dir });
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain('ERR_INPUT_FORMAT');
    const alone = await runCli(verifyArgs('--crl', 'root.crl'), { cwd: dir });
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--crl and --crl-cache only apply with --check-revocation');
  });
});

/** A plain-HTTP attestation endpoint on loopback signing fresh documents with the test PKI. */
async function startEndpoint(): Promise<{ url: string; close: () => Promise<void> }> {
  const endpoint = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', async () => {
      const nonce = new Uint8Array(Buffer.from(JSON.parse(body).nonce, 'base64'));
      const d = await issueAttestation(pki, { timestamp: new Date(), pcrs: testPcrs(), nonce });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ document: Buffer.from(d).toString('base64') }));
    });
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => endpoint.close(() => r())),
  };
}

/** Words of a POSIX shell command line quoted with '...' and \\' (as the audit record writes it). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/(?:[^\s'\\]+|\\.|'[^']*')+/g)].map(([w]) =>
    w.replace(/'([^']*)'|\\(.)/g, (_m, quoted?: string, escaped?: string) => quoted ?? escaped ?? ''),
  );
}

describe('deployment --check-revocation', () => {
  test('a loopback endpoint whose zonal CA is revoked: exit 1; with good lists: verified', async () => {
    await serveGood();
    const { url, close } = await startEndpoint();
    try {
      const args = [
        'deployment',
        url,
        '--root',
        'root.pem',
        '--pcr',
        `0=${PCR0}`,
        '--check-revocation',
        '--crl-cache',
        'none',
      ];
      const ok = await runCli([...args, '--json'], { cwd: dir });
      expect(ok.code).toBe(0);
      const j = JSON.parse(ok.stdout);
      expect(j.verdict).toMatch(/, no certificate revoked$/);
      expect(j.verification.revocation.map((s: { status: string }) => s.status)).toEqual([
        'not-applicable',
        'not-applicable',
        'good',
        'good',
        'not-applicable',
      ]);
      // --watch shares one cache: two probes, one download of each list.
      let downloads = 0;
      const regional = await issueTestCrl(pki.regional, { thisUpdate: new Date(AT.getTime() - HOUR) });
      routes.set('/regional.crl', (_req, res) => {
        downloads++;
        res.writeHead(200).end(regional);
      });
      const watched = await runCli([...args, '--watch', '100ms', '--count', '2'], { cwd: dir });
      expect(watched.code).toBe(0);
      expect(watched.stdout.trim().split('\n')).toHaveLength(2);
      expect(downloads).toBe(1);
      serve(
        '/root.crl',
        await issueTestCrl(pki.root, {
          thisUpdate: new Date(AT.getTime() - HOUR),
          revoked: [{ certificate: pki.regional }],
        }),
      );
      const bad = await runCli(args, { cwd: dir });
      expect(bad.code).toBe(1);
      expect(bad.stdout.split('\n')[0]).toMatch(
        /^REJECTED ERR_CERT_REVOKED: certificate '.*' \(serial [0-9a-f]+\) was revoked at /,
      );
    } finally {
      await close();
    }
  });

  // Defect: the audit record's re-check command dropped the revocation flags, so the re-check
  // checked less than the original (here it would have verified a chain whose zonal CA is revoked).
  test('--report: the re-check command carries the revocation flags and reproduces the exit code offline', async () => {
    routes.clear(); // offline: every list comes from a --crl file
    const thisUpdate = new Date(AT.getTime() - HOUR);
    await writeFile(join(dir, 'root.crl'), await issueTestCrl(pki.root, { thisUpdate }));
    await writeFile(join(dir, 'regional.crl'), await issueTestCrl(pki.regional, { thisUpdate }));
    const revoking = "regional list's revoked.crl";
    await writeFile(
      join(dir, revoking),
      await issueTestCrl(pki.regional, { thisUpdate, revoked: [{ certificate: pki.zonal, reason: 1 }] }),
    );
    const { url, close } = await startEndpoint();
    try {
      const cases = [
        { crl: revoking, flag: '--check-revocation', cache: 'none', code: 1 },
        { crl: 'regional.crl', flag: '--require-revocation', cache: 'crl cache', code: 0 },
      ];
      for (const c of cases) {
        const argv = ['deployment', url, '--root', 'root.pem', '--pcr', `0=${PCR0}`, c.flag];
        argv.push(
          '--crl',
          'root.crl',
          '--crl',
          c.crl,
          '--crl-cache',
          c.cache,
          '--report',
          'audit.md',
          '--json',
        );
        const r = await runCli(argv, { cwd: dir });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(c.code);
        const j = JSON.parse(r.stdout);
        if (c.code === 1) expect(j.code).toBe('ERR_CERT_REVOKED');
        const md = await readFile(join(dir, 'audit.md'), 'utf8');
        const quote = (p: string) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, "'\\''")}'`);
        const command = [
          `enclave-verify verify document.b64 --at ${j.checkedAt} --nonce ${j.nonce} --max-age 300s`,
          `--pcr 0=${PCR0} --root ${join(dir, 'root.pem')} ${c.flag}`,
          `--crl ${join(dir, 'root.crl')} --crl ${quote(join(dir, c.crl))}`,
          `--crl-cache ${c.cache === 'none' ? 'none' : quote(join(dir, c.cache))}`,
        ].join(' ');
        expect(md).toContain(`\n${command}\n`);
        expect(md).toContain(`\n- \\${c.flag}: each certificate checked against the CRL its issuer names`);
        // Run the recorded command on the saved evidence, offline: the same verdict.
        await writeFile(join(dir, 'document.b64'), /```base64\n([\s\S]*?)\n```/.exec(md)?.[1] ?? '');
        const again = await runCli(shellWords(command).slice(1), { cwd: dir });
        expect(again.stderr).toBe('');
        expect(again.code).toBe(c.code);
        if (c.code === 1) expect(again.stdout.split('\n')[0]).toMatch(/^REJECTED ERR_CERT_REVOKED: /);
        else expect(again.stdout.split('\n')[0]).toMatch(/, no certificate revoked$/);
      }
    } finally {
      await close();
    }
  });
});

describe('inspect', () => {
  test("lists a real Nitro chain's CRL URLs: the regional and zonal CAs name one each", async () => {
    const r = await runCli(['inspect', 'vectors/real/nitro/valid/signal_2023-05-24.cbor']);
    expect(r.code).toBe(0);
    const certs = JSON.parse(r.stdout).certificates as Array<{
      subject: string;
      crlDistributionPoints: string[];
    }>;
    expect(certs.map((c) => c.crlDistributionPoints)).toEqual([
      [],
      [],
      [
        'http://crl-us-east-1-aws-nitro-enclaves.s3.us-east-1.amazonaws.com/crl/9732a9ff-9dea-457a-9212-20e407bafb1c.crl',
      ],
      ['http://aws-nitro-enclaves-crl.s3.amazonaws.com/crl/ab4960cc-7d63-42bd-9e9f-59338cb67f84.crl'],
      [],
    ]);
    expect(certs[3]!.subject).toBe(
      'CN=d028b573af4d2bc3.us-east-1.aws.nitro-enclaves, OU=AWS, O=Amazon, C=US',
    );
  });
});
