/**
 * A Canary-compatible monitor node: for each configured target, probe (probe.ts), feed the
 * state rules (../state.ts), build the evidence bundle and claims, sign a statement of the
 * target's status with the node's keys, append the attempt to the durable history (store.ts)
 * and publish it. Everything the read-only API serves comes from here.
 *
 *   scheduler -> probeTarget -> TargetState -> evidence + statement -> AttemptStore -> API
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnclaveVerifyError } from '../../errors.js';
import { ChainCache } from '../../trust/cache.js';
import type { TrustedRootInput } from '../../trust/roots.js';
import {
  type CanaryConfig,
  type CanaryConfigDocument,
  type CanaryTargetConfig,
  configDigest as computeConfigDigest,
  configDocument,
  targetOrigin,
} from '../config.js';
import { buildEvidenceBundle, type EvidenceBundle } from '../evidence.js';
import { canonicalJson, type JsonValue } from '../jcs.js';
import { CANARY_PROTOCOL, type CanaryKeyPair, keysDocumentBytes, keysetDigest } from '../keys.js';
import { type NodeMetadata, nodeMetadata } from '../metadata.js';
import type { EvidenceClaims, Observation } from '../observation.js';
import type { DefinitiveReason } from '../reasons.js';
import {
  type AttemptReason,
  DEFINITIVE_TTL_MS,
  isDefinitiveReason,
  TargetState,
  type TargetView,
} from '../state.js';
import {
  PCR_MATCH_CLAIM,
  type StatementEnvelope,
  type StatementPayload,
  type StatementTls,
  signStatement,
  TLS_BOUND_CLAIM,
} from '../statement.js';
import { canonicalSecondTime } from '../time.js';
import type { NetworkPolicy } from './network.js';
import { type ProbeOptions, type ProbeResult, probeTarget } from './probe.js';
import { ProbeScheduler } from './scheduler.js';
import { AttemptStore, type StoredAttempt } from './store.js';

/**
 * A later check of a document that passed (e.g. certificate revocation): return a definitive
 * reason to fail the probe, or undefined to keep it passed.
 */
export type EvidenceHook = (
  document: Uint8Array,
  result: ProbeResult,
) => Promise<DefinitiveReason | undefined>;

/** Options of {@link CanaryMonitor.start}. */
export interface MonitorOptions {
  config: CanaryConfig;
  keys: CanaryKeyPair;
  identityMode: 'stable' | 'ephemeral';
  /** `--data DIR`: history and metadata.json. */
  dataDir: string;
  network: NetworkPolicy;
  trustedRoots?: readonly TrustedRootInput[];
  /** Clock (default the system's); tests inject one. */
  now?: () => Date;
  /** Whole-request timeout per probe (default 15 s). */
  timeoutMs?: number;
  /** Probes in flight over all targets (default 16). */
  maxConcurrent?: number;
  /** `runtime.binary_digest` of `/status.json`. */
  binaryDigest: string;
  /** `runtime.environment` (default `non_enclave`). */
  environment?: 'nitro_enclave' | 'non_enclave';
  /** Extra check of passed evidence; the revocation checker plugs in here. */
  evidenceHook?: EvidenceHook;
  /** Replace the probe (tests). */
  probe?: (target: CanaryTargetConfig, options: ProbeOptions) => Promise<ProbeResult>;
  /** One line per noteworthy event (default: nothing). */
  log?: (line: string) => void;
  /** Skip fsync (benchmarks of its cost only). */
  noSync?: boolean;
}

/** The current definitive result of a target: what its statement's evidence_digest names. */
interface CurrentEvidence {
  digest: string | null;
  evidence: EvidenceBundle | null;
  /**
   * The bundle as Canary writes it. Served and stored as text: a manifest may hold integers
   * beyond 2^53 or floats like 60.0 that JSON.stringify cannot reproduce.
   */
  text: string | null;
  claims: EvidenceClaims | null;
  tls: StatementTls | undefined;
}

interface TargetRuntime {
  config: CanaryTargetConfig;
  origin: string;
  state: TargetState;
  published: StatementEnvelope;
  current: CurrentEvidence | undefined;
  inFlight: Promise<StoredAttempt> | undefined;
  lastLatencyMs: number | undefined;
  lastVerifiedAt: Date | undefined;
  lastError: string | undefined;
  counts: Map<string, number>;
}

/** One row of `/status.json`. */
export interface StatusTarget {
  id: string;
  name: string;
  target_origin: string;
  status: StatementPayload['status'];
  reason: string;
  observed_at: string | null;
  expires_at: string;
  transport_warning: string | null;
}

const atomicWrite = async (path: string, text: string): Promise<void> => {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { flush: true });
  await rename(tmp, path);
};

/**
 * The monitor: state, history and signed statements of every target.
 *
 * @example
 * ```ts
 * const monitor = await CanaryMonitor.start({ config, keys, identityMode: 'stable', dataDir, network: {}, binaryDigest });
 * monitor.startSchedule();
 * const body = monitor.statement('api');
 * await monitor.close();
 * ```
 */
export class CanaryMonitor {
  readonly configDigest: string;
  readonly keysBytes: Uint8Array;
  readonly keysetDigest: string;
  readonly metadata: NodeMetadata;
  readonly configDocument: CanaryConfigDocument;
  readonly startedAt: Date;
  private scheduler: ProbeScheduler | undefined;
  private readonly targets = new Map<string, TargetRuntime>();
  private readonly cache = new ChainCache({ maxCertificates: 256 });
  private readonly now: () => Date;

  private constructor(
    readonly options: MonitorOptions,
    readonly store: AttemptStore,
    digests: { config: string; keyset: string; keysBytes: Uint8Array; document: CanaryConfigDocument },
  ) {
    this.now = options.now ?? (() => new Date());
    this.configDigest = digests.config;
    this.keysetDigest = digests.keyset;
    this.keysBytes = digests.keysBytes;
    this.configDocument = digests.document;
    this.metadata = nodeMetadata(
      options.config.node_id,
      digests.config,
      digests.keyset,
      options.identityMode,
    );
    this.startedAt = this.now();
  }

  /**
   * Open the history, write `DIR/metadata.json`, and publish a signed PENDING statement for
   * every target (a restart starts every target PENDING, as canaryd does).
   */
  static async start(options: MonitorOptions): Promise<CanaryMonitor> {
    const { config, keys } = options;
    if (keys.nodeId !== config.node_id) {
      throw new EnclaveVerifyError(
        'ERR_CANARY_KEY_MISMATCH',
        `the keys are for node '${keys.nodeId}' but the config names node '${config.node_id}'`,
      );
    }
    const keysBytes = keysDocumentBytes(keys);
    const digests = {
      config: await computeConfigDigest(config),
      keyset: await keysetDigest(keysBytes),
      keysBytes,
      document: await configDocument(config),
    };
    const store = await AttemptStore.open(
      options.dataDir,
      config.targets.map((t) => t.id),
      { historyLimit: config.history_limit, ...(options.noSync ? { noSync: true } : {}) },
    );
    const monitor = new CanaryMonitor(options, store, digests);
    try {
      await atomicWrite(join(options.dataDir, 'metadata.json'), `${canonicalJson(monitor.metadata)}\n`);
    } catch (cause) {
      await store.close();
      throw new EnclaveVerifyError(
        'ERR_IO',
        `cannot write ${options.dataDir}/metadata.json: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    for (const r of store.recovery) {
      if (r.droppedBytes > 0 || r.badLines > 0) {
        options.log?.(
          `history of ${r.target}: cut ${r.droppedBytes} bytes of a torn last line, skipped ${r.badLines} unreadable line(s)`,
        );
      }
    }
    for (const t of config.targets) {
      const state = new TargetState();
      const runtime: TargetRuntime = {
        config: t,
        origin: targetOrigin(t.attestation_url),
        state,
        published: undefined as unknown as StatementEnvelope,
        current: undefined,
        inFlight: undefined,
        lastLatencyMs: undefined,
        lastVerifiedAt: undefined,
        lastError: undefined,
        counts: new Map(),
      };
      runtime.published = monitor.sign(runtime, state.view(monitor.now()));
      monitor.targets.set(t.id, runtime);
    }
    return monitor;
  }

  /** Configured target ids, in config order. */
  get targetIds(): string[] {
    return [...this.targets.keys()];
  }

  /** Probe every target on its schedule (interval from the config, with jitter). */
  startSchedule(overrides: { intervalMs?: number; maxConcurrent?: number } = {}): ProbeScheduler {
    if (this.scheduler) return this.scheduler;
    this.scheduler = new ProbeScheduler(this.targetIds, (id) => this.probeNow(id), {
      intervalMs: overrides.intervalMs ?? this.options.config.probe_interval_seconds * 1000,
      maxConcurrent: overrides.maxConcurrent ?? this.options.maxConcurrent ?? 16,
    });
    this.scheduler.start();
    return this.scheduler;
  }

  private runtime(id: string): TargetRuntime {
    const r = this.targets.get(id);
    if (!r) throw new EnclaveVerifyError('ERR_USAGE', `no target '${id.slice(0, 80)}' in the config`);
    return r;
  }

  /** Does this target exist? */
  has(id: string): boolean {
    return this.targets.has(id);
  }

  private payload(r: TargetRuntime, view: TargetView, now: Date): StatementPayload {
    const definitive = view.status === 'VERIFIED' || view.status === 'FAILED';
    const tlsClaim = r.config.e2e_mode === 'tls';
    const issued = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const tls =
      definitive &&
      tlsClaim &&
      r.current?.tls &&
      (view.reason === 'ALL_CHECKS_PASSED' || view.reason === 'TLS_BINDING_MISMATCH')
        ? r.current.tls
        : undefined;
    const expires = definitive
      ? new Date((view.observedAt as Date).getTime() + DEFINITIVE_TTL_MS)
      : new Date(issued.getTime() + DEFINITIVE_TTL_MS);
    return {
      claim_type: tlsClaim ? TLS_BOUND_CLAIM : PCR_MATCH_CLAIM,
      target_id: r.config.id,
      target_origin: r.origin,
      status: view.status,
      reason: view.reason,
      config_digest: this.configDigest,
      evidence_digest: definitive ? (r.current?.digest ?? null) : null,
      ...(tls ? { tls } : {}),
      observed_at: definitive ? canonicalSecondTime(view.observedAt as Date) : null,
      issued_at: canonicalSecondTime(issued),
      expires_at: canonicalSecondTime(expires),
      verifier_id: this.options.config.node_id,
      key_epoch: 0,
    };
  }

  private sign(r: TargetRuntime, view: TargetView): StatementEnvelope {
    return signStatement(this.payload(r, view, this.now()), this.options.keys);
  }

  /**
   * The statement to serve now: the published one while it still says what the state rules
   * say and is not about to expire, else a freshly signed one (e.g. VERIFIED turning STALE
   * 180 s after its observation with no probe in between).
   */
  statement(id: string): StatementEnvelope {
    const r = this.runtime(id);
    const now = this.now();
    const view = r.state.view(now);
    const p = r.published.payload;
    const observed = view.observedAt ? canonicalSecondTime(view.observedAt) : null;
    const expiresSoon = Date.parse(p.expires_at) - now.getTime() < 60_000;
    const derived = view.status !== 'VERIFIED' && view.status !== 'FAILED';
    if (
      p.status !== view.status ||
      p.reason !== view.reason ||
      p.observed_at !== observed ||
      (derived && expiresSoon)
    ) {
      r.published = this.sign(r, view);
    }
    return r.published;
  }

  /** The view of the state rules now. */
  view(id: string): TargetView {
    return this.runtime(id).state.view(this.now());
  }

  /** The evidence bundle the current statement names, if any, as Canary's text. */
  evidenceText(id: string): string | undefined {
    const r = this.runtime(id);
    const s = this.statement(id);
    return s.payload.evidence_digest && r.current?.text ? r.current.text : undefined;
  }

  /** The claims of the evidence the current statement names, if any. */
  claims(id: string): EvidenceClaims | undefined {
    const r = this.runtime(id);
    const s = this.statement(id);
    return s.payload.evidence_digest && r.current?.claims ? r.current.claims : undefined;
  }

  /**
   * Probe a target now (the scheduler calls this; tests call it directly). If a probe of this
   * target is already running, its result is returned instead of starting a second request.
   */
  probeNow(id: string): Promise<StoredAttempt> {
    const r = this.runtime(id);
    if (r.inFlight) return r.inFlight;
    const run = this.attempt(r).finally(() => {
      r.inFlight = undefined;
    });
    r.inFlight = run;
    return run;
  }

  private async attempt(r: TargetRuntime): Promise<StoredAttempt> {
    const probe = this.options.probe ?? probeTarget;
    const result = await probe(r.config, {
      network: this.options.network,
      ...(this.options.trustedRoots ? { trustedRoots: this.options.trustedRoots } : {}),
      ...(this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {}),
      now: this.now,
      cache: this.cache,
    });
    if (result.reason === 'ALL_CHECKS_PASSED' && result.document && this.options.evidenceHook) {
      try {
        const verdict = await this.options.evidenceHook(result.document, result);
        if (verdict) result.reason = verdict;
      } catch (error) {
        result.reason = 'INTERNAL_ERROR';
        result.observedAt = undefined;
        result.error = new EnclaveVerifyError(
          'ERR_IO',
          `evidence hook failed: ${(error as Error)?.message ?? error}`,
        );
      }
    }
    return this.record(r, result);
  }

  private async record(r: TargetRuntime, result: ProbeResult): Promise<StoredAttempt> {
    const reason: AttemptReason = result.reason;
    let own: CurrentEvidence | undefined;
    if (result.document && result.document.length > 0 && result.nonce.length === 32 && result.observedAt) {
      const { bundle, text } = await buildEvidenceBundle({
        targetId: r.config.id,
        document: result.document,
        nonce: result.nonce,
        observedAt: result.observedAt,
        manifest: (result.hasManifest ? result.manifest : null) as JsonValue,
      });
      own = {
        digest: bundle.evidence_digest,
        evidence: bundle,
        text,
        claims: claimsOf(r.config, bundle.evidence_digest, result),
        tls: result.tls,
      };
    } else if (isDefinitiveReason(reason)) {
      // A definitive verdict without decodable document bytes (MALFORMED_EVIDENCE).
      own = { digest: null, evidence: null, text: null, claims: null, tls: undefined };
    }
    const accepted = isDefinitiveReason(reason)
      ? r.state.record({ reason, observedAt: result.observedAt as Date })
      : r.state.record({ reason });
    if (accepted && isDefinitiveReason(reason)) r.current = own;
    r.counts.set(reason, (r.counts.get(reason) ?? 0) + 1);
    if (result.latencyMs !== null) r.lastLatencyMs = result.latencyMs;
    if (reason === 'ALL_CHECKS_PASSED') r.lastVerifiedAt = result.observedAt;
    r.lastError = result.error ? `${result.error.code}: ${result.error.message}` : undefined;
    const view = r.state.view(this.now());
    const statement = this.sign(r, view);
    const definitive = view.status === 'VERIFIED' || view.status === 'FAILED';
    // The history entry carries the evidence its statement names, so each entry verifies alone.
    const shown = definitive ? r.current : own;
    const saved = await this.store.append(r.config.id, (id) => ({
      observation: {
        id,
        target_id: r.config.id,
        attempted_at: result.attemptedAt.toISOString(),
        observed_at: result.observedAt ? canonicalSecondTime(result.observedAt) : null,
        status: view.status,
        reason: view.reason,
        attempt_reason: reason,
        latency_ms: result.latencyMs,
        evidence_digest: own?.digest ?? null,
        manifest_digest: own?.evidence?.manifest_digest ?? null,
        config_digest: this.configDigest,
        transport_warning: view.transportWarning,
      } satisfies Observation,
      statement,
      evidence: shown?.text ?? null,
      claims: shown?.claims ?? null,
    }));
    r.published = statement;
    if (reason !== 'ALL_CHECKS_PASSED') {
      this.options.log?.(
        `${r.config.id}: attempt ${saved.id} ${reason} -> ${view.status}${r.lastError ? ` (${r.lastError})` : ''}`,
      );
    }
    return saved;
  }

  /** `/status.json`. */
  status(): Record<string, unknown> {
    const targets: StatusTarget[] = this.targetIds.map((id) => {
      const r = this.runtime(id);
      const p = this.statement(id).payload;
      return {
        id,
        name: r.config.name,
        target_origin: r.origin,
        status: p.status,
        reason: p.reason,
        observed_at: p.observed_at,
        expires_at: p.expires_at,
        transport_warning: r.state.view(this.now()).transportWarning,
      };
    });
    return {
      protocol: CANARY_PROTOCOL,
      node_id: this.options.config.node_id,
      config_digest: this.configDigest,
      runtime: {
        environment: this.options.environment ?? 'non_enclave',
        binary_digest: this.options.binaryDigest,
        identity_mode: this.options.identityMode,
      },
      generated_at: this.now().toISOString(),
      targets,
    };
  }

  /** What the metrics and the status page show beyond the status. */
  details(id: string): {
    name: string;
    lastLatencyMs: number | undefined;
    lastVerifiedAt: Date | undefined;
    lastError: string | undefined;
    counts: Map<string, number>;
    url: string;
  } {
    const r = this.runtime(id);
    return {
      name: r.config.name,
      lastLatencyMs: r.lastLatencyMs,
      lastVerifiedAt: r.lastVerifiedAt,
      lastError: r.lastError,
      counts: r.counts,
      url: r.config.attestation_url,
    };
  }

  /** Scheduler figures for the metrics (undefined before {@link startSchedule}). */
  get schedule(): ProbeScheduler | undefined {
    return this.scheduler;
  }

  /** The clock the monitor uses. */
  time(): Date {
    return this.now();
  }

  /** Stop probing, wait for probes in flight, close the history. */
  async close(): Promise<void> {
    await this.scheduler?.stop();
    await Promise.all([...this.targets.values()].map((r) => r.inFlight?.catch(() => {})));
    await this.store.close();
  }
}

function claimsOf(target: CanaryTargetConfig, digest: string, result: ProbeResult): EvidenceClaims {
  const passed = result.authenticated && result.nonceVerified && result.observedPcrs !== null;
  const observed = result.observedPcrs;
  const expected = target.expected_pcrs;
  return {
    version: 1,
    target_id: target.id,
    evidence_digest: digest,
    authentication: {
      status: result.authenticated ? 'verified' : 'unavailable',
      nonce_status: result.nonceVerified ? 'verified' : 'unavailable',
    },
    observed_pcrs: passed ? observed : null,
    expected_pcrs: passed ? { ...expected } : null,
    pcr_matches:
      passed && observed
        ? {
            '0': observed['0'] === expected['0'],
            '1': observed['1'] === expected['1'],
            '2': observed['2'] === expected['2'],
          }
        : null,
  };
}
