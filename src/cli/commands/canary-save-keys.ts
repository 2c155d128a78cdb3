/**
 * `enclave-verify canary save-keys --canary-url URL --expect-pcrs F --output FILE`: attest a
 * Canary node, check that its metadata binds /config.json and /keys.json, and pin the exact keys
 * bytes to a new file (written atomically, never over an existing file).
 */
import { link, open, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EnclaveVerifyError } from '../../errors.js';
import { parseFlags } from '../args.js';
import type { Command } from '../context.js';
import { EXIT } from '../context.js';
import { attestFromFlags, NODE_FLAG_HELP, NODE_FLAG_OPTIONS, nodeLines } from './canary-node.js';
import { type CanaryVerdict, canaryUsage, failure, printVerdict } from './canary-support.js';

const HELP = `usage: enclave-verify canary save-keys --canary-url URL (--expect-pcrs F | --pcr N=HEX...)
                                        --output FILE [--root F] [--ca F] [--json]

Attest a Canary node (POST /attestation with a fresh 32-byte nonce, its document verified now
against the node's expected PCRs), check that its attested metadata binds the served
/config.json and /keys.json (node_id, config_digest, keyset_digest, canonical keys bytes), then
write the exact /keys.json bytes to FILE. FILE must not exist: pinned keys are never replaced
silently; delete the old file yourself when you mean to re-pin.

${NODE_FLAG_HELP}
  --output FILE     where to write the keys (default canary-keys.json)

exit codes: 0 saved, 1 the node failed a check, 2 usage or input error
`;

/**
 * Write `bytes` to `path` atomically without ever replacing an existing file: a temporary file in
 * the same directory, synced, then hard-linked to the final name (which fails if it exists).
 *
 * @example
 * ```ts
 * await writeNewFileAtomic('/tmp/keys.json', bytes);
 * ```
 */
export async function writeNewFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EnclaveVerifyError(
      code === 'EEXIST' ? 'ERR_USAGE' : 'ERR_IO',
      code === 'EEXIST'
        ? `${path} exists; pinned keys are never overwritten: remove it first if you mean to re-pin`
        : `cannot write ${path}: ${(e as Error).message}`,
      { cause: e },
    );
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/**
 * Run `canary save-keys`.
 *
 * @example
 * ```ts
 * await run(['--canary-url', 'https://canary.example.com', '--expect-pcrs', 'canary-pcrs.json', '--output', 'keys.json'], ctx);
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const { values, positionals } = parseFlags(
    { args: argv, options: { ...NODE_FLAG_OPTIONS, output: { type: 'string' } }, allowPositionals: false },
    (m) => canaryUsage('save-keys', m),
  );
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  void positionals;
  const output = resolve(ctx.cwd, values.output ?? 'canary-keys.json');
  let verdict: CanaryVerdict;
  try {
    const { node, fields } = await attestFromFlags(ctx, values, 'save-keys');
    await writeNewFileAtomic(output, node.keys.bytes);
    verdict = {
      ok: true,
      code: null,
      fields: { ...fields, output },
      lines: [...nodeLines(node), `keys pinned to ${output}`],
    };
  } catch (e) {
    verdict = failure(e, { output });
  }
  return printVerdict(ctx, verdict, {
    json: values.json,
    command: 'save-keys',
    summary: 'keys saved from an attested Canary node',
  });
};
