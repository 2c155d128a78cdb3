/**
 * Issue 15 findings 6, 7 and 8 through the CLI: `--at` needs a zone (checked under a non-UTC TZ),
 * `--max-age` is not widened by the clock skew (exact boundaries), and every duration flag is
 * bounded by 2^31-1 ms (a usage error, before any request).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, issueAttestation, testPcrs } from '../../src/forge/index.js';
import { toBase64, toHex } from '../../src/util/bytes.js';
import { runCli } from '../support/cli.js';

const NITRO = new URL('../../vectors/real/nitro/', import.meta.url).pathname;
// A real document: its signing certificate lives 2022-11-09T22:51:57Z .. 2022-11-10T01:52:00Z.
const ANCHORAGE = 'valid/anchorage_2022-11-09_eu-west-1.cbor';
const ANCHORAGE_PCR0 =
  '0=22f9e1c949208da55eb01b9b9fc88f87454f77ba133f0d82320b509621c92482152a99d0a12335b97178c02d6f977d01';

const T = Date.parse('2025-01-01T00:00:00Z');
let dir: string;
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;
const forged = (file = 'doc.b64') => [
  'verify',
  file,
  '--root',
  'root.pem',
  '--pcr',
  `0=${toHex(testPcrs().get(0)!)}`,
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ev-time-'));
  const pki = await createTestPki({ at: new Date(T) });
  writeFileSync(join(dir, 'root.pem'), pki.rootPem);
  writeFileSync(join(dir, 'doc.b64'), toBase64(await issueAttestation(pki, { timestamp: T })));
  writeFileSync(join(dir, 'later.b64'), toBase64(await issueAttestation(pki, { timestamp: T + HOUR })));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--at without an offset is local time', () => {
  it('under TZ=Pacific/Kiritimati (UTC+14) a zoneless --at is refused and zoned ones mean the same instant', async () => {
    const saved = process.env.TZ;
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      // The zone really changed for Date in this process: local midnight is 14 h before UTC's.
      expect(new Date(2022, 10, 10).getTimezoneOffset()).toBe(-840);
      const at = async (value: string) => {
        const r = await runCli(['verify', ANCHORAGE, '--pcr', ANCHORAGE_PCR0, '--at', value, '--json'], {
          cwd: NITRO,
        });
        const j = JSON.parse(r.stdout);
        return { code: r.code, error: j.code ?? null, verifiedAt: j.verifiedAt ?? null };
      };
      // Before the fix this was read as local time (2022-11-09T11:00Z) and refused as expired.
      const zoneless = await runCli(
        ['verify', ANCHORAGE, '--pcr', ANCHORAGE_PCR0, '--at', '2022-11-10T01:00:00'],
        {
          cwd: NITRO,
        },
      );
      expect(zoneless.code).toBe(2);
      expect(zoneless.stderr).toBe(
        "enclave-verify: ERR_USAGE: --at '2022-11-10T01:00:00' has no time zone, so it would depend on this machine's TZ setting; add Z for UTC or an offset, e.g. 2025-12-23T17:20:16Z or 2025-12-23T18:20:16+01:00; or give 'now' or 'document' (see enclave-verify verify --help)\n",
      );
      expect(zoneless.stdout).toBe('');
      const ok = { code: 0, error: null, verifiedAt: '2022-11-10T01:00:00.000Z' };
      expect(await at('2022-11-10T01:00:00Z')).toEqual(ok);
      expect(await at('2022-11-10T15:00:00+14:00')).toEqual(ok);
      expect(await at('2022-11-09T15:00:00-10:00')).toEqual(ok);
      expect(await at('2022-11-10T02:00:00Z')).toEqual({
        code: 1,
        error: 'ERR_CERT_EXPIRED',
        verifiedAt: '2022-11-10T02:00:00.000Z',
      });
      expect((await at('2022-11-10')).code).toBe(2);
      expect((await at('2022-02-31T00:00:00Z')).code).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

describe('--max-age silently widened by the clock skew', () => {
  it.each([
    // [age at the verification time, --max-age, --clock-skew, exit, code]
    [
      '89 s old, --max-age 30s (the review: passed as "within 30 s")',
      89_000,
      '30s',
      undefined,
      1,
      'ERR_STALE',
    ],
    ['exactly 30 s old, --max-age 30s', 30_000, '30s', undefined, 0, null],
    ['30.001 s old, --max-age 30s', 30_001, '30s', undefined, 1, 'ERR_STALE'],
    ['30.001 s old, --max-age 30s, --clock-skew 10m', 30_001, '30s', '10m', 1, 'ERR_STALE'],
    ['0 ms old, --max-age 0', 0, '0', undefined, 0, null],
    ['1 ms old, --max-age 0', 1, '0ms', undefined, 1, 'ERR_STALE'],
  ] as const)('%s', async (_name, age, maxAge, skew, code, error) => {
    const argv = [...forged(), '--at', iso(T + age), '--max-age', maxAge, '--json'];
    if (skew) argv.push('--clock-skew', skew);
    const r = await runCli(argv, { cwd: dir });
    const j = JSON.parse(r.stdout);
    expect({ code: r.code, error: j.code ?? null }).toEqual({ code, error });
    const freshness = j.checks.find((c: { name: string }) => c.name === 'freshness');
    if (error) {
      expect(freshness.detail).toBe(
        `the document is ${age / 1000} s old, more than the allowed ${maxAge === '30s' ? 30 : 0} s: request a fresh one`,
      );
    } else expect(freshness.detail).toBe(`${age / 1000} s old, within ${maxAge === '30s' ? 30 : 0} s`);
  });

  it('the skew still excuses a document dated slightly in the future, and only that', async () => {
    const ahead = await runCli(
      [...forged('later.b64'), '--at', iso(T + HOUR - 60_000), '--max-age', '30s', '--json'],
      {
        cwd: dir,
      },
    );
    expect(ahead.code).toBe(0);
    const future = await runCli(
      [...forged('later.b64'), '--at', iso(T + HOUR - 60_001), '--max-age', '30s', '--json'],
      {
        cwd: dir,
      },
    );
    expect(JSON.parse(future.stdout).code).toBe('ERR_FUTURE');
  });
});

describe('durations beyond 2^31-1 ms overflow setTimeout', () => {
  const tooLong = (flag: string, value: string) =>
    `${flag} '${value}' is longer than the longest duration, 2147483647 ms (24d 20h 31m 23.647s)`;
  // A closed port: should a bound be missing, the command fails fast instead of hanging.
  const url = 'http://127.0.0.1:1';
  it.each([
    ['verify', '--max-age', '25d', [...forged(), '--at', iso(T)]],
    ['verify', '--clock-skew', '2147483648ms', [...forged(), '--at', iso(T)]],
    ['deployment', '--timeout', '25d', ['deployment', url, '--pcr', `0=${'10'.repeat(48)}`]],
    ['deployment', '--max-age', '596524h', ['deployment', url, '--pcr', `0=${'10'.repeat(48)}`]],
    ['deployment', '--watch', '25d', ['deployment', url, '--pcr', `0=${'10'.repeat(48)}`, '--count', '2']],
    ['vectors', '--timeout', '35792m', ['vectors', 'run', 'no-such-suite']],
  ] as const)('%s %s %s: ERR_USAGE, exit 2, nothing run', async (_command, flag, value, argv) => {
    const r = await runCli([...argv, flag, value], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`enclave-verify: ERR_USAGE: ${tooLong(flag, value)}`);
  });

  it('2^31-1 ms itself is accepted', async () => {
    const r = await runCli([...forged(), '--at', iso(T + 1000), '--max-age', '2147483647ms', '--json'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).checks.at(-1).detail).toBe('1 s old, within 2147483.647 s');
  });
});
