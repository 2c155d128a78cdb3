/**
 * Recognise how a document was handed to us: raw CBOR, base64, hex, or the JSON an attestation
 * endpoint returns (`{"document": b64}`, older `{"attestation_document": b64}`).
 */
import { EnclaveVerifyError } from '../errors.js';
import { decodeUtf8, fromBase64, fromHex } from '../util/bytes.js';
import { MAX_INPUT_BYTES } from './limits.js';

/** Control characters that never occur in hex, base64 or JSON text (whitespace excluded). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control bytes is the point
const CONTROL_BYTES = /[\x00-\x08\x0e-\x1f\x7f]/;

/** The encodings {@link decodeDocumentInput} recognises. */
export type DocumentInputFormat = 'cbor' | 'base64' | 'hex' | 'json';

function formatError(message: string): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_INPUT_FORMAT',
    `${message}; give the document as raw CBOR, base64, hex, or endpoint JSON {"document": "<base64>"}`,
  );
}

/**
 * Like {@link decodeDocumentInput}, also saying which encoding was found.
 *
 * @example
 * ```ts
 * detectDocumentInput(new TextEncoder().encode('hEShATgi...')).format; // 'base64'
 * ```
 */
export function detectDocumentInput(input: Uint8Array): { bytes: Uint8Array; format: DocumentInputFormat } {
  if (input.length > MAX_INPUT_BYTES) {
    throw new EnclaveVerifyError(
      'ERR_INPUT_TOO_LARGE',
      `the input is ${input.length} bytes, more than the ${MAX_INPUT_BYTES} accepted; an attestation document is about 5 KB`,
    );
  }
  const first = input[0];
  // 0x84: array of 4 (untagged COSE_Sign1); 0xd2: tag 18. Neither is printable text.
  if (first === 0x84 || first === 0xd2) return { bytes: input, format: 'cbor' };
  const decoded = decodeUtf8(input);
  // Bytes that are not text can only be CBOR: hand them to the strict decoder, whose errors
  // (ERR_CBOR_MALFORMED, ERR_COSE_MALFORMED) say what is wrong far better than "unknown format".
  if (decoded === undefined || CONTROL_BYTES.test(decoded)) return { bytes: input, format: 'cbor' };
  const text = decoded.trim();
  if (text.length === 0) throw formatError('the input is empty');
  if (text.startsWith('{')) return { bytes: fromJson(text), format: 'json' };
  const compact = text.replace(/\s+/g, '');
  const hex = compact.startsWith('0x') ? compact.slice(2) : compact;
  if (/^[0-9a-fA-F]+$/.test(hex) && hex.length % 2 === 0)
    return { bytes: fromHex(hex, 'hex document'), format: 'hex' };
  if (/^[A-Za-z0-9+/_-]+=*$/.test(compact))
    return { bytes: fromBase64(compact, 'base64 document'), format: 'base64' };
  throw formatError('the input text is not hex, base64 or JSON');
}

function fromJson(text: string): Uint8Array {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw formatError('the input looks like JSON but does not parse');
  }
  const obj = value as Record<string, unknown> | null;
  const doc = obj && typeof obj === 'object' ? (obj.document ?? obj.attestation_document) : undefined;
  if (typeof doc !== 'string') {
    throw formatError('the JSON has no "document" or "attestation_document" string field');
  }
  return fromBase64(doc, 'JSON "document" field');
}

/**
 * Bytes of the COSE document inside `input`, whatever its encoding (raw CBOR, base64, hex, or
 * endpoint JSON). Only removes the encoding; decode with `decodeAttestation` or verify with
 * `verifyAttestation`.
 *
 * @example
 * ```ts
 * const bytes = decodeDocumentInput(await readFile('response.json'));
 * const result = await verifyAttestation(bytes, { nonce, expectedPcrs: { 0: pcr0Hex } });
 * ```
 */
export function decodeDocumentInput(input: Uint8Array): Uint8Array {
  return detectDocumentInput(input).bytes;
}
