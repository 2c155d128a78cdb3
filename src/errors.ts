/**
 * Typed errors with stable codes.
 *
 * Every failure the library reports is an {@link EnclaveVerifyError} whose `code` is one of
 * {@link ErrorCode}. Codes are part of the public API: callers switch on them, the CLI prints
 * them, the conformance vectors assert them. Messages may improve over time; codes do not change.
 *
 * Each code also belongs to a coarse {@link ErrorClass} so that other implementations running
 * our vector suite can be compared even when their own codes differ.
 */

/** Coarse family of an error, shared with other implementations through the vector suite. */
export type ErrorClass =
  | 'input' // the bytes given are not what they claim to be (format, encoding, size)
  | 'trust' // the certificate chain or signature does not hold
  | 'policy' // genuine evidence, but not what the caller expected
  | 'image' // an enclave image file or its parts are malformed
  | 'rebuild' // an archive or recipe input is malformed or unsafe
  | 'network' // talking to a deployment failed
  | 'canary' // a Caution Canary artifact (statement, evidence bundle, keys, config, node) is refused
  | 'usage'; // the caller asked for something that cannot be done

/** Stable error codes, grouped by the stage that raises them. */
export const ERROR_CODES = {
  // input / parse
  ERR_INPUT_FORMAT: 'input',
  ERR_INPUT_TOO_LARGE: 'input',
  ERR_CBOR_MALFORMED: 'input',
  ERR_COSE_MALFORMED: 'input',
  ERR_COSE_ALG: 'input',
  ERR_DOCUMENT_INVALID: 'input',
  ERR_EXPECTED_PCRS_FORMAT: 'input',
  // trust
  ERR_CHAIN_UNTRUSTED: 'trust',
  ERR_CHAIN_INVALID: 'trust',
  ERR_CERT_EXPIRED: 'trust',
  ERR_SIGNATURE_INVALID: 'trust',
  ERR_ROOT_PIN_MISMATCH: 'trust',
  // revocation (checkRevocation)
  ERR_CERT_REVOKED: 'trust',
  ERR_REVOCATION_UNAVAILABLE: 'trust',
  ERR_CRL_INVALID: 'trust',
  ERR_CRL_SIGNATURE: 'trust',
  ERR_CRL_OUTDATED: 'trust',
  // policy
  ERR_DEBUG_MODE: 'policy',
  ERR_PCR_MISMATCH: 'policy',
  ERR_NONCE_MISMATCH: 'policy',
  ERR_USER_DATA_MISMATCH: 'policy',
  ERR_PUBLIC_KEY_MISMATCH: 'policy',
  ERR_STALE: 'policy',
  ERR_FUTURE: 'policy',
  ERR_TLS_BINDING: 'policy',
  ERR_KIND_MISMATCH: 'policy',
  // enclave image files
  ERR_EIF_MAGIC: 'image',
  ERR_EIF_VERSION: 'image',
  ERR_EIF_TRUNCATED: 'image',
  ERR_EIF_LAYOUT: 'image',
  ERR_EIF_SECTION: 'image',
  ERR_EIF_CRC: 'image',
  ERR_EIF_METADATA: 'image',
  ERR_EIF_SIGNATURE: 'image',
  // rebuild
  ERR_ARCHIVE_MALFORMED: 'rebuild',
  ERR_ARCHIVE_UNSAFE: 'rebuild',
  ERR_RECIPE: 'rebuild',
  // deployment
  ERR_HTTP: 'network',
  ERR_HTTP_REDIRECT: 'network',
  ERR_TIMEOUT: 'network',
  ERR_RESPONSE_TOO_LARGE: 'network',
  ERR_RESPONSE_FORMAT: 'network',
  ERR_ENDPOINT_ERROR: 'network',
  // Caution Canary artifacts (src/canary)
  ERR_CANARY_JSON: 'canary',
  ERR_CANARY_CONFIG: 'canary',
  ERR_CANARY_KEYS: 'canary',
  ERR_CANARY_KEY_MISMATCH: 'canary',
  ERR_CANARY_STATEMENT: 'canary',
  ERR_CANARY_SIGNATURE: 'canary',
  ERR_CANARY_EXPIRED: 'canary',
  ERR_CANARY_FUTURE: 'canary',
  ERR_CANARY_EVIDENCE: 'canary',
  ERR_CANARY_METADATA: 'canary',
  ERR_CANARY_MISMATCH: 'canary',
  ERR_CANARY_NOT_VERIFIED: 'canary',
  // usage
  ERR_USAGE: 'usage',
  ERR_IO: 'usage',
} as const satisfies Record<string, ErrorClass>;

/** Union of every stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The one error type the library throws on purpose.
 *
 * @example
 * ```ts
 * try {
 *   await verifyAttestation(bytes, { nonce, expectedPcrs });
 * } catch (e) {
 *   if (e instanceof EnclaveVerifyError && e.code === 'ERR_NONCE_MISMATCH') retry();
 *   else throw e;
 * }
 * ```
 */
export class EnclaveVerifyError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Coarse family of {@link code}. */
  readonly errorClass: ErrorClass;
  /** Optional structured details (field name, expected and actual values, offsets...). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EnclaveVerifyError';
    this.code = code;
    this.errorClass = ERROR_CODES[code];
    this.details = options.details;
  }

  /** A plain object for JSON output: `{ code, class, message, details? }`. */
  toJSON(): { code: ErrorCode; class: ErrorClass; message: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      class: this.errorClass,
      message: this.message,
      ...(this.details ? { details: { ...this.details } } : {}),
    };
  }
}

/**
 * True when `e` is an {@link EnclaveVerifyError}, optionally with one of the given codes.
 *
 * @example
 * ```ts
 * if (isEnclaveVerifyError(e, 'ERR_STALE', 'ERR_FUTURE')) console.log('clock problem');
 * ```
 */
export function isEnclaveVerifyError(e: unknown, ...codes: ErrorCode[]): e is EnclaveVerifyError {
  return e instanceof EnclaveVerifyError && (codes.length === 0 || codes.includes(e.code));
}
