/**
 * Policy checks run after the chain and signature hold (SPEC 1.4): the evidence is genuine, but
 * is it the enclave, the session and the moment the caller expects? Each check is a pure function
 * returning a {@link VerificationCheck}; the verifier throws on the first failure.
 */
import type { ErrorCode } from '../errors.js';
import type { AttestationDocument, AttestationKind } from '../parse/payload.js';
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
  /**
   * NitroTPM documents only: the PCR still holds a reset value (all 0x00, or all 0xff for the
   * dynamic-launch PCRs 17..22), so nothing was measured into it. An expectation naming such a
   * PCR is a mismatch even when it lists that very value (see {@link comparePcrs}).
   */
  unmeasured?: true;
}

function pass(name: string, detail: string): VerificationCheck {
  return { name, ok: true, detail };
}

function fail(name: string, code: ErrorCode, detail: string): VerificationCheck {
  return { name, ok: false, detail, code };
}

const isZero = (b: Uint8Array | undefined): boolean => b?.every((x) => x === 0) === true;
const isResetValue = (b: Uint8Array): boolean => b.every((x) => x === 0) || b.every((x) => x === 0xff);

/**
 * True when the document comes from an enclave in debug mode (any of PCR0..2 all zeros, which is
 * how the NSM reports debug enclaves; Caution's verifier uses the same rule). NitroTPM documents
 * have no debug mode (their PCR0..2 are firmware measurements), so this is false for them.
 *
 * @example
 * ```ts
 * if (isDebugDocument(doc)) console.warn('debug enclave: its memory is readable by the host');
 * ```
 */
export function isDebugDocument(doc: AttestationDocument): boolean {
  if (doc.kind !== 'enclave') return false;
  return [0, 1, 2].some((i) => isZero(doc.pcrs.get(i)));
}

/** Human name of a document kind, for reports. */
export const KIND_TEXT: Readonly<Record<AttestationKind, string>> = {
  enclave: 'Nitro Enclave (payload field pcrs)',
  nitrotpm: 'EC2 instance NitroTPM (payload field nitrotpm_pcrs, TPM PCRs)',
};

/**
 * Kind check: the document must be of the kind the caller requires (`verify --kind`; the
 * deployment client always requires `enclave`, since only an enclave serves that protocol).
 *
 * @example
 * ```ts
 * checkKind(doc, 'enclave').ok; // false for a NitroTPM document
 * ```
 */
export function checkKind(doc: AttestationDocument, required: AttestationKind): VerificationCheck {
  if (doc.kind === required) return pass('kind', `${doc.kind}: ${KIND_TEXT[doc.kind]}, as required`);
  return fail(
    'kind',
    'ERR_KIND_MISMATCH',
    `the document is a ${doc.kind} document (${KIND_TEXT[doc.kind]}), but ${required === 'enclave' ? 'an' : 'a'} ${required} document was required: it attests ${doc.kind === 'nitrotpm' ? "an EC2 instance's boot chain, not an enclave" : 'an enclave, not an EC2 instance'}; check that you asked the right machine`,
  );
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
  if (doc.kind === 'nitrotpm') {
    // The enclave rule would misfire here (TPM PCR0..2 are firmware measurements). What protects
    // TPM documents instead is the unmeasured-PCR rule of comparePcrs.
    return pass(
      'debug',
      'NitroTPM document: no debug mode exists (the PCR0..2 rule is for enclaves); an expected PCR still at its reset value (all 00 or all ff) is a mismatch',
    );
  }
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
 * For NitroTPM documents, a PCR still at its reset value (all 0x00; all 0xff for 17..22) records
 * that nothing was measured, which every instance can show: an expectation naming it is a
 * mismatch even when it lists that value, so an expectation can never pass on nothing. (Enclave
 * documents have the debug rule on PCR0..2 instead, and their zero PCR3/4/8 are legitimate
 * "no IAM role / unsigned" values that published PCR files list.)
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
      const unmeasured = doc.kind === 'nitrotpm' && actual !== undefined && isResetValue(actual);
      if (unmeasured) row.unmeasured = true;
      if (allowed)
        row.match = actual !== undefined && !unmeasured && allowed.some((v) => bytesEqual(v, actual));
      return row;
    });
}

/**
 * PCR check over the comparison rows.
 *
 * @example
 * ```ts
 * checkPcrs(comparePcrs(doc, expected), doc.kind);
 * ```
 */
export function checkPcrs(
  rows: readonly PcrComparison[],
  kind: AttestationKind = 'enclave',
): VerificationCheck {
  const checked = rows.filter((r) => r.match !== undefined);
  const bad = checked.filter((r) => !r.match);
  if (bad.length === 0)
    return pass('pcrs', `PCR ${checked.map((r) => r.index).join(', ')} match the expected values`);
  const names = bad
    .map((r) =>
      r.actual === undefined
        ? `PCR${r.index} (absent)`
        : r.unmeasured
          ? `PCR${r.index} (${/^0+$/.test(r.actual) ? 'all zero' : 'all ff'}: nothing measured, so it cannot confirm any expectation)`
          : `PCR${r.index}`,
    )
    .join(', ');
  return fail(
    'pcrs',
    'ERR_PCR_MISMATCH',
    `${names} ${bad.length === 1 ? 'differs' : 'differ'} from the expected values: ${kind === 'nitrotpm' ? 'the instance did not boot the expected software (compare the PCR table with the values of the AMI build, e.g. from nitro-tpm-pcr-compute)' : 'the enclave does not run the expected image (compare the PCR table; rebuild or update the expectation)'}`,
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
