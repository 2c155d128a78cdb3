/**
 * Forge: a synthetic Nitro-shaped PKI and attestation issuer for tests, vectors and demos.
 * Its names all say TEST / NOT AWS; documents it signs only verify against its own root.
 */

export {
  CborEntries,
  CborIndefiniteArray,
  CborRaw,
  CborTagged,
  type Encodable,
  encodeCbor,
} from '../util/cbor-encode.js';
export {
  type AttestationFields,
  type AttestationKnobs,
  issueAttestation,
  testPcrs,
  testTpmPcrs,
} from './attestation.js';
export {
  type AttestationCase,
  type AttestationCaseSet,
  buildAttestationCases,
  type CaseOptions,
  caseVerifyOptions,
} from './cases.js';
export { issueTestCrl, type TestCrlOptions, type TestRevocation } from './crl.js';
export {
  type CertificateKnobs,
  createTestPki,
  PKI_LEVELS,
  type PkiLevel,
  type TestCertificate,
  type TestPki,
  type TestPkiOptions,
  testPemToDer,
} from './pki.js';
