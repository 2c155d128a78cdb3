// A Canary-shaped HTTPS node on 127.0.0.1 for the live flow tests: a test Nitro PKI (src/forge)
// attests the node with Canary's metadata, and the node serves /config.json, /keys.json and
// statements signed with our own implementation over evidence of forged target documents.
// Knobs make it misbehave in each way the verifier must refuse.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type CanaryConfig, configDocument, validateCanaryConfig } from '../../src/canary/config.js';
import { buildEvidenceBundle } from '../../src/canary/evidence.js';
import { canonicalJson } from '../../src/canary/jcs.js';
import { deriveCanaryKeys, keysDocumentBytes, keysetDigest } from '../../src/canary/keys.js';
import { type NodeMetadata, nodeMetadata } from '../../src/canary/metadata.js';
import { type StatementPayload, signStatement } from '../../src/canary/statement.js';
import { canonicalSecondTime } from '../../src/canary/time.js';
import { createDemoTlsCertificate } from '../../src/deployment/demo/tls-certificate.js';
import { createTestPki, issueAttestation, type TestPki } from '../../src/forge/index.js';
import { fromBase64, toBase64 } from '../../src/util/bytes.js';

export const NODE_PCRS = { 0: 'c0'.repeat(48), 1: 'c1'.repeat(48), 2: 'c2'.repeat(48) };
export const TARGET_PCRS = { 0: 'd0'.repeat(48), 1: 'd1'.repeat(48), 2: 'd2'.repeat(48) };

export interface ServerKnobs {
  /** Replace members of the attested metadata. */
  metadata?: Partial<NodeMetadata>;
  /** Serve /keys.json bytes other than the canonical ones. */
  keysBytes?: Uint8Array;
  /** Shift all statement times by this many seconds (negative: old, expired). */
  statementShiftSeconds?: number;
  /** Issue the statement this many seconds in the future (observed time unchanged). */
  issuedAheadSeconds?: number;
  /** PCRs the target's evidence document carries (default TARGET_PCRS). */
  evidencePcrs?: Record<number, string>;
  /** Serve evidence of another observation than the statement names. */
  evidenceOtherObservation?: boolean;
  /** Answer every route with a redirect. */
  redirect?: boolean;
  /** Pad /config.json to this many bytes. */
  configBytes?: number;
}

export interface CanaryTestServer {
  origin: string;
  caPem: string;
  rootPem: string;
  config: CanaryConfig;
  keysBytes: Uint8Array;
  knobs: ServerKnobs;
  close(): Promise<void>;
}

const SEED = new Uint8Array(32).fill(0x42);

export async function startCanaryServer(knobs: ServerKnobs = {}): Promise<CanaryTestServer> {
  const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const pki: TestPki = await createTestPki({ at, label: ' canary' });
  const keys = deriveCanaryKeys(SEED, 'canary-test');
  const config = validateCanaryConfig({
    version: 0,
    node_id: 'canary-test',
    targets: [
      {
        id: 'web',
        name: 'Web',
        attestation_url: 'https://web.example.com/attestation',
        expected_pcrs: { '0': TARGET_PCRS[0], '1': TARGET_PCRS[1], '2': TARGET_PCRS[2] },
      },
    ],
  });
  const configDoc = await configDocument(config);
  const keysBytes = keysDocumentBytes(keys);
  const tls = await createDemoTlsCertificate();

  async function statementAndEvidence() {
    const shift = (knobs.statementShiftSeconds ?? 0) * 1000;
    const observed = new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000 + shift);
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const document = await issueAttestation(pki, { nonce, pcrs: knobs.evidencePcrs ?? TARGET_PCRS });
    const evidence = await buildEvidenceBundle({
      targetId: 'web',
      document,
      nonce,
      observedAt: observed,
      manifest: { app: 'web' },
    });
    const issued = new Date(observed.getTime() + 5_000 + (knobs.issuedAheadSeconds ?? 0) * 1000);
    const payload: StatementPayload = {
      claim_type: 'caution.canary.pcr-match.v0',
      target_id: 'web',
      target_origin: 'https://web.example.com',
      status: 'VERIFIED',
      reason: 'ALL_CHECKS_PASSED',
      config_digest: configDoc.config_digest,
      evidence_digest: evidence.bundle.evidence_digest,
      observed_at: canonicalSecondTime(observed),
      issued_at: canonicalSecondTime(issued),
      expires_at: canonicalSecondTime(new Date(observed.getTime() + 180_000)),
      verifier_id: 'canary-test',
      key_epoch: 0,
    };
    const statement = signStatement(payload, keys, { unchecked: (knobs.issuedAheadSeconds ?? 0) > 175 });
    let evidenceText = evidence.text;
    if (knobs.evidenceOtherObservation) {
      const other = await buildEvidenceBundle({
        targetId: 'web',
        document: await issueAttestation(pki, { nonce, pcrs: TARGET_PCRS, moduleId: 'other' }),
        nonce,
        observedAt: observed,
        manifest: {},
      });
      evidenceText = other.text;
    }
    return { statement: canonicalJson(statement), evidence: evidenceText };
  }

  let current = await statementAndEvidence();
  const served = knobs.keysBytes ?? keysBytes;
  const metadata = {
    ...nodeMetadata('canary-test', configDoc.config_digest, await keysetDigest(served)),
    ...knobs.metadata,
  };

  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const send = (status: number, body: string | Uint8Array) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(body);
    };
    if (knobs.redirect) {
      res.writeHead(302, { location: 'https://elsewhere.example/' });
      res.end();
      return;
    }
    const url = req.url ?? '/';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        if (req.method === 'GET' && url === '/config.json') {
          const text = JSON.stringify(configDoc);
          send(
            200,
            knobs.configBytes ? text + ' '.repeat(Math.max(0, knobs.configBytes - text.length)) : text,
          );
        } else if (req.method === 'GET' && url === '/keys.json') send(200, served);
        else if (req.method === 'POST' && url === '/attestation') {
          const { nonce } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { nonce: string };
          const document = await issueAttestation(pki, {
            nonce: fromBase64(nonce),
            pcrs: NODE_PCRS,
            userData: new TextEncoder().encode(canonicalJson(metadata)),
          });
          send(200, JSON.stringify({ document: toBase64(document), manifest: {} }));
        } else if (req.method === 'GET' && url === '/targets/web/statement') {
          current = await statementAndEvidence();
          send(200, current.statement);
        } else if (req.method === 'GET' && url === '/targets/web/evidence') send(200, current.evidence);
        else if (req.method === 'GET' && url === '/targets/web/history/7') {
          send(
            200,
            `{"observation":{"id":7},"statement":${current.statement},"evidence":${current.evidence}}`,
          );
        } else send(404, '{"error":"not_found"}');
      } catch (e) {
        send(500, JSON.stringify({ error: String(e) }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    caPem: tls.certPem,
    rootPem: pki.rootPem,
    config,
    keysBytes,
    knobs,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
