/**
 * enclave-verify: the runtime-agnostic library (WebCrypto + Uint8Array; no `node:` imports).
 * Node-only helpers (files, network, streaming hashes) are in `enclave-verify/node`.
 *
 * Each stage adds its public exports below, one block per folder.
 */
export * from './errors.js';
export { toHex, fromHex, toBase64, fromBase64, bytesEqual, concatBytes } from './util/bytes.js';
export { sha256, sha384 } from './util/digest.js';
export { parseInstant } from './util/instant.js';
export { printable, terminalSafe } from './util/terminal-text.js';

// parse, trust, policy, verify (issue 2); the test-PKI forge is its own entry, enclave-verify/forge
export { type AttestationDocument, decodeAttestation } from './parse/document.js';
export { decodeDocumentInput, type DocumentInputFormat, detectDocumentInput } from './parse/input.js';
export {
  checkAttestation,
  DEFAULT_CLOCK_SKEW_MS,
  type ChainCertificate,
  type PcrComparison,
  type TimeSource,
  type VerificationCheck,
  type VerificationReport,
  type VerificationResult,
  type VerifyOptions,
  verifyAttestation,
} from './verify.js';
export { ChainCache } from './trust/cache.js';
export { type Es384Verifier, verifyEs384 } from './trust/ecdsa.js';
// revocation (issue 16): statuses, distribution points, the transport type a caller may supply.
// The CRL reader and downloader stay out of this entry's static graph (verify.ts loads them on
// demand), so bundles that never check revocation (the web page) do not carry them.
export { type CrlDistributionPoints, crlDistributionPoints } from './trust/crl-distribution-points.js';
export type { CrlRequest, CrlTransport } from './trust/crl-fetch.js';
export { type CachedCrl, CrlCache, type CrlStore } from './trust/crl-cache.js';
export type { ParsedCrl, RevokedEntry } from './trust/crl.js';
export {
  type CertificateRevocation,
  type CrlUsed,
  describeRevocation,
  type RevocationOptions,
  type RevocationStatus,
} from './trust/revocation-status.js';
export { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from './trust/aws-root.js';
export { pemToDer, type TrustedRootInput } from './trust/roots.js';
export {
  type ExpectedPcrs,
  type ExpectedPcrsInput,
  looksLikePcrKey,
  mergeExpectedPcrs,
  normalizeExpectedPcrs,
  type ParseExpectedPcrsOptions,
  parseExpectedPcrs,
  type PcrValueInput,
} from './policy/expected-pcrs.js';
export { isDebugDocument } from './policy/checks.js';
// NitroTPM documents (issue 16): the document kind and its PCR field
export { type AttestationKind, PCR_FIELD } from './parse/payload.js';
export {
  type CertificateJson,
  type DocumentJson,
  decodeTextField,
  documentJson,
  inspectJson,
  type VerificationJson,
  verificationJson,
} from './report/attestation-json.js';
export {
  describeBytes,
  renderVerificationText,
  verdictLine as verificationVerdictLine,
} from './report/attestation-text.js';
// rebuild/gzip: busybox-compatible gzip writer (byte-exact ramdisk rebuilds)
export { BusyboxGzipEncoder, gzipBusybox } from './rebuild/gzip/gzip.js';
export { crc32 } from './util/crc32.js';

// deployment: verify a running enclave through its attestation endpoint (issue 4)
export {
  DEFAULT_MAX_AGE_MS,
  DEFAULT_TIMEOUT_MS,
  type DeploymentProbe,
  type DeploymentResult,
  probeDeployment,
  type VerifyDeploymentOptions,
  verifyDeployment,
} from './deployment/verify-deployment.js';
export { watchDeployment, type WatchOptions } from './deployment/watch.js';
export {
  type AttestationRequest,
  type AttestationResponse,
  type DeploymentTransport,
  fetchTransport,
  MAX_RESPONSE_BYTES,
} from './deployment/transport.js';
export { attestationUrl, type EndpointAnswer, parseEndpointResponse } from './deployment/response.js';
export {
  checkTlsBinding,
  parseTlsBinding,
  type TlsBindingClaim,
  type TlsBindingResult,
  type TlsBindingStatus,
} from './deployment/tls-binding.js';
export { describeManifest, type ManifestSource, type ManifestView } from './deployment/manifest.js';
export {
  type DeploymentReportInputs,
  deploymentJson,
  renderDeploymentText,
  renderWatchLine,
  verdictLine,
} from './report/deployment.js';
export {
  type DeploymentAuditInputs,
  recheckCommand,
  renderDeploymentAudit,
} from './report/deployment-audit.js';

// measure: EIF codec and strict in-memory reader, PCR rules, signature section, eif_build writer (issue 3)
export {
  EIF_HEADER_SIZE,
  type EifHeader,
  type EifSection,
  encodeEifHeader,
  encodeSectionHeader,
  parseEifHeader,
  planEifLayout,
  type SectionKind,
} from './measure/eif-format.js';
export { type EifMeasurement, type MeasureEifOptions, measureEifBytes } from './measure/eif-reader.js';
export {
  buildEifBytes,
  type EifArch,
  type EifBuildInput,
  type EifSigner,
  eifSignatureSection,
  planEifSections,
} from './measure/eif-writer.js';
export { describeEif, formatNitroCli, formatPcrsLines, measurementsRecord } from './measure/format.js';
export {
  type EifMetadata,
  eifBuildMetadata,
  parseEifMetadata,
  serdeJsonReserialize,
} from './measure/metadata.js';
export {
  type EifParts,
  type EifPcrs,
  extendPcr,
  PcrMeasurer,
  pcrOfBytes,
  pcrOfString,
  pcrsFromParts,
} from './measure/pcr.js';
export { createSha384, type Hasher, type HasherFactory } from './measure/sha384.js';
export {
  checkEifSignature,
  decodeSignatureSection,
  type EifSignatureCheck,
  encodePcrInfo,
  encodeSignatureSection,
  type PcrSignature,
} from './measure/signature.js';

// rebuild: file trees, GNU cpio --reproducible newc writer, cpio/tar readers, image layers,
// the Caution recipe, ramdisk listing and diff (issue 7)
export {
  type FileData,
  FileTree,
  type Inode,
  makeInode,
  memoryData,
  type NodeType,
  type TreeEntry,
} from './rebuild/tree.js';
export { bytesToPath, normalizeMemberPath, pathFromText, pathToBytes, pathToText } from './rebuild/paths.js';
export {
  type CpioEntry,
  type CpioFormat,
  type CpioWriteOptions,
  readCpio,
  writeCpio,
  writeCpioBytes,
} from './rebuild/cpio.js';
export {
  type ByteSource,
  memorySource,
  readAll,
  readTar,
  subSource,
  type TarEntry,
  type TarReadOptions,
} from './rebuild/tar.js';
export { writeTar } from './rebuild/tar-write.js';
export { applyLayer, extractOverlay, lookup, resolveDir } from './rebuild/apply.js';
export { treeFromCpio, treeFromTar } from './rebuild/load.js';
export {
  type ImageFiles,
  type ImageLayerInfo,
  type ImageOptions,
  isImage,
  tarImageFiles,
  treeFromImage,
} from './rebuild/image.js';
export {
  archiveTree,
  buildCautionTree,
  CAUTION_CMDLINE,
  checkCautionLayout,
  finalizeTree,
  normalizeAppTree,
  type StreamCompressor,
} from './rebuild/caution.js';
export {
  diffRamdisks,
  listRamdisk,
  type RamdiskDiff,
  type RamdiskDifference,
  type RamdiskListing,
} from './rebuild/ramdisk.js';

// vectors: the conformance vector format and its runner (issue 6)
export {
  type CaseFile,
  caseFiles,
  type Expectation,
  globToRegExp,
  parseVectorFile,
  type SuiteIndex,
  VECTOR_FORMAT,
  type VectorCase,
  type VectorKind,
} from './vectors/format.js';
export {
  type CaseResult,
  type Executor,
  judge,
  type MatchLevel,
  type Outcome,
  runCases,
  type SuiteReport,
  summaryLine,
} from './vectors/runner.js';
export { libraryExecutor, type LibraryExecutorOptions, type VectorIo } from './vectors/library.js';

// Caution Canary artifacts: canonical JSON, configs, keys, statements, evidence bundles (issue 12)
export * from './canary/index.js';

// rebuild: the nitro-cli recipe (issue 11): Docker's layer/create/export semantics and linuxkit's
// newc writer on in-memory trees
export {
  type DockerImageConfig,
  DockerRootfs,
  dockerImageConfig,
  type ExportEntry,
} from './rebuild/docker-export.js';
export {
  LINUXKIT_MTIME,
  type LinuxkitEntry,
  type LinuxkitFile,
  linuxkitFiles,
  linuxkitImageTar,
  relativeLink,
  writeLinuxkitCpio,
} from './rebuild/linuxkit.js';
export {
  type NitroCliCustomer,
  nitroCliBootstrapEntries,
  nitroCliCmdEnv,
  nitroCliCustomerEntries,
} from './rebuild/nitro-cli.js';
export { openImage, type OpenedImage } from './rebuild/image.js';
export { cpioArchiveEnd } from './rebuild/cpio.js';
