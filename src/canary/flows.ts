/**
 * canaryctl's verification flows (CANARY.md 9), runtime-agnostic over a {@link CanaryHttp}:
 * attest a Canary node and bind its config and keys to the attested metadata; check that a
 * pinned keys file is exactly the node's live keys; verify each target's statement and, when it
 * names evidence, replay that evidence against the configured PCRs.
 */
import { parseEndpointResponse } from '../deployment/response.js';
import { EnclaveVerifyError, type ErrorCode } from '../errors.js';
import type { ExpectedPcrsInput } from '../policy/expected-pcrs.js';
import { ChainCache } from '../trust/cache.js';
import type { TrustedRootInput } from '../trust/roots.js';
import { bytesEqual, toBase64 } from '../util/bytes.js';
import { type VerificationResult, verifyAttestation } from '../verify.js';
import { type CanaryConfig, type CanaryTargetConfig, parseConfigDocument, targetOrigin } from './config.js';
import { type ParsedEvidenceBundle, readEvidenceBundle, replayEvidence } from './evidence.js';
import { bodyText, type CanaryHttp } from './http.js';
import { type JsonValue, parseStrictJson } from './jcs.js';
import { keysetDigest, type ParsedKeysDocument, parseKeysDocument } from './keys.js';
import { checkNodeBinding, type NodeMetadata, parseNodeMetadata } from './metadata.js';
import { readObject, readRequired, type SchemaFail } from './schema.js';
import {
  PCR_MATCH_CLAIM,
  readEnvelope,
  type StatementEnvelope,
  type StatementPayload,
  TLS_BOUND_CLAIM,
  type VerifiedStatement,
  verifyStatement,
} from './statement.js';
import { nanosToDate, parseRfc3339Nanos } from './time.js';

/** Options shared by the node flows. */
export interface NodeFlowOptions {
  http: CanaryHttp;
  /** The Canary node's own expected PCR0/1/2. */
  expectedPcrs: ExpectedPcrsInput;
  /** Trust anchors for attestation documents; default the pinned AWS root G1. */
  roots?: readonly TrustedRootInput[];
  /** The verification time; default now. */
  now?: Date;
  cache?: ChainCache;
}

/** A node whose attestation verified and whose metadata binds its served config and keys. */
export interface AttestedNode {
  origin: string;
  config: CanaryConfig;
  configDigest: string;
  keys: ParsedKeysDocument;
  keysetDigest: string;
  metadata: NodeMetadata;
  attestation: VerificationResult;
}

function requireCanaryPcrs(expected: ExpectedPcrsInput): void {
  const keys = expected instanceof Map ? [...expected.keys()].map(String) : Object.keys(expected);
  for (const i of ['0', '1', '2']) {
    if (!keys.some((k) => k === i || k.toUpperCase() === `PCR${i}`)) {
      throw new EnclaveVerifyError(
        'ERR_USAGE',
        `the Canary node's expected PCR${i} is missing: give PCR0, PCR1 and PCR2`,
      );
    }
  }
}

/**
 * Attest a Canary node as `save-canary-keys` does: GET `/config.json` (digest recomputed) and
 * `/keys.json` (exact bytes), POST `/attestation` with a fresh 32-byte nonce, verify the document
 * now against the node's expected PCRs and the nonce, then check that its metadata binds the
 * served config and keys (CANARY.md 6). Throws the first failure's typed error.
 *
 * @example
 * ```ts
 * const node = await attestCanaryNode('https://canary.example.com', { http, expectedPcrs });
 * await writeFile('canary-keys.json', node.keys.bytes, { flag: 'wx' });
 * ```
 */
export async function attestCanaryNode(origin: string, options: NodeFlowOptions): Promise<AttestedNode> {
  requireCanaryPcrs(options.expectedPcrs);
  const { http } = options;
  const configUrl = `${origin}/config.json`;
  const { config, configDigest } = await parseConfigDocument(
    bodyText(await http({ method: 'GET', url: configUrl }), configUrl),
  );
  const keysBytes = (await http({ method: 'GET', url: `${origin}/keys.json` })).body;
  const keys = parseKeysDocument(keysBytes);
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const attestationUrl = `${origin}/attestation`;
  const response = await http({
    method: 'POST',
    url: attestationUrl,
    body: new TextEncoder().encode(JSON.stringify({ nonce: toBase64(nonce) })),
  });
  const answer = parseEndpointResponse(
    {
      status: response.status,
      redirect: false,
      location: undefined,
      body: response.body,
      peerCertificate: undefined,
    },
    attestationUrl,
  );
  const attestation = await verifyAttestation(answer.document, {
    nonce,
    expectedPcrs: options.expectedPcrs,
    ...(options.roots ? { trustedRoots: options.roots } : {}),
    ...(options.now ? { currentDate: options.now } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
  });
  const metadata = parseNodeMetadata(attestation.document.userData);
  await checkNodeBinding(metadata, { config, configDigest, keys });
  return {
    origin,
    config,
    configDigest,
    keys,
    keysetDigest: await keysetDigest(keys.bytes),
    metadata,
    attestation,
  };
}

/**
 * Check a pinned keys file against an attested node: it must be canonical bytes, equal to the
 * node's live `/keys.json`. Throws `ERR_CANARY_KEY_MISMATCH` (`details.rule`: `pinned_keys`).
 *
 * @example
 * ```ts
 * checkPinnedKeys(await readFile('canary-keys.json'), node);
 * ```
 */
export function checkPinnedKeys(pinned: Uint8Array, node: AttestedNode): void {
  const parsed = parseKeysDocument(pinned);
  if (!parsed.canonical) {
    throw new EnclaveVerifyError(
      'ERR_CANARY_KEY_MISMATCH',
      'the pinned keys file is not canonical bytes; save it again with `canary save-keys`',
      {
        details: { rule: 'pinned_keys' },
      },
    );
  }
  if (!bytesEqual(pinned, node.keys.bytes)) {
    throw new EnclaveVerifyError(
      'ERR_CANARY_KEY_MISMATCH',
      `the pinned keys differ from the node's live /keys.json (node "${node.config.node_id}"): the node has new keys (an ephemeral identity restarted, or another node); re-pin only if you trust the change`,
      { details: { rule: 'pinned_keys' } },
    );
  }
}

/** The verdict on one target. */
export interface TargetVerdict {
  id: string;
  /** True only for a VERIFIED statement whose evidence replayed to the same result. */
  ok: boolean;
  code?: ErrorCode;
  message?: string;
  status?: StatementPayload['status'];
  reason?: string;
  statement?: StatementPayload;
  /** The reason our replay of the evidence gave, when there was evidence. */
  replayReason?: string;
  evidenceDigest?: string | null;
}

function mismatch(message: string, field: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_CANARY_MISMATCH', message, { details: { field } });
}

/**
 * Check that a verified statement is about this target of this node's verified config:
 * `target_id`, `target_origin` (from the configured URL), `config_digest`, `verifier_id` and
 * `claim_type` (from `e2e_mode`). Throws `ERR_CANARY_MISMATCH` with `details.field`.
 *
 * @example
 * ```ts
 * checkStatementMatchesTarget(verified.payload, node, target);
 * ```
 */
export function checkStatementMatchesTarget(
  payload: StatementPayload,
  node: AttestedNode,
  target: CanaryTargetConfig,
): void {
  const expected: [keyof StatementPayload, string][] = [
    ['target_id', target.id],
    ['target_origin', targetOrigin(target.attestation_url)],
    ['config_digest', node.configDigest],
    ['verifier_id', node.config.node_id],
    ['claim_type', target.e2e_mode === 'tls' ? TLS_BOUND_CLAIM : PCR_MATCH_CLAIM],
  ];
  for (const [field, value] of expected) {
    if (payload[field] !== value) {
      throw mismatch(
        `the statement's ${field} is "${String(payload[field]).slice(0, 100)}" but the verified config says "${value}"`,
        field,
      );
    }
  }
}

const historyFail: SchemaFail = (message) => {
  throw new EnclaveVerifyError('ERR_RESPONSE_FORMAT', `history entry: ${message}`);
};

async function getText(http: CanaryHttp, url: string): Promise<string> {
  return bodyText(await http({ method: 'GET', url }), url);
}

function parseJsonBody(text: string, url: string): JsonValue {
  try {
    return parseStrictJson(text);
  } catch (e) {
    throw new EnclaveVerifyError(
      'ERR_RESPONSE_FORMAT',
      `${url} is not strict JSON (${(e as Error).message})`,
    );
  }
}

/** Judge a verified statement and its evidence (if any) for one target. */
async function judge(
  verified: VerifiedStatement,
  evidence: ParsedEvidenceBundle | undefined,
  node: AttestedNode,
  target: CanaryTargetConfig,
  options: Pick<NodeFlowOptions, 'roots' | 'cache'>,
): Promise<TargetVerdict> {
  const payload = verified.payload;
  checkStatementMatchesTarget(payload, node, target);
  const base = {
    id: target.id,
    status: payload.status,
    reason: payload.reason,
    statement: payload,
    evidenceDigest: payload.evidence_digest,
  };
  let replayReason: string | undefined;
  if (payload.evidence_digest !== null) {
    if (!evidence) throw mismatch('the statement names evidence but none was served', 'evidence');
    const b = evidence.bundle;
    if (b.target_id !== payload.target_id)
      throw mismatch('the evidence is for another target than the statement', 'target_id');
    if (b.evidence_digest !== payload.evidence_digest)
      throw mismatch('the evidence digest differs from the statement', 'evidence_digest');
    if (parseRfc3339Nanos(b.observed_at) !== parseRfc3339Nanos(payload.observed_at ?? '')) {
      throw mismatch('the evidence observed_at differs from the statement', 'observed_at');
    }
    const replay = await replayEvidence(evidence, {
      expectedPcrs: { ...target.expected_pcrs },
      ...(options.roots ? { roots: options.roots } : {}),
      ...(options.cache ? { cache: options.cache } : {}),
    });
    replayReason = replay.reason;
    const tlsException =
      target.e2e_mode === 'tls' &&
      payload.reason === 'TLS_BINDING_MISMATCH' &&
      replay.reason === 'ALL_CHECKS_PASSED';
    if (replay.reason !== payload.reason && !tlsException) {
      throw mismatch(
        `the statement says ${payload.reason} but replaying its evidence against the configured PCRs gives ${replay.reason}`,
        'reason',
      );
    }
  }
  if (payload.status !== 'VERIFIED') {
    return {
      ...base,
      ok: false,
      code: 'ERR_CANARY_NOT_VERIFIED',
      message: `the node signed ${payload.status} (${payload.reason}) for target "${target.id}"`,
      ...(replayReason ? { replayReason } : {}),
    };
  }
  return { ...base, ok: true, ...(replayReason ? { replayReason } : {}) };
}

function failed(id: string, e: unknown): TargetVerdict {
  if (!(e instanceof EnclaveVerifyError)) throw e;
  return { id, ok: false, code: e.code, message: e.message };
}

/** Options of {@link verifyCanaryTargets}. */
export interface TargetFlowOptions extends Pick<NodeFlowOptions, 'http' | 'roots' | 'cache' | 'now'> {
  /** Target ids to check (each once); default every configured target. */
  targets?: readonly string[];
}

/**
 * Verify the current statement of each target (CANARY.md 9 `verify`): signatures and rules at
 * now, the statement matches the verified config, and named evidence is fetched (the statement
 * re-read, up to 3 tries for a consistent pair), replayed against the configured PCRs at its
 * `observed_at`, and gives the signed reason. A target is ok only when VERIFIED.
 *
 * @example
 * ```ts
 * const verdicts = await verifyCanaryTargets(node, { http });
 * const ok = verdicts.every((v) => v.ok);
 * ```
 */
export async function verifyCanaryTargets(
  node: AttestedNode,
  options: TargetFlowOptions,
): Promise<TargetVerdict[]> {
  const ids = options.targets ?? node.config.targets.map((t) => t.id);
  const unique = [...new Set(ids)];
  const cache = options.cache ?? new ChainCache({ maxCertificates: 64 });
  const out: TargetVerdict[] = [];
  for (const id of unique) {
    const target = node.config.targets.find((t) => t.id === id);
    if (!target) {
      out.push(
        failed(
          id,
          new EnclaveVerifyError(
            'ERR_USAGE',
            `the node's config has no target "${id}"; targets: ${node.config.targets.map((t) => t.id).join(', ')}`,
          ),
        ),
      );
      continue;
    }
    try {
      out.push(await verifyCurrentTarget(node, target, { ...options, cache }));
    } catch (e) {
      out.push(failed(id, e));
    }
  }
  return out;
}

async function verifyCurrentTarget(
  node: AttestedNode,
  target: CanaryTargetConfig,
  options: TargetFlowOptions,
): Promise<TargetVerdict> {
  const base = `${node.origin}/targets/${encodeURIComponent(target.id)}`;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const verified = await verifyStatement(
      await getText(options.http, `${base}/statement`),
      node.keys,
      options.now ? { now: options.now } : {},
    );
    if (verified.payload.evidence_digest === null) return judge(verified, undefined, node, target, options);
    const evidenceUrl = `${base}/evidence`;
    const evidence = await readEvidenceBundle(
      parseJsonBody(await getText(options.http, evidenceUrl), evidenceUrl),
    );
    // A probe may land between the two requests: retry when the pair is not from one observation.
    if (evidence.bundle.evidence_digest !== verified.payload.evidence_digest) {
      lastError = mismatch(
        'the statement and the evidence stayed inconsistent over 3 reads (different evidence_digest)',
        'evidence_digest',
      );
      continue;
    }
    return judge(verified, evidence, node, target, options);
  }
  throw lastError;
}

/**
 * Verify one past attempt (`/targets/{id}/history/{attempt}`) as `verify-attempt` does: its
 * statement is verified at its own `issued_at` (an audit of a past result, not proof of the
 * present), then judged as in {@link verifyCanaryTargets}. Ok only when VERIFIED.
 *
 * @example
 * ```ts
 * const verdict = await verifyCanaryAttempt(node, 'payments-prod', 42, { http });
 * ```
 */
export async function verifyCanaryAttempt(
  node: AttestedNode,
  targetId: string,
  attempt: number,
  options: Pick<NodeFlowOptions, 'http' | 'roots' | 'cache'>,
): Promise<TargetVerdict> {
  const target = node.config.targets.find((t) => t.id === targetId);
  if (!target) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `the node's config has no target "${targetId}"; targets: ${node.config.targets.map((t) => t.id).join(', ')}`,
    );
  }
  if (!Number.isSafeInteger(attempt) || attempt < 0)
    throw new EnclaveVerifyError('ERR_USAGE', '--attempt must be a non-negative integer');
  const url = `${node.origin}/targets/${encodeURIComponent(targetId)}/history/${attempt}`;
  try {
    const entry = readObject(
      parseJsonBody(await getText(options.http, url), url),
      'history entry',
      ['observation', 'statement', 'evidence'],
      historyFail,
    );
    const envelope: StatementEnvelope = readEnvelope(
      readRequired(entry, 'statement', 'history entry', historyFail),
    );
    const issued = parseRfc3339Nanos(envelope.payload.issued_at);
    const at = issued === undefined ? new Date() : nanosToDate(issued);
    const verified = await verifyStatement(envelope, node.keys, { now: at });
    const evidenceValue = entry.evidence;
    const evidence =
      evidenceValue === undefined || evidenceValue === null
        ? undefined
        : await readEvidenceBundle(evidenceValue);
    return await judge(verified, evidence, node, target, options);
  } catch (e) {
    return failed(targetId, e);
  }
}
