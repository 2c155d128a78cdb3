/**
 * The catalogue of synthetic attestation cases: one forged document per rule of SPEC 1.1-1.4, valid
 * and invalid, each with the options to verify it and the outcome expected. The same catalogue
 * feeds the unit tests and `scripts/gen-test-pki.mjs`, which writes it to `vectors/attestation/`.
 */
import type { ErrorCode } from '../errors.js';
import { fromHex, toHex } from '../util/bytes.js';
import { CborEntries, CborIndefiniteArray, CborRaw, type Encodable } from '../util/cbor-encode.js';
import type { VerifyOptions } from '../verify.js';
import {
  type AttestationFields,
  type AttestationKnobs,
  issueAttestation,
  testPcrs,
  testTpmPcrs,
} from './attestation.js';
import { type CertificateKnobs, createTestPki, PKI_LEVELS, type PkiLevel, type TestPki } from './pki.js';

/** How to verify a case, in JSON-friendly form (hex for bytes, ISO text for times). */
export interface CaseOptions {
  /** Verification time: `"document"` (the document's timestamp) or an ISO 8601 instant. */
  at: string;
  /** Expected nonce / user data / public key, lowercase hex. */
  nonce?: string;
  userData?: string;
  publicKey?: string;
  /** Allowed PCR values: index to list of lowercase hex. */
  expectedPcrs?: Record<string, string[]>;
  allowDebug?: boolean;
  maxAgeMs?: number;
  /** Require this kind of document (`VerifyOptions.kind`). */
  documentKind?: 'enclave' | 'nitrotpm';
}

/** One case: a document, how to verify it, and the expected outcome. */
export interface AttestationCase {
  /** File-name-safe id, e.g. `chain-pathlen-exceeded`. */
  id: string;
  /** Which stage the rule belongs to. */
  group: 'valid' | 'input' | 'cbor' | 'envelope' | 'payload' | 'chain' | 'policy';
  /** The rule exercised, with its SPEC section. */
  rule: string;
  /** `ok`, or the error code `verifyAttestation` must throw. */
  expect: 'ok' | ErrorCode;
  options: CaseOptions;
  bytes: Uint8Array;
}

/** The catalogue: the test root every case is verified against, and the cases. */
export interface AttestationCaseSet {
  /** PEM of the trusted test root (NOT an AWS certificate). */
  rootPem: string;
  /** Time the documents were issued at. */
  issuedAt: Date;
  cases: AttestationCase[];
}

/**
 * Turn a case's JSON options into `verifyAttestation` options (trusting `rootPem` only).
 *
 * @example
 * ```ts
 * await verifyAttestation(c.bytes, caseVerifyOptions(c.options, set.rootPem));
 * ```
 */
export function caseVerifyOptions(o: CaseOptions, rootPem: string): VerifyOptions {
  const out: VerifyOptions = {
    trustedRoots: [rootPem],
    currentDate: o.at === 'document' ? 'document' : new Date(o.at),
  };
  if (o.nonce !== undefined) out.nonce = fromHex(o.nonce);
  if (o.userData !== undefined) out.userData = fromHex(o.userData);
  if (o.publicKey !== undefined) out.publicKey = fromHex(o.publicKey);
  if (o.expectedPcrs) out.expectedPcrs = o.expectedPcrs;
  if (o.allowDebug) out.allowDebug = true;
  if (o.maxAgeMs !== undefined) out.maxAgeMs = o.maxAgeMs;
  if (o.documentKind !== undefined) out.kind = o.documentKind;
  return out;
}

type Entries = Array<[Encodable, Encodable]>;
const setField =
  (key: string, value: Encodable) =>
  (e: Entries): Entries =>
    e.map(([k, v]) => [k, k === key ? value : v]);
const dropField =
  (key: string) =>
  (e: Entries): Entries =>
    e.filter(([k]) => k !== key);

function nested(depth: number): Encodable {
  let v: Encodable = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/**
 * Build every case with a fresh test PKI issued at `issuedAt` (default 2025-01-01T00:00:00Z).
 * Keys are random, so bytes differ between runs; ids, options and outcomes do not.
 *
 * @example
 * ```ts
 * const set = await buildAttestationCases();
 * for (const c of set.cases) console.log(c.id, c.expect);
 * ```
 */
export async function buildAttestationCases(
  issuedAt = new Date('2025-01-01T00:00:00Z'),
): Promise<AttestationCaseSet> {
  const base = await createTestPki({ at: issuedAt });
  const t = issuedAt.getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const cases: AttestationCase[] = [];
  const atDoc: CaseOptions = { at: 'document' };

  const add = async (
    id: string,
    group: AttestationCase['group'],
    rule: string,
    expect: AttestationCase['expect'],
    make: Promise<Uint8Array> | Uint8Array,
    options: CaseOptions = atDoc,
  ) => {
    cases.push({ id, group, rule, expect, options, bytes: await make });
  };
  const doc = (fields: AttestationFields = {}, knobs: AttestationKnobs = {}, pki: TestPki = base) =>
    issueAttestation(pki, fields, knobs);
  // A PKI that differs from the base only at `level` and below (the levels above are reused).
  const variant = (level: PkiLevel, knobs: CertificateKnobs) => {
    const reuse: Partial<Record<PkiLevel, TestPki[PkiLevel]>> = {};
    for (const l of PKI_LEVELS.slice(0, PKI_LEVELS.indexOf(level))) reuse[l] = base[l];
    return createTestPki({ at: issuedAt, reuse, knobs: { [level]: knobs } });
  };
  const chainCase = async (
    id: string,
    rule: string,
    expect: ErrorCode,
    level: PkiLevel,
    knobs: CertificateKnobs,
  ) => add(id, 'chain', rule, expect, doc({}, {}, await variant(level, knobs)));

  // Valid shapes (SPEC 1.1, 1.2: accepted variants).
  const bytes32 = (b: number) => new Uint8Array(32).fill(b);
  await add('valid-untagged', 'valid', '1.1 untagged COSE_Sign1, as every real document', 'ok', doc());
  // NitroTPM documents (SPEC 1.5): same envelope and chain, PCRs under nitrotpm_pcrs.
  const tpm = (fields: AttestationFields = {}, knobs: AttestationKnobs = {}) =>
    doc({ kind: 'nitrotpm', ...fields }, { indefinitePayload: true, ...knobs });
  const tpmPcr = (i: number) => toHex(testTpmPcrs().get(i)!);
  await add(
    'valid-nitrotpm',
    'valid',
    '1.5 a NitroTPM document (nitrotpm_pcrs, 24 PCRs, indefinite payload map) verifies with its measured PCRs',
    'ok',
    tpm(),
    { at: 'document', expectedPcrs: { 4: [tpmPcr(4)], 7: [tpmPcr(7)] } },
  );
  await add(
    'valid-nitrotpm-kind-required',
    'valid',
    '1.5 a NitroTPM document passes when the nitrotpm kind is required',
    'ok',
    tpm(),
    { at: 'document', expectedPcrs: { 4: [tpmPcr(4)] }, documentKind: 'nitrotpm' },
  );
  await add(
    'valid-nitrotpm-no-debug-rule',
    'valid',
    '1.5 NitroTPM documents have no debug mode: all-zero PCR0..2 are not the enclave debug signal',
    'ok',
    tpm({ pcrs: new Map([...testTpmPcrs(), [0, new Uint8Array(48)], [1, new Uint8Array(48)]]) }),
    { at: 'document', expectedPcrs: { 4: [tpmPcr(4)] } },
  );
  await add(
    'valid-tagged',
    'valid',
    '1.1 COSE_Sign1 with tag 18 is accepted',
    'ok',
    doc({}, { tagged: true }),
  );
  await add(
    'valid-indefinite-payload',
    'valid',
    '1.2 indefinite-length payload map accepted',
    'ok',
    doc({}, { indefinitePayload: true }),
  );
  await add(
    'valid-public-key-empty',
    'valid',
    "1.2 a present 0-byte public_key is accepted (AWS's CDDL: 0..1024; real hardware sends one)",
    'ok',
    doc({ publicKey: new Uint8Array(0) }),
  );
  await add('valid-null-optionals', 'valid', '1.2 absent optionals encoded as null accepted', 'ok', doc());
  await add(
    'valid-omitted-optionals',
    'valid',
    '1.2 absent optionals left out accepted',
    'ok',
    doc({}, { nullOptionals: false }),
  );
  await add(
    'valid-all-optionals',
    'valid',
    '1.4 nonce, user_data and public_key equal to the expected values',
    'ok',
    doc({ nonce: bytes32(1), userData: bytes32(2), publicKey: bytes32(3) }),
    { at: 'document', nonce: toHex(bytes32(1)), userData: toHex(bytes32(2)), publicKey: toHex(bytes32(3)) },
  );
  await add(
    'valid-empty-user-data',
    'valid',
    '1.2 empty user_data and nonce byte strings accepted',
    'ok',
    doc({ userData: new Uint8Array(0), nonce: new Uint8Array(0) }),
  );
  const pcrs17 = testPcrs();
  pcrs17.set(16, new Uint8Array(48).fill(0x16));
  await add('valid-17-pcrs', 'valid', '1.2 PCR index 16 accepted (17 PCRs)', 'ok', doc({ pcrs: pcrs17 }));
  const pcrs32 = new Map(
    Array.from({ length: 32 }, (_, i) => [i, new Uint8Array(48).fill(i + 1)] as [number, Uint8Array]),
  );
  await add('valid-32-pcrs', 'valid', '1.2 32 PCRs (indexes 0..31) accepted', 'ok', doc({ pcrs: pcrs32 }));
  await add(
    'valid-pcr-sizes',
    'valid',
    '1.2 PCR values of 32 and 64 bytes accepted',
    'ok',
    doc({
      pcrs: new Map([
        [0, new Uint8Array(32).fill(1)],
        [1, new Uint8Array(64).fill(2)],
        [2, new Uint8Array(48).fill(3)],
      ]),
    }),
  );
  await add(
    'valid-unknown-payload-key',
    'valid',
    '1.2 unknown text keys in the payload are ignored',
    'ok',
    doc({}, { payloadEntries: (e) => [...e, ['future_field', 1]] }),
  );
  await add(
    'valid-unprotected-kid',
    'valid',
    '1.1 unprotected header with other labels (kid) accepted',
    'ok',
    doc({}, { unprotectedHeader: new Map([[4, new Uint8Array([1])]]) }),
  );
  await add(
    'valid-at-leaf-not-before',
    'valid',
    '1.3 validity bounds are inclusive (at notBefore)',
    'ok',
    doc(),
    { at: iso(base.leaf.notBefore.getTime()) },
  );
  await add(
    'valid-at-leaf-not-after',
    'valid',
    '1.3 validity bounds are inclusive (at notAfter)',
    'ok',
    doc(),
    { at: iso(base.leaf.notAfter.getTime()) },
  );
  await add(
    'valid-debug-allowed',
    'valid',
    '1.4 debug enclave accepted when allowed',
    'ok',
    doc({
      pcrs: new Map([
        [0, new Uint8Array(48)],
        [1, new Uint8Array(48)],
        [2, new Uint8Array(48)],
      ]),
    }),
    { at: 'document', allowDebug: true },
  );
  await add('valid-pcr-any-of', 'valid', '1.4 several allowed values per PCR: any one matches', 'ok', doc(), {
    at: 'document',
    expectedPcrs: { 0: ['ff'.repeat(48), '10'.repeat(48)], 1: ['11'.repeat(48)] },
  });

  // Input bounds.
  await add(
    'input-too-large',
    'input',
    '1.1 documents over 64 KiB are refused before decoding',
    'ERR_INPUT_TOO_LARGE',
    doc({}, { trailing: new Uint8Array(65 * 1024) }),
  );
  await add('input-empty', 'input', 'an empty input is refused', 'ERR_INPUT_FORMAT', new Uint8Array(0));

  // CBOR well-formedness.
  const good = await doc();
  await add(
    'cbor-truncated',
    'cbor',
    'truncated CBOR is refused',
    'ERR_CBOR_MALFORMED',
    good.subarray(0, good.length - 10),
  );
  await add(
    'cbor-trailing-bytes',
    'cbor',
    '1.2 trailing bytes after the COSE array are refused',
    'ERR_CBOR_MALFORMED',
    doc({}, { trailing: new Uint8Array([0]) }),
  );
  await add(
    'cbor-payload-trailing-bytes',
    'cbor',
    '1.2 trailing bytes after the payload map are refused',
    'ERR_CBOR_MALFORMED',
    doc({}, { payloadTrailing: new Uint8Array([0xf6]) }),
  );
  await add(
    'cbor-duplicate-key',
    'cbor',
    '1.2 duplicate payload keys are refused',
    'ERR_CBOR_MALFORMED',
    doc({ nonce: bytes32(1) }, { payloadEntries: (e) => [...e, ['nonce', bytes32(2)]] }),
  );
  await add(
    'cbor-duplicate-pcr-index',
    'cbor',
    '1.2 duplicate PCR indexes are refused',
    'ERR_CBOR_MALFORMED',
    doc(
      {},
      {
        payloadEntries: setField(
          'pcrs',
          new CborEntries([
            [0, new Uint8Array(48)],
            [0, new Uint8Array(48).fill(1)],
          ]),
        ),
      },
    ),
  );
  await add(
    'cbor-too-deep',
    'cbor',
    'nesting deeper than the limit is refused',
    'ERR_CBOR_MALFORMED',
    doc({}, { payloadEntries: setField('user_data', nested(20)) }),
  );
  await add(
    'cbor-indefinite-bytes',
    'cbor',
    'indefinite-length byte strings are refused (never used by the NSM)',
    'ERR_CBOR_MALFORMED',
    doc({}, { payloadEntries: setField('user_data', new CborRaw(new Uint8Array([0x5f, 0x41, 0x01, 0xff]))) }),
  );
  await add(
    'cbor-float',
    'cbor',
    'floats are refused (not part of the format)',
    'ERR_CBOR_MALFORMED',
    doc(
      {},
      {
        payloadEntries: setField(
          'timestamp',
          new CborRaw(new Uint8Array([0xfb, 0x42, 0x77, 0, 0, 0, 0, 0, 0])),
        ),
      },
    ),
  );
  await add(
    'valid-indefinite-cabundle',
    'valid',
    '1.2 an indefinite-length cabundle array is accepted like a definite one',
    'ok',
    doc({}, { payloadEntries: setField('cabundle', new CborIndefiniteArray(base.cabundle)) }),
  );

  // COSE envelope (SPEC 1.1).
  await add(
    'envelope-other-tag',
    'envelope',
    '1.1 tags other than 18 are refused',
    'ERR_COSE_MALFORMED',
    doc({}, { tag: 98 }),
  );
  await add(
    'envelope-array-of-3',
    'envelope',
    '1.1 the envelope must be an array of 4',
    'ERR_COSE_MALFORMED',
    doc({}, { envelope: (items) => items.slice(0, 3) }),
  );
  await add(
    'envelope-not-array',
    'envelope',
    '1.1 the envelope must be an array',
    'ERR_COSE_MALFORMED',
    doc({}, { envelope: (items) => new Map([[1, items[2]!]]) }),
  );
  await add(
    'envelope-payload-not-bytes',
    'envelope',
    '1.1 the payload must be a byte string',
    'ERR_COSE_MALFORMED',
    doc({}, { envelope: (items) => [items[0]!, items[1]!, null, items[3]!] }),
  );
  await add(
    'envelope-alg-es256',
    'envelope',
    '1.1 only ES384 (-35) is accepted',
    'ERR_COSE_ALG',
    doc({}, { protectedHeader: new Map([[1, -7]]) }),
  );
  await add(
    'envelope-alg-missing',
    'envelope',
    '1.1 a protected header without alg is refused',
    'ERR_COSE_ALG',
    doc({}, { protectedHeader: new Uint8Array(0) }),
  );
  await add(
    'envelope-alg-unprotected',
    'envelope',
    '1.1 alg only in the unprotected header is refused',
    'ERR_COSE_ALG',
    doc({}, { protectedHeader: new Uint8Array(0), unprotectedHeader: new Map([[1, -35]]) }),
  );
  await add(
    'envelope-crit-header',
    'envelope',
    '1.1 unknown critical headers are refused',
    'ERR_COSE_MALFORMED',
    doc(
      {},
      {
        protectedHeader: new Map<Encodable, Encodable>([
          [1, -35],
          [2, [99]],
          [99, 1],
        ]),
      },
    ),
  );
  await add(
    'envelope-signature-der',
    'envelope',
    '1.1 the signature must be raw r||s (96 bytes), not DER',
    'ERR_COSE_MALFORMED',
    doc(
      {},
      {
        signature: (s) =>
          new Uint8Array([0x30, 0x64, 0x02, 0x30, ...s.subarray(0, 48), 0x02, 0x30, ...s.subarray(48)]),
      },
    ),
  );
  await add(
    'envelope-signature-flipped',
    'envelope',
    '1.1 a signature that does not verify is refused',
    'ERR_SIGNATURE_INVALID',
    doc({}, { signature: (s) => s.map((b, i) => (i === 40 ? b ^ 1 : b)) }),
  );
  const stranger = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign']);
  await add(
    'envelope-signed-by-other-key',
    'envelope',
    '1.1 the signature must be made by the leaf key',
    'ERR_SIGNATURE_INVALID',
    doc({}, { signingKey: stranger.privateKey }),
  );
  await add(
    'envelope-protected-noncanonical',
    'envelope',
    '1.1 the signature covers the original protected bytes (a non-minimal encoding of {1: -35} signed as is)',
    'ok',
    doc({}, { protectedHeader: new Uint8Array([0xa1, 0x01, 0x39, 0x00, 0x22]) }),
  );

  // Payload fields (SPEC 1.2).
  const p = (id: string, rule: string, transform: (e: Entries) => Entries) =>
    add(id, 'payload', `1.2 ${rule}`, 'ERR_DOCUMENT_INVALID', doc({}, { payloadEntries: transform }));
  await add(
    'payload-not-map',
    'payload',
    '1.2 the payload must be a map',
    'ERR_DOCUMENT_INVALID',
    doc({}, { payloadEntries: () => [], envelope: (i) => [i[0]!, i[1]!, new Uint8Array([0x80]), i[3]!] }),
  );
  await p('payload-module-id-missing', 'module_id is mandatory', dropField('module_id'));
  await p('payload-module-id-empty', 'module_id must not be empty', setField('module_id', ''));
  await p('payload-module-id-bytes', 'module_id must be text', setField('module_id', new Uint8Array([0x69])));
  await p('payload-digest-sha256', "digest must be 'SHA384'", setField('digest', 'SHA256'));
  await p('payload-digest-missing', 'digest is mandatory', dropField('digest'));
  await p('payload-timestamp-zero', 'timestamp must be > 0', setField('timestamp', 0));
  await p(
    'payload-timestamp-text',
    'timestamp must be an unsigned integer',
    setField('timestamp', '1735689600000'),
  );
  await p('payload-timestamp-negative', 'timestamp must be an unsigned integer', setField('timestamp', -1));
  await p('payload-timestamp-huge', 'timestamp must fit a Date', setField('timestamp', 2n ** 63n));
  await p('payload-pcrs-missing', 'pcrs (or nitrotpm_pcrs, 1.5) is mandatory', dropField('pcrs'));
  await add(
    'payload-pcrs-and-nitrotpm-pcrs',
    'payload',
    '1.5 a document carries exactly one PCR map: pcrs and nitrotpm_pcrs together are refused',
    'ERR_DOCUMENT_INVALID',
    doc({}, { payloadEntries: (e) => [...e, ['nitrotpm_pcrs', new CborEntries([[4, new Uint8Array(48)]])]] }),
  );
  await add(
    'payload-nitrotpm-pcrs-empty',
    'payload',
    '1.5 nitrotpm_pcrs follows the pcrs rules: 1..32 entries',
    'ERR_DOCUMENT_INVALID',
    doc({ kind: 'nitrotpm' }, { payloadEntries: setField('nitrotpm_pcrs', new Map()) }),
  );
  await add(
    'payload-nitrotpm-pcr-size',
    'payload',
    '1.5 nitrotpm_pcrs values are 32, 48 or 64 bytes',
    'ERR_DOCUMENT_INVALID',
    doc({ kind: 'nitrotpm', pcrs: new Map([[4, new Uint8Array(20)]]) }),
  );
  await p('payload-pcrs-empty', 'pcrs must have 1..32 entries', setField('pcrs', new Map()));
  await p(
    'payload-pcrs-33',
    'pcrs must have 1..32 entries',
    setField(
      'pcrs',
      new CborEntries(
        Array.from({ length: 33 }, (_, i) => [i, new Uint8Array(48)] as [Encodable, Encodable]),
      ),
    ),
  );
  await p(
    'payload-pcr-index-32',
    'PCR indexes are 0..31',
    setField('pcrs', new Map([[32, new Uint8Array(48)]])),
  );
  await p(
    'payload-pcr-index-text',
    'PCR indexes are integers',
    setField('pcrs', new Map([['0', new Uint8Array(48)]])),
  );
  await p(
    'payload-pcr-size-20',
    'PCR values are 32, 48 or 64 bytes',
    setField('pcrs', new Map([[0, new Uint8Array(20)]])),
  );
  await p(
    'payload-pcr-value-text',
    'PCR values are byte strings',
    setField('pcrs', new Map([[0, '00'.repeat(48)]])),
  );
  await p('payload-certificate-missing', 'certificate is mandatory', dropField('certificate'));
  await p(
    'payload-certificate-empty',
    'certificate is 1..1024 bytes',
    setField('certificate', new Uint8Array(0)),
  );
  await p(
    'payload-certificate-1025',
    'certificate is 1..1024 bytes',
    setField('certificate', new Uint8Array(1025)),
  );
  await p('payload-cabundle-missing', 'cabundle is mandatory', dropField('cabundle'));
  await p('payload-cabundle-empty', 'cabundle must not be empty', setField('cabundle', []));
  await p('payload-cabundle-entry-text', 'cabundle entries are byte strings', setField('cabundle', ['x']));
  await p(
    'payload-cabundle-entry-1025',
    'cabundle entries are 1..1024 bytes',
    setField('cabundle', [new Uint8Array(1025)]),
  );
  await p(
    'payload-user-data-1025',
    'user_data is at most 1024 bytes',
    setField('user_data', new Uint8Array(1025)),
  );
  await p('payload-nonce-1025', 'nonce is at most 1024 bytes', setField('nonce', new Uint8Array(1025)));
  await p('payload-nonce-text', 'nonce is a byte string or null', setField('nonce', 'abc'));
  await p('payload-user-data-false', 'user_data is a byte string or null', setField('user_data', false));
  await p('payload-integer-key', 'payload keys must be text', (e) => [...e, [7, 1]]);

  // Certificate chain (SPEC 1.3).
  const other = await createTestPki({ at: issuedAt, label: 'OTHER' });
  await add(
    'chain-untrusted-root',
    'chain',
    '1.3 a chain to a root that is not trusted is refused',
    'ERR_CHAIN_UNTRUSTED',
    doc({}, {}, other),
  );
  await add(
    'chain-missing-intermediate',
    'chain',
    '1.3 the path must reach a trusted root through the cabundle',
    'ERR_CHAIN_UNTRUSTED',
    doc({ cabundle: [base.root.der, base.regional.der, base.instance.der] }),
  );
  const impostor = await createTestPki({ at: issuedAt, knobs: { root: { subject: base.root.subject } } });
  await add(
    'chain-impostor-root',
    'chain',
    '1.3 the cabundle root is never trusted by itself (same name as the trusted root, other key)',
    'ERR_CHAIN_UNTRUSTED',
    doc({}, {}, impostor),
  );
  await chainCase(
    'chain-issuer-name-mismatch',
    '1.3 issuer and subject names must chain',
    'ERR_CHAIN_UNTRUSTED',
    'leaf',
    { issuerName: 'C=ZZ, O=enclave-verify test PKI, CN=somebody else' },
  );
  await chainCase(
    'chain-intermediate-bad-signature',
    '1.3 each certificate is signed by its issuer',
    'ERR_CHAIN_INVALID',
    'zonal',
    { wrongSigner: true },
  );
  await chainCase(
    'chain-root-bad-signature',
    '1.3 the first intermediate must be signed by the trusted root key',
    'ERR_CHAIN_UNTRUSTED',
    'regional',
    { wrongSigner: true },
  );
  await chainCase(
    'chain-sha256-signature',
    '1.3 signatures must be ecdsa-with-SHA384',
    'ERR_CHAIN_INVALID',
    'instance',
    { signatureHash: 'SHA-256' },
  );
  await chainCase('chain-p256-key', '1.3 keys must be P-384', 'ERR_CHAIN_INVALID', 'zonal', {
    curve: 'P-256',
  });
  await chainCase(
    'chain-intermediate-not-ca',
    '1.3 intermediates must be CA:TRUE',
    'ERR_CHAIN_INVALID',
    'zonal',
    { ca: false, pathLen: null },
  );
  await chainCase(
    'chain-intermediate-no-basic-constraints',
    '1.3 intermediates must carry basicConstraints',
    'ERR_CHAIN_INVALID',
    'instance',
    { ca: null },
  );
  await chainCase(
    'chain-ca-not-critical',
    '1.3 CA basicConstraints must be critical',
    'ERR_CHAIN_INVALID',
    'regional',
    { caCritical: false },
  );
  await chainCase(
    'chain-pathlen-exceeded',
    '1.3 pathLen is respected (regional pathLen 1 with 2 CAs below)',
    'ERR_CHAIN_INVALID',
    'regional',
    { pathLen: 1 },
  );
  await chainCase(
    'chain-ca-no-keycertsign',
    '1.3 CAs need keyUsage keyCertSign',
    'ERR_CHAIN_INVALID',
    'instance',
    { keyUsage: 1 },
  );
  await chainCase(
    'chain-ca-no-key-usage',
    '1.3 CAs need a keyUsage extension',
    'ERR_CHAIN_INVALID',
    'zonal',
    { keyUsage: null },
  );
  await chainCase('chain-leaf-is-ca', '1.3 the leaf must be CA:FALSE', 'ERR_CHAIN_INVALID', 'leaf', {
    ca: true,
  });
  await chainCase(
    'chain-leaf-no-basic-constraints',
    '1.3 the leaf must carry basicConstraints CA:FALSE',
    'ERR_CHAIN_INVALID',
    'leaf',
    { ca: null },
  );
  await chainCase(
    'chain-leaf-no-digital-signature',
    '1.3 the leaf needs keyUsage digitalSignature',
    'ERR_CHAIN_INVALID',
    'leaf',
    { keyUsage: 32 },
  );
  await chainCase(
    'chain-unknown-critical-extension',
    '1.3 unknown critical extensions are refused',
    'ERR_CHAIN_INVALID',
    'instance',
    { unknownCriticalExtension: true },
  );
  await add(
    'chain-certificate-garbage',
    'chain',
    '1.3 the certificate must be DER X.509',
    'ERR_CHAIN_INVALID',
    doc({ certificate: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]) }),
  );
  await add(
    'chain-leaf-expired',
    'chain',
    '1.3 the leaf must be valid at the verification time (1 ms after notAfter)',
    'ERR_CERT_EXPIRED',
    doc(),
    { at: iso(base.leaf.notAfter.getTime() + 1) },
  );
  await add(
    'chain-leaf-not-yet-valid',
    'chain',
    '1.3 the leaf must be valid at the verification time (1 ms before notBefore)',
    'ERR_CERT_EXPIRED',
    doc(),
    { at: iso(base.leaf.notBefore.getTime() - 1) },
  );
  await chainCase(
    'chain-instance-expired',
    '1.3 every CA must be valid at the verification time',
    'ERR_CERT_EXPIRED',
    'instance',
    { notAfter: new Date(t - 1000) },
  );

  // Policy (SPEC 1.4).
  const zero = new Uint8Array(48);
  await add(
    'policy-debug',
    'policy',
    '1.4 debug enclaves (PCR0..2 zero) are refused by default',
    'ERR_DEBUG_MODE',
    doc({
      pcrs: new Map([
        [0, zero],
        [1, zero],
        [2, zero],
        [3, new Uint8Array(48).fill(1)],
      ]),
    }),
  );
  await add(
    'policy-debug-one-zero',
    'policy',
    '1.4 any of PCR0..2 all zero counts as debug',
    'ERR_DEBUG_MODE',
    doc({
      pcrs: new Map([
        [0, new Uint8Array(48).fill(1)],
        [1, new Uint8Array(48).fill(1)],
        [2, zero],
      ]),
    }),
  );
  await add(
    'policy-pcr-mismatch',
    'policy',
    '1.4 PCRs must equal an expected value',
    'ERR_PCR_MISMATCH',
    doc(),
    { at: 'document', expectedPcrs: { 0: ['10'.repeat(48)], 2: ['ff'.repeat(48)] } },
  );
  await add(
    'policy-pcr-absent',
    'policy',
    '1.4 an expected PCR index missing from the document is a mismatch',
    'ERR_PCR_MISMATCH',
    doc(),
    { at: 'document', expectedPcrs: { 20: ['00'.repeat(48)] } },
  );
  await add(
    'policy-nonce-mismatch',
    'policy',
    '1.4 nonce must equal the expected value',
    'ERR_NONCE_MISMATCH',
    doc({ nonce: bytes32(1) }),
    { at: 'document', nonce: toHex(bytes32(9)) },
  );
  await add(
    'policy-nonce-absent',
    'policy',
    '1.4 an expected nonce must be present',
    'ERR_NONCE_MISMATCH',
    doc(),
    { at: 'document', nonce: toHex(bytes32(1)) },
  );
  await add(
    'policy-user-data-mismatch',
    'policy',
    '1.4 user_data must equal the expected value',
    'ERR_USER_DATA_MISMATCH',
    doc({ userData: bytes32(2) }),
    { at: 'document', userData: toHex(bytes32(3)) },
  );
  await add(
    'policy-public-key-mismatch',
    'policy',
    '1.4 public_key must equal the expected value',
    'ERR_PUBLIC_KEY_MISMATCH',
    doc({ publicKey: bytes32(3) }),
    { at: 'document', publicKey: toHex(bytes32(4)) },
  );
  await add(
    'policy-nitrotpm-expected-zero-pcr',
    'policy',
    '1.5 a NitroTPM PCR still all zero (nothing measured) never satisfies an expectation, even of zero',
    'ERR_PCR_MISMATCH',
    doc({ kind: 'nitrotpm' }),
    { at: 'document', expectedPcrs: { 4: [toHex(testTpmPcrs().get(4)!)], 12: ['00'.repeat(48)] } },
  );
  await add(
    'policy-nitrotpm-expected-ff-pcr',
    'policy',
    '1.5 a NitroTPM PCR still all ff (dynamic-launch PCR never extended) never satisfies an expectation',
    'ERR_PCR_MISMATCH',
    doc({ kind: 'nitrotpm' }),
    { at: 'document', expectedPcrs: { 17: ['ff'.repeat(48)] } },
  );
  await add(
    'policy-kind-enclave-required',
    'policy',
    '1.5 a NitroTPM document is refused where an enclave document is required',
    'ERR_KIND_MISMATCH',
    doc({ kind: 'nitrotpm' }),
    { at: 'document', expectedPcrs: { 4: [toHex(testTpmPcrs().get(4)!)] }, documentKind: 'enclave' },
  );
  await add(
    'policy-kind-nitrotpm-required',
    'policy',
    '1.5 an enclave document is refused where a NitroTPM document is required',
    'ERR_KIND_MISMATCH',
    doc(),
    { at: 'document', expectedPcrs: { 0: ['10'.repeat(48)] }, documentKind: 'nitrotpm' },
  );
  await add('policy-stale', 'policy', '1.4 documents older than maxAge are refused', 'ERR_STALE', doc(), {
    at: iso(t + 10 * 60_000),
    maxAgeMs: 5 * 60_000,
  });
  await add('policy-fresh', 'policy', '1.4 documents younger than maxAge are accepted', 'ok', doc(), {
    at: iso(t + 4 * 60_000),
    maxAgeMs: 5 * 60_000,
  });
  await add(
    'policy-future',
    'policy',
    '1.4 documents dated after the verification time (beyond the skew) are refused',
    'ERR_FUTURE',
    doc({ timestamp: t + 60 * 60_000 }),
    { at: iso(t + 10 * 60_000) },
  );
  await add(
    'policy-future-within-skew',
    'policy',
    '1.4 documents dated within the clock skew are accepted',
    'ok',
    doc({ timestamp: t + 30_000 }),
    { at: iso(t) },
  );

  return { rootPem: base.rootPem, issuedAt, cases };
}
