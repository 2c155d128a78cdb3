/**
 * Policy checks run after the chain and signature hold (SPEC 1.4): the evidence is genuine, but
 * is it the enclave, the session and the moment the caller expects? Each check is a pure function
 * returning a {@link VerificationCheck}; the verifier throws on the first failure.
 */
import type { ErrorCode } from '../errors.js';
import type { AttestationDocument } from '../parse/payload.js';
import { bytesEqual, toHex } from '../util/bytes.js';
import type { ExpectedPcrs } from './expected-pcrs.js';

/** One named check and its outcome. Failed checks carry the error code they raise. */
export interface VerificationCheck {
  /** Stable name, e.g. `chain.validity`, `signature`, `pcrs`, `nonce`. */
  name: string;
  ok: boolean;
  /** What was checked and found, in one line. */
  detail: string;
  /** Error code when `ok` is false. */
  code?: ErrorCode;
  /** Not failed, but not fully done either (e.g. a CRL unavailable): reports show it, never as passed. */
  incomplete?: boolean;
}

/** One row of the PCR table: the document's value next to the allowed ones. */
export interface PcrComparison {
  index: number;
  /** Value in the document (lowercase hex), absent when the document lacks this index. */
  actual?: string;
  /** Allowed values (lowercase hex); empty when nothing was expected at this index. */
  expected: string[];
  /** Whether `actual` is one of `expected`; undefined when nothing was expected. */
  match?: boolean;
}

function pass(name: string, detail: string): VerificationCheck {
  return { name, ok: true, detail };
}

function fail(name: string, code: ErrorCode, detail: string): VerificationCheck {
  return { name, ok: false, detail, code };
}

const isZero = (b: Uint8Array | undefined): boolean => b?.every((x) => x === 0) === true;

/**
 * True when the document comes from an enclave in debug mode (any of PCR0..2 all zeros, which is
 * how the NSM reports debug enclaves; Caution's verifier uses the same rule).
 *
 * @example
 * ```ts
 * if (isDebugDocument(doc)) console.warn('debug enclave: its memory is readable by the host');
 * ```
 */
export function isDebugDocument(doc: AttestationDocument): boolean {
  return [0, 1, 2].some((i) => isZero(doc.pcrs.get(i)));
}

/**
 * Debug-mode check: refused unless `allowDebug`.
 *
 * @example
 * ```ts
 * checkDebugMode(doc, false).ok;
 * ```
 */
export function checkDebugMode(doc: AttestationDocument, allowDebug: boolean): VerificationCheck {
  if (!isDebugDocument(doc)) return pass('debug', 'production enclave (PCR0..2 are not zero)');
  if (allowDebug)
    return pass('debug', 'DEBUG enclave (PCR0..2 zero) accepted because debug mode was allowed');
  return fail(
    'debug',
    'ERR_DEBUG_MODE',
    'the enclave runs in debug mode (all-zero PCR0..2): its memory and console are open to the host, so its attestation proves nothing about the code. Allow it only for development (--allow-debug)',
  );
}

/**
 * Rows comparing every PCR of the document (and every expected index) with the expectation.
 *
 * @example
 * ```ts
 * comparePcrs(doc, new Map([[0, [pcr0]]])).find((r) => r.index === 0)?.match; // true
 * ```
 */
export function comparePcrs(doc: AttestationDocument, expected: ExpectedPcrs | undefined): PcrComparison[] {
  const indexes = new Set([...doc.pcrs.keys(), ...(expected?.keys() ?? [])]);
  return [...indexes]
    .sort((a, b) => a - b)
    .map((index) => {
      const actual = doc.pcrs.get(index);
      const allowed = expected?.get(index);
      const row: PcrComparison = { index, expected: allowed?.map(toHex) ?? [] };
      if (actual) row.actual = toHex(actual);
      if (allowed) row.match = actual !== undefined && allowed.some((v) => bytesEqual(v, actual));
      return row;
    });
}

/**
 * PCR check over the comparison rows.
 *
 * @example
 * ```ts
 * checkPcrs(comparePcrs(doc, expected));
 * ```
 */
export function checkPcrs(rows: readonly PcrComparison[]): VerificationCheck {
  const checked = rows.filter((r) => r.match !== undefined);
  const bad = checked.filter((r) => !r.match);
  if (bad.length === 0)
    return pass('pcrs', `PCR ${checked.map((r) => r.index).join(', ')} match the expected values`);
  const names = bad
    .map((r) => (r.actual === undefined ? `PCR${r.index} (absent)` : `PCR${r.index}`))
    .join(', ');
  return fail(
    'pcrs',
    'ERR_PCR_MISMATCH',
    `${names} ${bad.length === 1 ? 'differs' : 'differ'} from the expected values: the enclave does not run the expected image (compare the PCR table; rebuild or update the expectation)`,
  );
}

/**
 * Equality check of an optional field against an expected value.
 *
 * @example
 * ```ts
 * checkField('nonce', doc.nonce, myNonce, 'ERR_NONCE_MISMATCH');
 * ```
 */
export function checkField(
  name: 'nonce' | 'user_data' | 'public_key',
  actual: Uint8Array | undefined,
  expected: Uint8Array,
  code: ErrorCode,
): VerificationCheck {
  if (actual !== undefined && bytesEqual(actual, expected))
    return pass(name, `${name} equals the expected ${expected.length} bytes`);
  const hint =
    name === 'nonce'
      ? 'the document was not produced for this request (replayed or for another client); request a fresh one'
      : 'the enclave did not bind the expected value';
  return fail(
    name,
    code,
    `${name} ${actual === undefined ? 'is absent from the document' : `(${actual.length} bytes) differs from the expected value`}: ${hint}`,
  );
}

/** Seconds for a message, with milliseconds when they matter (30 s, 30.001 s). */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * Freshness: the document must not be dated after `atMs` by more than `clockSkewMs` and, when
 * `maxAgeMs` is set, must be at most `maxAgeMs` old at `atMs` (bounds inclusive). The skew only
 * excuses a document from the future; it never widens the age limit: `--max-age 30s` means 30 s.
 *
 * @example
 * ```ts
 * checkFreshness(doc, Date.now(), 5 * 60_000, 60_000);
 * ```
 */
export function checkFreshness(
  doc: AttestationDocument,
  atMs: number,
  maxAgeMs: number | undefined,
  clockSkewMs: number,
): VerificationCheck {
  const age = atMs - doc.timestampMs;
  if (-age > clockSkewMs) {
    return fail(
      'freshness',
      'ERR_FUTURE',
      `the document is dated ${doc.timestamp.toISOString()}, ${seconds(-age)} after the verification time: check the clocks (allowed skew ${seconds(clockSkewMs)})`,
    );
  }
  if (maxAgeMs !== undefined && age > maxAgeMs) {
    return fail(
      'freshness',
      'ERR_STALE',
      `the document is ${seconds(age)} old, more than the allowed ${seconds(maxAgeMs)}: request a fresh one`,
    );
  }
  return pass(
    'freshness',
    maxAgeMs === undefined
      ? `dated ${doc.timestamp.toISOString()}, not in the future`
      : age < 0
        ? `dated ${seconds(-age)} after the verification time, within the clock skew of ${seconds(clockSkewMs)}; at most ${seconds(maxAgeMs)} old allowed`
        : `${seconds(age)} old, within ${seconds(maxAgeMs)}`,
  );
}
