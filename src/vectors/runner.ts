/**
 * Runs vector cases through an executor (this library, or another implementation's CLI) and
 * judges each outcome against the case's expectation. Runtime-agnostic: executors do the I/O.
 */

import type { ErrorClass, ErrorCode } from '../errors.js';
import { ERROR_CODES } from '../errors.js';
import type { Expectation, VectorCase } from './format.js';
import { globToRegExp } from './format.js';

/** What an implementation did with a case. */
export type Outcome =
  | {
      result: 'accept';
      /** PCR index (decimal) -> lowercase hex, when the implementation reports PCRs. */
      pcrs?: Record<string, string>;
      /** Attestation: `enclave` or `nitrotpm`, when the implementation reports it. */
      documentKind?: string;
      describe?: Record<string, unknown>;
      cpioSha256?: string;
      gzipSha256?: string;
      entries?: number;
      cpioSize?: number;
    }
  | { result: 'reject'; code?: string; class?: string; message?: string }
  /** The implementation crashed, hung or answered something that cannot be interpreted. */
  | { result: 'error'; message: string }
  /** The case cannot run here (data absent, kind not supported by this executor). */
  | { result: 'skip'; reason: string };

/** Runs one case. Must not throw: failures are outcomes. */
export type Executor = (c: VectorCase) => Promise<Outcome>;

/**
 * How strictly a rejection is compared: `code` (the exact error code), `class` (the coarse
 * error class, for implementations with other codes) or `outcome` (reject is enough).
 */
export type MatchLevel = 'code' | 'class' | 'outcome';

/** Verdict on one case. */
export interface CaseResult {
  id: string;
  kind: VectorCase['kind'];
  status: 'pass' | 'fail' | 'skip';
  expected: Expectation;
  actual: Outcome;
  /** Why it failed or was skipped. */
  message?: string;
  /** Wall time of the executor, milliseconds. */
  ms: number;
}

/** Totals and per-case verdicts of a run. */
export interface SuiteReport {
  passed: number;
  failed: number;
  skipped: number;
  results: CaseResult[];
}

/** Options of {@link judge} and {@link runCases}. */
export interface JudgeOptions {
  /** Default `code`. */
  match?: MatchLevel;
  /**
   * When true (this library), an accept outcome must report every output the case expects
   * (PCRs, describe data, archive digests). When false (foreign CLIs), outputs are compared only
   * when reported.
   */
  requireOutputs?: boolean;
}

function deepSubset(expected: unknown, actual: unknown): boolean {
  if (expected === null || typeof expected !== 'object') return Object.is(expected, actual);
  if (actual === null || typeof actual !== 'object') return false;
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      expected.length === actual.length &&
      expected.every((v, i) => deepSubset(v, (actual as unknown[])[i]))
    );
  }
  const a = actual as Record<string, unknown>;
  return Object.entries(expected as Record<string, unknown>).every(([k, v]) => deepSubset(v, a[k]));
}

function describeOutcome(o: Outcome): string {
  switch (o.result) {
    case 'accept':
      return 'accept';
    case 'reject':
      return `reject ${o.code ?? o.class ?? '(no code)'}${o.message ? ` (${o.message})` : ''}`;
    case 'error':
      return `error: ${o.message}`;
    case 'skip':
      return `skip: ${o.reason}`;
  }
}

/**
 * Compare an outcome with a case's expectation.
 *
 * @example
 * ```ts
 * judge({ result: 'reject', code: 'ERR_PCR_MISMATCH', class: 'policy' }, { result: 'reject', code: 'ERR_STALE' });
 * // { status: 'fail', message: 'expected reject ERR_PCR_MISMATCH, got reject ERR_STALE' }
 * ```
 */
export function judge(
  expected: Expectation,
  actual: Outcome,
  options: JudgeOptions = {},
): { status: CaseResult['status']; message?: string } {
  const match = options.match ?? 'code';
  const want = expected.result === 'accept' ? 'accept' : `reject ${expected.code} (${expected.class})`;
  if (actual.result === 'skip') return { status: 'skip', message: actual.reason };
  const fail = (why?: string) => ({
    status: 'fail' as const,
    message: `expected ${want}, got ${describeOutcome(actual)}${why ? `: ${why}` : ''}`,
  });
  if (actual.result === 'error') return fail();
  if (expected.result === 'reject') {
    if (actual.result !== 'reject') return fail();
    if (match === 'outcome') return { status: 'pass' };
    if (match === 'class') {
      const cls =
        actual.class ??
        (actual.code !== undefined && Object.hasOwn(ERROR_CODES, actual.code)
          ? ERROR_CODES[actual.code as ErrorCode]
          : undefined);
      return cls === expected.class ? { status: 'pass' } : fail(`class ${cls ?? '(none)'}`);
    }
    return actual.code === expected.code ? { status: 'pass' } : fail();
  }
  if (actual.result !== 'accept') return fail();
  const strict = options.requireOutputs ?? true;
  if (expected.pcrs) {
    if (!actual.pcrs) {
      if (strict) return fail('no PCRs reported');
    } else {
      for (const [i, v] of Object.entries(expected.pcrs)) {
        const got = actual.pcrs[i];
        if (got?.toLowerCase() !== v) return fail(`PCR${i} is ${got ?? '(absent)'}, expected ${v}`);
      }
    }
  }
  if (expected.documentKind) {
    if (!actual.documentKind) {
      if (strict) return fail('no document kind reported');
    } else if (actual.documentKind !== expected.documentKind)
      return fail(`document kind is ${actual.documentKind}, expected ${expected.documentKind}`);
  }
  if (expected.describe) {
    if (!actual.describe) {
      if (strict) return fail('no describe data reported');
    } else if (!deepSubset(expected.describe, actual.describe)) {
      return fail(`describe data differs: got ${JSON.stringify(actual.describe)}`);
    }
  }
  for (const k of ['cpioSha256', 'gzipSha256', 'entries', 'cpioSize'] as const) {
    if (expected[k] === undefined) continue;
    if (actual[k] === undefined) {
      if (strict) return fail(`no ${k} reported`);
    } else if (actual[k] !== expected[k]) return fail(`${k} is ${actual[k]}, expected ${expected[k]}`);
  }
  return { status: 'pass' };
}

/** Options of {@link runCases}. */
export interface RunOptions extends JudgeOptions {
  /** Globs over case ids (see `globToRegExp`); a case runs when any matches. Default: all. */
  only?: string[];
  /** Cases run concurrently. Default 1. */
  jobs?: number;
  /** Called after each case, in completion order (progress output). */
  onResult?: (r: CaseResult) => void;
  /** Clock for `ms` (default `performance.now`). */
  now?: () => number;
}

/**
 * Run `cases` through `execute` and judge each. Results come back in case order.
 *
 * @example
 * ```ts
 * const report = await runCases(cases, libraryExecutor(io), { only: ['attestation/**'] });
 * console.log(`${report.passed} passed, ${report.failed} failed`);
 * ```
 */
export async function runCases(
  cases: readonly VectorCase[],
  execute: Executor,
  options: RunOptions = {},
): Promise<SuiteReport> {
  const patterns = (options.only ?? []).map(globToRegExp);
  const selected = patterns.length === 0 ? cases : cases.filter((c) => patterns.some((p) => p.test(c.id)));
  const now = options.now ?? (() => performance.now());
  const results: CaseResult[] = new Array(selected.length);
  let next = 0;
  const worker = async () => {
    while (next < selected.length) {
      const index = next++;
      const c = selected[index]!;
      const t0 = now();
      let actual: Outcome;
      try {
        actual = await execute(c);
      } catch (e) {
        // Executors should not throw; if one does, the case fails rather than the whole run.
        actual = { result: 'error', message: `executor threw: ${(e as Error)?.message ?? String(e)}` };
      }
      const ms = now() - t0;
      const verdict = judge(c.expect, actual, options);
      const r: CaseResult = {
        id: c.id,
        kind: c.kind,
        status: verdict.status,
        expected: c.expect,
        actual,
        ms,
      };
      if (verdict.message !== undefined) r.message = verdict.message;
      results[index] = r;
      options.onResult?.(r);
    }
  };
  const jobs = Math.max(1, Math.min(options.jobs ?? 1, selected.length || 1));
  await Promise.all(Array.from({ length: jobs }, worker));
  const count = (s: CaseResult['status']) => results.filter((r) => r.status === s).length;
  return { passed: count('pass'), failed: count('fail'), skipped: count('skip'), results };
}

/**
 * The one-line summary the CLI prints: `N passed, M failed` (plus skipped when any).
 *
 * @example
 * ```ts
 * summaryLine({ passed: 3, failed: 0, skipped: 1, results: [] }); // '3 passed, 0 failed, 1 skipped'
 * ```
 */
export function summaryLine(report: Pick<SuiteReport, 'passed' | 'failed' | 'skipped'>): string {
  return `${report.passed} passed, ${report.failed} failed${report.skipped ? `, ${report.skipped} skipped` : ''}`;
}

/** Class of one of our codes, or undefined for a foreign code. @example classOf('ERR_STALE') // 'policy' */
export function classOf(code: string | undefined): ErrorClass | undefined {
  return code !== undefined && Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as ErrorCode] : undefined;
}
