/**
 * Entry of a batch verification thread (see verify-batch-pool.ts): the same options, its own
 * ChainCache with synchronous ES384, and files verified exactly as `verifyOne` does on the main
 * thread, one after another, answered a chunk at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChainCache } from '../../trust/cache.js';
import { nodeEs384Verifier } from '../../trust/node/es384.js';
import type { VerifyOptions } from '../../verify.js';
import type { CliContext } from '../context.js';
import { revocationFromFlags } from '../revocation-flags.js';
import { verifyOne } from './verify-batch.js';
import type { FileResult, PoolSetup } from './verify-batch-pool.js';

const setup = workerData as PoolSetup;
// Only cwd and env are read while verifying a file (relative paths, the CRL cache directory).
const ctx = { cwd: setup.cwd, env: setup.env } as CliContext;
const ready = (async (): Promise<VerifyOptions> => {
  const options: VerifyOptions = {
    ...setup.options,
    cache: new ChainCache({ verifyEs384: nodeEs384Verifier }),
  };
  const revocation = setup.revocation ? await revocationFromFlags(setup.revocation, ctx) : undefined;
  if (revocation) options.checkRevocation = revocation;
  return options;
})();

parentPort!.on('message', async ({ id, names }: { id: number; names: string[] }) => {
  try {
    const options = await ready;
    const results: FileResult[] = [];
    for (const name of names) results.push(await verifyOne(name, options, setup.json, ctx));
    parentPort!.postMessage({ id, results });
  } catch (e) {
    parentPort!.postMessage({ id, error: (e as Error)?.message ?? String(e) });
  }
});
