// The monitor end to end over loopback: two simulated enclaves, an injected clock, every state
// move of CANARY.md section 7 as the API publishes it, each statement checked with
// verifyStatement, each evidence bundle replayed, /metrics parsed by a Prometheus parser, and
// restarts with stable and ephemeral identities.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CanaryConfig, parseCanaryConfig } from '../../src/canary/config.js';
import { parseEvidenceBundle, replayEvidence } from '../../src/canary/evidence.js';
import { deriveCanaryKeys, generateSeed, keysDocumentBytes, keysetDigest } from '../../src/canary/keys.js';
import {
  createDemoFleet,
  type DemoCanaryEnclave,
  type DemoFleet,
  startDemoCanaryEnclave,
} from '../../src/canary/node/demo-enclaves.js';
import { CanaryMonitor } from '../../src/canary/node/monitor.js';
import { type RunningApi, startApi } from '../../src/canary/node/server.js';
import { type StatementEnvelope, verifyStatement } from '../../src/canary/statement.js';

type Family = { name: string; type: string; metrics: { value: string; labels?: Record<string, string> }[] };
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  t: string,
) => Family[];

const SEED = new Uint8Array(32).fill(7);
let fleet: DemoFleet;
let tlsEnclave: DemoCanaryEnclave;
let plainEnclave: DemoCanaryEnclave;
let dir: string;
let config: CanaryConfig;
let clock: number;
const now = () => new Date(clock);
const advance = (s: number) => {
  clock += s * 1000;
};

beforeAll(async () => {
  fleet = await createDemoFleet();
  [tlsEnclave, plainEnclave] = await Promise.all([
    startDemoCanaryEnclave(fleet),
    startDemoCanaryEnclave(fleet),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'canary-monitor-'));
  config = parseCanaryConfig(
    JSON.stringify({
      version: 0,
      node_id: 'monitor-test',
      probe_interval_seconds: 6,
      history_limit: 50,
      targets: [
        {
          id: 'bound',
          name: 'TLS-bound <script>alert(1)</script>',
          attestation_url: tlsEnclave.url,
          e2e_mode: 'tls',
          expected_pcrs: fleet.expectedPcrs,
        },
        {
          id: 'plain',
          name: 'Plain "one"',
          attestation_url: plainEnclave.url,
          expected_pcrs: fleet.expectedPcrs,
        },
      ],
    }),
  );
  clock = Math.floor(Date.now() / 1000) * 1000;
});
afterAll(async () => {
  await Promise.all([tlsEnclave.close(), plainEnclave.close()]);
  await rm(dir, { recursive: true, force: true });
});

async function startMonitor(seed: Uint8Array, identityMode: 'stable' | 'ephemeral') {
  const api = await startApi();
  const monitor = await CanaryMonitor.start({
    config,
    keys: deriveCanaryKeys(seed, config.node_id),
    identityMode,
    dataDir: dir,
    network: { allowPrivate: true, ca: [fleet.tls.certPem] },
    trustedRoots: [fleet.pki.rootPem],
    now,
    timeoutMs: 3000,
    binaryDigest: `sha256:${'b'.repeat(64)}`,
  });
  api.ready(monitor);
  return { api, monitor };
}

async function get(api: RunningApi, path: string, init?: RequestInit) {
  const res = await fetch(`${api.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text), headers: res.headers };
}

/** Fetch a target's statement and check it with the canary core's verifier at the clock. */
async function statement(api: RunningApi, id: string, keys: Uint8Array): Promise<StatementEnvelope> {
  const r = await get(api, `/targets/${id}/statement`);
  expect(r.status).toBe(200);
  const verified = await verifyStatement(r.text, keys, { now: now() });
  return verified.envelope;
}

describe('canary monitor over loopback', () => {
  let api: RunningApi;
  let monitor: CanaryMonitor;
  let pin: Uint8Array;

  it('answers 503 before it is ready, then serves PENDING statements', async () => {
    const early = await startApi();
    expect((await get(early, '/health')).json()).toEqual({ status: 'starting' });
    expect((await get(early, '/health')).status).toBe(503);
    const nr = await get(early, '/status.json');
    expect([nr.status, nr.json()]).toEqual([503, { error: 'not_ready' }]);
    await early.close();

    ({ api, monitor } = await startMonitor(SEED, 'stable'));
    pin = new Uint8Array(Buffer.from((await get(api, '/keys.json')).text));
    expect(pin).toEqual(keysDocumentBytes(deriveCanaryKeys(SEED, 'monitor-test')));
    expect((await get(api, '/health')).json()).toEqual({ status: 'ok' });
    for (const id of ['bound', 'plain']) {
      const s = await statement(api, id, pin);
      expect(s.payload).toMatchObject({
        status: 'PENDING',
        reason: 'PENDING',
        observed_at: null,
        evidence_digest: null,
      });
    }
    const metadata = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
    expect(metadata).toEqual({
      config_digest: monitor.configDigest,
      identity_mode: 'stable',
      key_epoch: 0,
      keyset_digest: await keysetDigest(pin),
      node_id: 'monitor-test',
      protocol: 'caution-canary-v0',
    });
  });

  it('success: both targets VERIFIED, with evidence that replays and claims', async () => {
    await Promise.all([monitor.probeNow('bound'), monitor.probeNow('plain')]);
    const bound = await statement(api, 'bound', pin);
    expect(bound.payload).toMatchObject({
      claim_type: 'caution.canary.tls-bound.v0',
      status: 'VERIFIED',
      reason: 'ALL_CHECKS_PASSED',
      target_origin: tlsEnclave.url.replace('/attestation', ''),
      tls: {
        attested_mode: 'tls',
        attested_domain: 'localhost',
        attested_certfp: fleet.certfp,
        observed_certfp: fleet.certfp,
      },
    });
    const plain = await statement(api, 'plain', pin);
    expect(plain.payload).toMatchObject({ claim_type: 'caution.canary.pcr-match.v0', status: 'VERIFIED' });
    expect(plain.payload.tls).toBeUndefined();
    const ev = await get(api, '/targets/plain/evidence');
    expect(ev.text).toContain('"build_id": 18446744073709551615');
    const parsed = await parseEvidenceBundle(ev.text);
    expect(parsed.bundle.evidence_digest).toBe(plain.payload.evidence_digest);
    expect(parsed.bundle.observed_at).toBe(plain.payload.observed_at);
    const replay = await replayEvidence(parsed, {
      expectedPcrs: fleet.expectedPcrs,
      roots: [fleet.pki.rootPem],
    });
    expect(replay.reason).toBe('ALL_CHECKS_PASSED');
    const claims = (await get(api, '/targets/plain/evidence/claims')).json();
    expect(claims).toEqual({
      version: 1,
      target_id: 'plain',
      evidence_digest: plain.payload.evidence_digest,
      authentication: { status: 'verified', nonce_status: 'verified' },
      observed_pcrs: fleet.expectedPcrs,
      expected_pcrs: fleet.expectedPcrs,
      pcr_matches: { '0': true, '1': true, '2': true },
    });
  });

  it('PCR change: FAILED at once; wrong nonce: FAILED; one success recovers', async () => {
    advance(6);
    plainEnclave.behaviour = 'pcr-change';
    await monitor.probeNow('plain');
    let s = await statement(api, 'plain', pin);
    expect(s.payload).toMatchObject({
      status: 'FAILED',
      reason: 'PCR_MISMATCH',
      observed_at: now().toISOString().replace('.000', ''),
    });
    const claims = (await get(api, '/targets/plain/evidence/claims')).json();
    expect(claims.pcr_matches).toEqual({ '0': false, '1': true, '2': true });
    const replay = await replayEvidence(
      await parseEvidenceBundle((await get(api, '/targets/plain/evidence')).text),
      {
        expectedPcrs: fleet.expectedPcrs,
        roots: [fleet.pki.rootPem],
      },
    );
    expect(replay.reason).toBe('PCR_MISMATCH');

    advance(6);
    plainEnclave.behaviour = 'bad-nonce';
    await monitor.probeNow('plain');
    s = await statement(api, 'plain', pin);
    expect(s.payload).toMatchObject({ status: 'FAILED', reason: 'NONCE_MISMATCH' });
    expect((await get(api, '/targets/plain/evidence/claims')).json()).toMatchObject({
      authentication: { status: 'verified', nonce_status: 'unavailable' },
      observed_pcrs: null,
      pcr_matches: null,
    });

    advance(6);
    plainEnclave.behaviour = 'honest';
    await monitor.probeNow('plain');
    s = await statement(api, 'plain', pin);
    expect(s.payload).toMatchObject({ status: 'VERIFIED', reason: 'ALL_CHECKS_PASSED' });
  });

  it('three transport failures: a warning while VERIFIED is current, UNREACHABLE only at TTL expiry, then one success recovers', async () => {
    const verifiedAt = Date.parse((await statement(api, 'plain', pin)).payload.observed_at as string);
    plainEnclave.behaviour = 'drop-connection';
    for (let i = 0; i < 3; i++) {
      advance(6);
      await monitor.probeNow('plain');
      const s = await statement(api, 'plain', pin);
      expect(s.payload.status).toBe('VERIFIED');
    }
    const status = (await get(api, '/status.json')).json();
    expect(status.targets[1]).toMatchObject({
      id: 'plain',
      status: 'VERIFIED',
      transport_warning: 'UNREACHABLE',
    });
    clock = verifiedAt + 179_000;
    expect((await statement(api, 'plain', pin)).payload.status).toBe('VERIFIED');
    clock = verifiedAt + 180_000;
    const expired = await statement(api, 'plain', pin);
    expect(expired.payload).toMatchObject({
      status: 'UNREACHABLE',
      reason: 'UNREACHABLE',
      observed_at: null,
      evidence_digest: null,
      issued_at: new Date(verifiedAt + 180_000).toISOString().replace('.000', ''),
      expires_at: new Date(verifiedAt + 360_000).toISOString().replace('.000', ''),
    });
    expect((await get(api, '/targets/plain/evidence')).json()).toEqual({ error: 'no_evidence' });
    plainEnclave.behaviour = 'honest';
    await monitor.probeNow('plain');
    expect((await statement(api, 'plain', pin)).payload).toMatchObject({ status: 'VERIFIED' });
    expect(monitor.view('plain').transportWarning).toBeNull();
  });

  it('a TLS certfp mismatch replaces a fresh VERIFIED at once', async () => {
    await monitor.probeNow('bound');
    expect((await statement(api, 'bound', pin)).payload.status).toBe('VERIFIED');
    advance(6);
    tlsEnclave.behaviour = 'wrong-certfp';
    await monitor.probeNow('bound');
    const s = await statement(api, 'bound', pin);
    expect(s.payload).toMatchObject({
      status: 'FAILED',
      reason: 'TLS_BINDING_MISMATCH',
      tls: { attested_certfp: 'e'.repeat(64), observed_certfp: fleet.certfp },
    });
    expect(s.payload.evidence_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    tlsEnclave.behaviour = 'honest';
  });

  it('serves history with paging, each attempt with its own verifiable statement', async () => {
    const page = (await get(api, '/targets/plain/history?limit=3')).json();
    expect(page.target_id).toBe('plain');
    expect(page.observations.map((o: { id: number }) => o.id)).toEqual([8, 7, 6]);
    expect(page.observations[0]).toMatchObject({ attempt_reason: 'ALL_CHECKS_PASSED', status: 'VERIFIED' });
    expect(page.observations[1]).toMatchObject({
      attempt_reason: 'UNREACHABLE',
      status: 'VERIFIED',
      transport_warning: 'UNREACHABLE',
      evidence_digest: null,
      observed_at: null,
    });
    const all = (await get(api, '/targets/plain/history')).json().observations;
    expect(all.map((o: { attempt_reason: string }) => o.attempt_reason)).toEqual([
      'ALL_CHECKS_PASSED',
      'UNREACHABLE',
      'UNREACHABLE',
      'UNREACHABLE',
      'ALL_CHECKS_PASSED',
      'NONCE_MISMATCH',
      'PCR_MISMATCH',
      'ALL_CHECKS_PASSED',
    ]);
    for (const o of all) {
      const entryRes = await get(api, `/targets/plain/history/${o.id}`);
      const entry = entryRes.json();
      expect(entry.observation).toEqual(o);
      const st = entry.statement as StatementEnvelope;
      const at = new Date(Date.parse(st.payload.issued_at));
      await expect(verifyStatement(st, pin, { now: at })).resolves.toMatchObject({
        payload: { status: o.status },
      });
      if (st.payload.evidence_digest)
        expect([o.id, entry.evidence?.evidence_digest]).toEqual([o.id, st.payload.evidence_digest]);
    }
    expect((await get(api, '/targets/plain/history?limit=0')).json()).toEqual({
      error: 'invalid_history_pagination',
    });
    expect((await get(api, '/targets/plain/history?offset=-1')).status).toBe(400);
    expect((await get(api, '/targets/plain/history?limit=101')).status).toBe(400);
    expect((await get(api, '/targets/plain/history/999')).json()).toEqual({ error: 'not_found' });
    expect((await get(api, '/targets/plain/history/1/evidence/claims')).json()).toMatchObject({
      target_id: 'plain',
    });
  });

  it('routes, methods and exact bytes as canaryd', async () => {
    expect((await get(api, '/nope')).json()).toEqual({ error: 'not_found' });
    expect((await get(api, '/targets/ghost/statement')).status).toBe(404);
    const post = await get(api, '/status.json', { method: 'POST', body: '{}' });
    expect([post.status, post.json()]).toEqual([405, { error: 'method_not_allowed' }]);
    const keys = await get(api, '/keys.json');
    expect(keys.headers.get('cache-control')).toBe('no-store');
    expect(keys.text.endsWith('}')).toBe(true);
    const cfg = (await get(api, '/config.json')).json();
    expect(cfg).toEqual({ config, config_digest: monitor.configDigest });
    const status = (await get(api, '/status.json')).json();
    expect(status).toMatchObject({
      protocol: 'caution-canary-v0',
      node_id: 'monitor-test',
      runtime: { environment: 'non_enclave', identity_mode: 'stable' },
    });
    expect(Object.keys(status.targets[0])).toEqual([
      'id',
      'name',
      'target_origin',
      'status',
      'reason',
      'observed_at',
      'expires_at',
      'transport_warning',
    ]);
  });

  it('/metrics parses as Prometheus text with per-target state, latency, counts and age', async () => {
    const text = (await get(api, '/metrics')).text;
    const families = new Map(parsePrometheus(text).map((f) => [f.name, f]));
    const state = families.get('canary_target_state')!;
    expect(state.type).toBe('GAUGE');
    const on = state.metrics
      .filter((m) => m.value === '1')
      .map((m) => `${m.labels?.target_id}=${m.labels?.state}`);
    expect(on.sort()).toEqual(['bound=FAILED', 'plain=VERIFIED']);
    const counts = families.get('canary_probes_total')!;
    expect(counts.type).toBe('COUNTER');
    const plainCounts = Object.fromEntries(
      counts.metrics
        .filter((m) => m.labels?.target_id === 'plain')
        .map((m) => [m.labels?.reason, Number(m.value)]),
    );
    expect(plainCounts).toEqual({ ALL_CHECKS_PASSED: 3, NONCE_MISMATCH: 1, PCR_MISMATCH: 1, UNREACHABLE: 3 });
    const latency = families.get('canary_target_last_probe_latency_seconds')!.metrics;
    expect(latency.every((m) => Number(m.value) > 0 && Number(m.value) < 3)).toBe(true);
    const age = families
      .get('canary_target_seconds_since_last_verified')!
      .metrics.find((m) => m.labels?.target_id === 'plain')!;
    // The TLS test moved the clock 6 s on after plain's last success.
    expect(Number(age.value)).toBe(6);
  });

  it('the status page lists targets first with escaped names and artifact links', async () => {
    const page = await get(api, '/');
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(page.text).not.toContain('<script>');
    expect(page.text).toContain('TLS-bound &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).toContain('Plain &quot;one&quot;');
    expect(page.text.indexOf('<table>')).toBeLessThan(page.text.indexOf('<h2>Node</h2>'));
    expect(page.text).toContain('<a href="/targets/bound/evidence">evidence</a>');
    expect(page.text).toContain('TLS_BINDING_MISMATCH');
  });

  it('a restart with the stable identity keeps the keys and the history; targets start PENDING', async () => {
    await monitor.close();
    await api.close();
    ({ api, monitor } = await startMonitor(SEED, 'stable'));
    expect(new Uint8Array(Buffer.from((await get(api, '/keys.json')).text))).toEqual(pin);
    const s = await statement(api, 'plain', pin);
    expect(s.payload.status).toBe('PENDING');
    const history = (await get(api, '/targets/plain/history')).json().observations;
    expect(history).toHaveLength(8);
    await monitor.probeNow('plain');
    expect((await get(api, '/targets/plain/history?limit=1')).json().observations[0].id).toBe(9);
  });

  it('an ephemeral identity has new keys: the old pin fails closed', async () => {
    await monitor.close();
    await api.close();
    ({ api, monitor } = await startMonitor(generateSeed(), 'ephemeral'));
    const fresh = new Uint8Array(Buffer.from((await get(api, '/keys.json')).text));
    expect(fresh).not.toEqual(pin);
    const text = (await get(api, '/targets/plain/statement')).text;
    await expect(verifyStatement(text, pin, { now: now() })).rejects.toMatchObject({
      code: 'ERR_CANARY_SIGNATURE',
    });
    await expect(verifyStatement(text, fresh, { now: now() })).resolves.toMatchObject({
      payload: { status: 'PENDING' },
    });
    expect(JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')).identity_mode).toBe('ephemeral');
    expect((await get(api, '/targets/plain/history')).json().observations).toHaveLength(9);
    await monitor.close();
    await api.close();
  });
});
