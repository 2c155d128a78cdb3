/**
 * enclave-verify/node: the Node-only parts (files, streaming hashes, worker threads, HTTPS with
 * access to the TLS peer certificate). Re-exports the runtime-agnostic library as well.
 */
export * from './index.js';
// rebuild/gzip as a Node Transform stream
export { createBusyboxGzipStream } from './rebuild/node/gzip-stream.js';

// deployment: HTTPS transport exposing the TLS leaf, and the simulated demo enclave (issue 4)
export { nodeTransport, type NodeTransportOptions } from './deployment/node/transport.js';
export { crlDirectoryStore } from './trust/node/crl-directory.js';
export { nodeEs384Verifier } from './trust/node/es384.js';
export {
  type DemoEnclave,
  type DemoEnclaveOptions,
  type DemoMisbehaviour,
  startDemoEnclave,
} from './deployment/demo/enclave.js';
export {
  type AttestationAnswer,
  type RunningEndpoint,
  type ServeAttestationOptions,
  serveAttestation,
} from './deployment/demo/http-server.js';
export { createDemoTlsCertificate, type DemoTlsCertificate } from './deployment/demo/tls-certificate.js';
export { buildDemoImage, type DemoImage } from './deployment/demo/image.js';

// measure: streaming EIF reader on worker threads, PCRs from part files, EIF writer (issue 3)
export { type MeasureEifFileOptions, measureEifFile } from './measure/node/measure-file.js';
export {
  type EifPartFiles,
  type ExpectedPcrsFromImage,
  expectedPcrsFromEif,
  expectedPcrsFromParts,
  type MeasuredImage,
  measureEifParts,
} from './measure/node/parts.js';
export { pemSigner, type WriteEifOptions, type WrittenEif, writeEifFile } from './measure/node/write-file.js';
export { nodeSha384 } from './measure/node/hash.js';

// rebuild: trees from and to the disk, the Caution recipe on files, ramdisks from files (issue 7)
export {
  type FileSource,
  openFileSource,
  treeFromDirectory,
  writeTreeToDirectory,
} from './rebuild/node/fs.js';
export {
  type AppFormat,
  type CautionRebuildOptions,
  type CautionRebuildResult,
  rebuildCaution,
} from './rebuild/node/rebuild.js';
export { type RamdiskBytes, ramdisksFromBytes, ramdisksFromFile } from './rebuild/node/ramdisk-file.js';
export { type NodeImageIo, nodeImageIo } from './rebuild/node/image-io.js';
export {
  type LoadedRecipe,
  type RecipeJson,
  readRecipeFile,
  recipeJsonFor,
  validateRecipe,
} from './rebuild/node/recipe-file.js';
export {
  describeRebuild,
  expectedPcrsFromRecipe,
  type RebuildInput,
  type RebuiltExpectation,
  rebuildJson,
} from './rebuild/node/expected.js';

// vectors: suites from disk, and running them against another implementation's CLI (issue 6)
export { type LoadedSuite, loadSuite, readCaseFile } from './vectors/node/load.js';
export {
  type CommandExecutor,
  type CommandExecutorOptions,
  commandExecutor,
  interpretExit,
} from './vectors/node/command.js';
export { type CommandTemplate, expandTemplate, parseTemplate, PLACEHOLDERS } from './vectors/template.js';
export { startWatchdog, type Watchdog } from './vectors/node/watchdog.js';

// rebuild: the nitro-cli recipe on files and its recipe files (issue 11)
export {
  type NitroCliBlobs,
  type NitroCliRebuildOptions,
  type NitroCliRebuildResult,
  rebuildNitroCli,
  resolveNitroCliBlobs,
} from './rebuild/node/nitro-cli.js';
export {
  expectedPcrsFromNitroCliRecipe,
  type NitroCliRecipeJson,
  readNitroCliRecipe,
  validateNitroCliRecipe,
} from './rebuild/node/nitro-cli-recipe.js';
