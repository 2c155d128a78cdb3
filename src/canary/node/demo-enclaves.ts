/**
 * Simulated enclaves for the monitor's demo, tests and bench: HTTPS on loopback served as
 * `localhost` (so `e2e_mode: "tls"` targets have a DNS name), documents signed by a throwaway
 * PKI labelled NOT AWS, Caution's TLS binding in user_data, and a behaviour that can be
 * switched while running (PCR change, wrong nonce, HTTP error, dropped connection, hang,
 * attested certfp of another certificate). Several enclaves can share one PKI and one TLS
 * certificate, which a bench of a hundred needs.
 */
import type { ServerResponse } from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { buildDemoImage, type DemoImage } from '../../deployment/demo/image.js';
import { createDemoTlsCertificate, type DemoTlsCertificate } from '../../deployment/demo/tls-certificate.js';
import { createTestPki, issueAttestation, type TestPki } from '../../forge/index.js';
import { toHex, utf8 } from '../../util/bytes.js';
import { sha256 } from '../../util/digest.js';
import { canonicalJson } from '../jcs.js';
import type { PcrTriple } from '../observation.js';

/** How a simulated enclave answers. */
export type DemoBehaviour =
  | 'honest'
  | 'pcr-change'
  | 'bad-nonce'
  | 'http-error'
  | 'drop-connection'
  | 'hang'
  | 'wrong-certfp';

/** What several simulated enclaves share. */
export interface DemoFleet {
  pki: TestPki;
  tls: DemoTlsCertificate;
  /** SHA-256 of the TLS certificate's DER (an honest enclave's certfp). */
  certfp: string;
  image: DemoImage;
  /** PCR0/1/2 of the demo image in Canary's config form. */
  expectedPcrs: PcrTriple<string>;
}

/** A running simulated enclave. */
export interface DemoCanaryEnclave {
  /** `https://localhost:PORT/attestation`. */
  url: string;
  port: number;
  behaviour: DemoBehaviour;
  /** Documents issued. */
  readonly issued: number;
  close(): Promise<void>;
}

/**
 * Create what a set of simulated enclaves share (PKI valid for `lifetimeMs`, default 1 day).
 *
 * @example
 * ```ts
 * const fleet = await createDemoFleet();
 * const e = await startDemoCanaryEnclave(fleet);
 * ```
 */
export async function createDemoFleet(lifetimeMs = 24 * 3_600_000): Promise<DemoFleet> {
  const at = new Date();
  const [pki, tls, image] = await Promise.all([
    createTestPki({
      at,
      label: 'CANARY DEMO',
      leafLifetimeMs: lifetimeMs,
      knobs: {
        instance: { notAfter: new Date(at.getTime() + lifetimeMs + 3_600_000) },
        zonal: { notAfter: new Date(at.getTime() + lifetimeMs + 7_200_000) },
        regional: { notAfter: new Date(at.getTime() + lifetimeMs + 10_800_000) },
      },
    }),
    createDemoTlsCertificate(),
    buildDemoImage(),
  ]);
  return {
    pki,
    tls,
    certfp: toHex(await sha256(tls.certDer)),
    image,
    expectedPcrs: {
      '0': toHex(image.pcrs.pcr0),
      '1': toHex(image.pcrs.pcr1),
      '2': toHex(image.pcrs.pcr2),
    },
  };
}

/** The unsigned provenance every simulated enclave serves. */
export const DEMO_MANIFEST =
  '{"version":"1","powered_by":"enclave-verify canary demo (simulated, NOT AWS)","build_id":18446744073709551615}';

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Start one simulated enclave of a fleet on 127.0.0.1, reachable as `localhost`.
 *
 * @example
 * ```ts
 * const e = await startDemoCanaryEnclave(fleet);
 * e.behaviour = 'pcr-change'; // the next document reports another PCR0
 * await e.close();
 * ```
 */
export async function startDemoCanaryEnclave(
  fleet: DemoFleet,
  options: { port?: number; behaviour?: DemoBehaviour } = {},
): Promise<DemoCanaryEnclave> {
  const otherCertfp = 'e'.repeat(64);
  let issued = 0;
  const pcrsFor = (change: boolean): Map<number, Uint8Array> => {
    const pcrs = new Map<number, Uint8Array>();
    for (let i = 0; i < 16; i++) pcrs.set(i, new Uint8Array(48));
    pcrs.set(0, change ? new Uint8Array(48).fill(0x5a) : fleet.image.pcrs.pcr0);
    pcrs.set(1, fleet.image.pcrs.pcr1);
    pcrs.set(2, fleet.image.pcrs.pcr2);
    return pcrs;
  };
  const honest = pcrsFor(false);
  const changed = pcrsFor(true);
  const state = { behaviour: options.behaviour ?? ('honest' as DemoBehaviour) };
  const server = https.createServer({ cert: fleet.tls.certPem, key: fleet.tls.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 4096) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const b = state.behaviour;
      if (b === 'drop-connection') return void req.socket.destroy();
      if (b === 'hang') return;
      if (b === 'http-error') return send(res, 503, { errors: ['simulated outage'] });
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/attestation') {
        return send(res, 404, { errors: ['POST /attestation'] });
      }
      let nonce: Uint8Array;
      try {
        const raw = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { nonce?: unknown }).nonce;
        if (typeof raw !== 'string') throw new Error('no nonce');
        nonce = new Uint8Array(Buffer.from(raw, 'base64'));
      } catch {
        return send(res, 400, { errors: ['send {"nonce": "<base64>"}'] });
      }
      if (b === 'bad-nonce') nonce = crypto.getRandomValues(new Uint8Array(nonce.length));
      const certfp = b === 'wrong-certfp' ? otherCertfp : fleet.certfp;
      const userData = utf8(JSON.stringify({ tls: { mode: 'tls', domain: 'localhost', certfp } }));
      issued++;
      issueAttestation(
        fleet.pki,
        { timestamp: Date.now(), pcrs: b === 'pcr-change' ? changed : honest, userData, nonce },
        { indefinitePayload: true },
      ).then(
        (document) => {
          // Written as text: the manifest carries an integer beyond 2^53, as real build
          // manifests may, so the evidence path must keep it exact.
          const text = `{"document":"${Buffer.from(document).toString('base64')}","manifest":${DEMO_MANIFEST}}`;
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
        },
        () => send(res, 500, { errors: ['signing failed'] }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://localhost:${port}/attestation`,
    port,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(b: DemoBehaviour) {
      state.behaviour = b;
    },
    get issued() {
      return issued;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A simulated Bootproofd for a simulated monitor node: documents whose user_data is the node's
 * metadata (Canary's canonical JSON), signed by the fleet's PKI, with the demo image's PCRs.
 *
 * @example
 * ```ts
 * const api = await startApi({ tls: fleet.tls, attestation: nodeAttestation(fleet, () => monitor.metadata) });
 * ```
 */
export function nodeAttestation(
  fleet: DemoFleet,
  metadata: () => unknown,
): (nonce: Uint8Array) => Promise<{ document: Uint8Array }> {
  return async (nonce) => {
    const pcrs = new Map<number, Uint8Array>();
    for (let i = 0; i < 16; i++) pcrs.set(i, new Uint8Array(48));
    pcrs.set(0, fleet.image.pcrs.pcr0);
    pcrs.set(1, fleet.image.pcrs.pcr1);
    pcrs.set(2, fleet.image.pcrs.pcr2);
    const userData = utf8(canonicalJson(metadata()));
    return { document: await issueAttestation(fleet.pki, { timestamp: Date.now(), pcrs, userData, nonce }) };
  };
}
