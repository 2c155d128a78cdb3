/**
 * enclave-verify/node: the Node-only parts (files, streaming hashes, worker threads, HTTPS with
 * access to the TLS peer certificate). Re-exports the runtime-agnostic library as well.
 */
export * from './index.js';
