/**
 * The Caution Canary stage: everything an independent verifier of Canary artifacts needs
 * (CANARY.md 1-7), runtime-agnostic. Node-only parts (HTTP client, CLI) live elsewhere.
 */
export * from './artifacts.js';
export * from './config.js';
export * from './digest.js';
export * from './encoding.js';
export * from './evidence.js';
export * from './flows.js';
export * from './http.js';
export * from './jcs.js';
export * from './keys.js';
export * from './metadata.js';
export * from './reasons.js';
export * from './statement.js';
export * from './time.js';
