/**
 * A simulated enclave for the demo and the tests: HTTPS on loopback with a fresh self-signed
 * certificate, a throwaway Nitro-shaped PKI labelled NOT AWS, PCRs of the demo EIF, a manifest
 * with provenance commits, and Caution's TLS binding in `user_data` carrying the real `certfp`.
 * Switches make it misbehave in the ways a client must catch.
 */
import type { TestPki } from '../../forge/pki.js';
import { toHex, utf8 } from '../../util/bytes.js';
import { sha256 } from '../../util/digest.js';
import { type AttestationAnswer, type RunningEndpoint, serveAttestation } from './http-server.js';
import { buildDemoImage, type DemoImage } from './image.js';
import { createDemoTlsCertificate, type DemoTlsCertificate } from './tls-certificate.js';

/** Ways to misbehave, each caught by a different check. */
export interface DemoMisbehaviour {
  /** Put a different nonce in the document than the one asked for (ERR_NONCE_MISMATCH). */
  badNonce?: boolean;
  /** Date documents an hour in the past (ERR_STALE). */
  stale?: boolean;
  /** Attest the fingerprint of another certificate than the one served (ERR_TLS_BINDING). */
  wrongCertfp?: boolean;
  /** Report PCR0..2 as zeros, as a debug enclave does (ERR_DEBUG_MODE). */
  debugPcrs?: boolean;
}

/** Options of {@link startDemoEnclave}. */
export interface DemoEnclaveOptions {
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** Domain written in the TLS binding (default: the host). */
  domain?: string;
  /** Serve plain HTTP instead of HTTPS (the binding is then unbound). */
  plainHttp?: boolean;
  /** How long the demo certificates stay valid (default 3 hours, like an AWS leaf). */
  lifetimeMs?: number;
  misbehave?: DemoMisbehaviour;
}

/** A running demo enclave and everything a client needs to check it. */
export interface DemoEnclave {
  /** Origin, e.g. `https://127.0.0.1:43211`; the endpoint is `${origin}/attestation`. */
  origin: string;
  port: number;
  /** PEM of the self-signed TLS certificate: give it to the client as a trusted CA. */
  tlsCertPem: string;
  /** SHA-256 of the DER of the TLS certificate (the `certfp` of an honest enclave). */
  certfp: string;
  /** PEM of the demo PKI's root (NOT AWS): the client's trusted root for this demo. */
  rootPem: string;
  /** The demo image: write `image.eif` to a file for `--eif`. */
  image: DemoImage;
  /** The manifest served with each document. */
  manifest: Record<string, unknown>;
  /** Count of documents issued. */
  readonly issued: number;
  close(): Promise<void>;
}

const HOUR = 3_600_000;

/** Provenance of the demo (unsigned, like a real manifest; the commits are made up). */
function demoManifest(): Record<string, unknown> {
  return {
    version: '1',
    powered_by: 'enclave-verify demo (simulated enclave, NOT AWS, NOT Caution)',
    app_source: {
      url: 'https://example.invalid/demo-app.git',
      commit: '0123456789abcdef0123456789abcdef01234567',
    },
    enclave_source: {
      url: 'https://example.invalid/demo-enclaveos.git',
      commit: '89abcdef0123456789abcdef0123456789abcdef',
    },
    framework_source: {
      url: 'https://example.invalid/demo-framework.git',
      commit: 'fedcba9876543210fedcba9876543210fedcba98',
    },
  };
}

// The forge (a test PKI, attestation signing) is loaded by the first demo started, not by
// importing enclave-verify/node: most users of that entry never start a demo enclave.
async function demoPki(lifetimeMs: number): Promise<TestPki> {
  const { createTestPki } = await import('../../forge/pki.js');
  const at = new Date();
  const until = new Date(at.getTime() + lifetimeMs);
  return createTestPki({
    at,
    label: 'DEMO',
    leafLifetimeMs: lifetimeMs,
    // Every level outlives the demo run, so a long `--serve` keeps a valid chain.
    knobs: {
      instance: { notAfter: new Date(Math.max(until.getTime(), at.getTime() + 23 * HOUR)) },
      zonal: { notAfter: new Date(Math.max(until.getTime(), at.getTime() + 5 * 24 * HOUR)) },
      regional: { notAfter: new Date(Math.max(until.getTime(), at.getTime() + 18 * 24 * HOUR)) },
    },
  });
}

/**
 * Start the simulated enclave on loopback.
 *
 * @example
 * ```ts
 * const demo = await startDemoEnclave();
 * const result = await verifyDeployment(demo.origin, {
 *   transport: nodeTransport({ ca: demo.tlsCertPem }),
 *   trustedRoots: [demo.rootPem],
 *   expectedPcrs: { 0: demo.image.pcrs.pcr0, 1: demo.image.pcrs.pcr1, 2: demo.image.pcrs.pcr2 },
 * });
 * await demo.close();
 * ```
 */
export async function startDemoEnclave(options: DemoEnclaveOptions = {}): Promise<DemoEnclave> {
  const host = options.host ?? '127.0.0.1';
  const lifetimeMs = options.lifetimeMs ?? 3 * HOUR;
  const bad = options.misbehave ?? {};
  const [tls, pki, image, other, { issueAttestation }] = await Promise.all([
    options.plainHttp ? undefined : createDemoTlsCertificate(),
    demoPki(lifetimeMs),
    buildDemoImage(),
    bad.wrongCertfp ? createDemoTlsCertificate() : undefined,
    import('../../forge/attestation.js'),
  ]);
  const served: DemoTlsCertificate | undefined = tls;
  const certfp = served ? toHex(await sha256(served.certDer)) : '0'.repeat(64);
  const attestedCertfp = other ? toHex(await sha256(other.certDer)) : certfp;
  const domain = options.domain ?? host;
  const userData = utf8(JSON.stringify({ tls: { mode: 'tls', domain, certfp: attestedCertfp } }));
  const pcrs = new Map<number, Uint8Array>();
  for (let i = 0; i < 16; i++) pcrs.set(i, new Uint8Array(48));
  if (!bad.debugPcrs) {
    pcrs.set(0, image.pcrs.pcr0);
    pcrs.set(1, image.pcrs.pcr1);
    pcrs.set(2, image.pcrs.pcr2);
  }
  const manifest = demoManifest();
  let issued = 0;

  const attest = async (nonce: Uint8Array): Promise<AttestationAnswer> => {
    issued++;
    const sent = bad.badNonce ? crypto.getRandomValues(new Uint8Array(nonce.length)) : nonce;
    const timestamp = Date.now() - (bad.stale ? HOUR : 0);
    const document = await issueAttestation(
      pki,
      { timestamp, pcrs, userData, nonce: sent },
      { indefinitePayload: true },
    );
    return { document, manifest };
  };
  const endpoint: RunningEndpoint = await serveAttestation({
    ...(served ? { tls: { certPem: served.certPem, keyPem: served.keyPem } } : {}),
    host,
    ...(options.port !== undefined ? { port: options.port } : {}),
    attest,
  });
  return {
    origin: endpoint.origin,
    port: endpoint.port,
    tlsCertPem: served?.certPem ?? '',
    certfp,
    rootPem: pki.rootPem,
    image,
    manifest,
    get issued() {
      return issued;
    },
    close: () => endpoint.close(),
  };
}
