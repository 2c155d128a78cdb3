/**
 * enclave-verify/node: the Node-only parts (files, streaming hashes, worker threads, HTTPS with
 * access to the TLS peer certificate). Re-exports the runtime-agnostic library as well.
 */
export * from './index.js';
// rebuild/gzip as a Node Transform stream
export { createBusyboxGzipStream } from './rebuild/node/gzip-stream.js';

// deployment: HTTPS transport exposing the TLS leaf, and the simulated demo enclave (issue 4)
export { nodeTransport, type NodeTransportOptions } from './deployment/node/transport.js';
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
