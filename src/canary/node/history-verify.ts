/**
 * Offline re-verification of a monitor's stored history (`canary verify-history DIR`): every
 * statement against pinned keys at its own `issued_at`, every evidence bundle parsed and
 * replayed against expected PCRs given by the user (never taken from the bundle), and each
 * attempt's parts checked against each other. Files are read line by line, so memory stays
 * bounded whatever the history's size.
 */
import { createReadStream } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EnclaveVerifyError, isEnclaveVerifyError } from '../../errors.js';
import type { ExpectedPcrsInput } from '../../policy/expected-pcrs.js';
import { ChainCache } from '../../trust/cache.js';
import type { TrustedRootInput } from '../../trust/roots.js';
import { parseEvidenceBundle, replayEvidence } from '../evidence.js';
import type { Observation } from '../observation.js';
import { type StatementEnvelope, verifyStatement } from '../statement.js';

/** Options of {@link verifyHistory}. */
export interface VerifyHistoryOptions {
  /** Pinned `/keys.json` bytes; a statement passes if it verifies with one of them. */
  trustedKeys: Uint8Array[];
  /** Expected PCR0/1/2 of a target; `undefined` makes its evidence a problem (nothing to judge it by). */
  expectedFor: (targetId: string) => ExpectedPcrsInput | undefined;
  /** The config digest every statement must carry, when the config is known. */
  configDigest?: string;
  roots?: readonly TrustedRootInput[];
  /** Problems listed per target (all are counted). Default 20. */
  maxListed?: number;
}

/** What was found for one target. */
export interface TargetHistoryReport {
  target: string;
  attempts: number;
  statementsVerified: number;
  evidenceReplayed: number;
  /** Bytes of a torn last line, ignored as the monitor ignores them. */
  tornBytes: number;
  problemCount: number;
  problems: string[];
}

/** The result of {@link verifyHistory}. */
export interface HistoryReport {
  ok: boolean;
  targets: TargetHistoryReport[];
}

async function endsWithNewline(path: string): Promise<{ size: number; tornBytes: number }> {
  const h = await open(path, 'r');
  try {
    const { size } = await h.stat();
    if (size === 0) return { size, tornBytes: 0 };
    // Find the last newline from the end, in small steps.
    let pos = size;
    const buf = Buffer.alloc(4096);
    while (pos > 0) {
      const len = Math.min(buf.length, pos);
      pos -= len;
      await h.read(buf, 0, len, pos);
      const i = buf.subarray(0, len).lastIndexOf(0x0a);
      if (i >= 0) return { size, tornBytes: size - (pos + i + 1) };
    }
    return { size, tornBytes: size };
  } finally {
    await h.close();
  }
}

/**
 * Re-verify every stored attempt under `dir/history/`.
 *
 * @example
 * ```ts
 * const report = await verifyHistory('canary-data', { trustedKeys: [pin], expectedFor: () => pcrs });
 * report.ok; // true when every statement and bundle holds
 * ```
 */
export async function verifyHistory(dir: string, options: VerifyHistoryOptions): Promise<HistoryReport> {
  if (options.trustedKeys.length === 0) {
    throw new EnclaveVerifyError('ERR_USAGE', 'give at least one pinned keys file (--trusted-keys)');
  }
  const historyDir = join(dir, 'history');
  let names: string[];
  try {
    names = (await readdir(historyDir)).filter((n) => /^[A-Za-z0-9_-]+\.jsonl$/.test(n)).sort();
  } catch (cause) {
    throw new EnclaveVerifyError(
      'ERR_IO',
      `cannot read ${historyDir}: ${(cause as Error).message}; give the --data directory of a canary watch`,
      { cause },
    );
  }
  if (names.length === 0) {
    throw new EnclaveVerifyError('ERR_INPUT_FORMAT', `${historyDir} holds no history (*.jsonl) to verify`);
  }
  const cache = new ChainCache({ maxCertificates: 256 });
  const targets: TargetHistoryReport[] = [];
  for (const name of names) {
    targets.push(await verifyTarget(join(historyDir, name), name.replace(/\.jsonl$/, ''), options, cache));
  }
  return { ok: targets.every((t) => t.problemCount === 0 && t.attempts > 0), targets };
}

async function verifyTarget(
  path: string,
  target: string,
  options: VerifyHistoryOptions,
  cache: ChainCache,
): Promise<TargetHistoryReport> {
  const report: TargetHistoryReport = {
    target,
    attempts: 0,
    statementsVerified: 0,
    evidenceReplayed: 0,
    tornBytes: 0,
    problemCount: 0,
    problems: [],
  };
  const maxListed = options.maxListed ?? 20;
  const problem = (text: string): void => {
    report.problemCount++;
    if (report.problems.length < maxListed) report.problems.push(text);
  };
  const { tornBytes } = await endsWithNewline(path);
  report.tornBytes = tornBytes;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  // One line behind: the last line is checked only when it is complete (a torn tail is what a
  // crash mid-append leaves, and the monitor drops it too).
  let held: string | undefined;
  let lineNo = 0;
  for await (const line of lines) {
    if (held !== undefined) await checkLine(held, lineNo, target, options, cache, report, problem);
    held = line;
    lineNo++;
  }
  if (held !== undefined && tornBytes === 0)
    await checkLine(held, lineNo, target, options, cache, report, problem);
  return report;
}

async function checkLine(
  line: string,
  lineNo: number,
  target: string,
  options: VerifyHistoryOptions,
  cache: ChainCache,
  report: TargetHistoryReport,
  problem: (text: string) => void,
): Promise<void> {
  let record: { id: number; observation: Observation; statement: StatementEnvelope; evidence: string | null };
  try {
    record = JSON.parse(line);
    if (typeof record !== 'object' || record === null || !Number.isSafeInteger(record.id))
      throw new Error('shape');
  } catch {
    problem(`line ${lineNo}: unreadable record`);
    return;
  }
  report.attempts++;
  const at = `attempt ${record.id}`;
  const st = record.statement;
  const obs = record.observation;
  if (obs?.id !== record.id || obs?.target_id !== target)
    problem(`${at}: the observation names another attempt or target`);
  // 1. The statement, at its own issued_at, with one of the pinned key sets.
  let verified = false;
  let lastError = '';
  const issued = new Date(Date.parse(st?.payload?.issued_at ?? ''));
  for (const keys of options.trustedKeys) {
    try {
      await verifyStatement(st, keys, { now: Number.isNaN(issued.getTime()) ? new Date(0) : issued });
      verified = true;
      break;
    } catch (error) {
      lastError = isEnclaveVerifyError(error) ? `${error.code}: ${error.message}` : String(error);
    }
  }
  if (!verified) {
    problem(`${at}: statement does not verify: ${lastError}`);
    return;
  }
  report.statementsVerified++;
  const p = st.payload;
  if (p.target_id !== target) problem(`${at}: statement is about target '${p.target_id}'`);
  if (options.configDigest && p.config_digest !== options.configDigest) {
    problem(
      `${at}: statement carries config_digest ${p.config_digest}, not the given config's ${options.configDigest}`,
    );
  }
  if (obs.status !== p.status || obs.reason !== p.reason) {
    problem(`${at}: observation says ${obs.status}/${obs.reason} but the statement ${p.status}/${p.reason}`);
  }
  // 2. The evidence the statement names (or the attempt's own), replayed at its observed_at.
  if (p.evidence_digest && typeof record.evidence !== 'string') {
    problem(`${at}: the statement names evidence ${p.evidence_digest} but none is stored`);
    return;
  }
  if (typeof record.evidence !== 'string') return;
  const expected = options.expectedFor(target);
  if (!expected) {
    problem(`${at}: no expected PCRs for target '${target}': its evidence cannot be judged`);
    return;
  }
  try {
    const parsed = await parseEvidenceBundle(record.evidence);
    const b = parsed.bundle;
    if (b.target_id !== target) problem(`${at}: evidence is about target '${b.target_id}'`);
    const replay = await replayEvidence(parsed, {
      expectedPcrs: expected,
      ...(options.roots ? { roots: options.roots } : {}),
      cache,
    });
    report.evidenceReplayed++;
    if (p.evidence_digest) {
      if (b.evidence_digest !== p.evidence_digest || b.observed_at !== p.observed_at) {
        problem(
          `${at}: evidence ${b.evidence_digest} at ${b.observed_at} is not the one the statement names`,
        );
      }
      const signed = p.reason;
      const agrees =
        replay.reason === signed ||
        (signed === 'TLS_BINDING_MISMATCH' && replay.reason === 'ALL_CHECKS_PASSED');
      if (!agrees)
        problem(`${at}: the statement says ${signed} but the evidence replays as ${replay.reason}`);
    } else if (obs.evidence_digest && obs.evidence_digest !== b.evidence_digest) {
      problem(`${at}: stored evidence ${b.evidence_digest} is not the attempt's ${obs.evidence_digest}`);
    }
  } catch (error) {
    problem(
      `${at}: evidence unreadable: ${isEnclaveVerifyError(error) ? `${error.code}: ${error.message}` : String(error)}`,
    );
  }
}
