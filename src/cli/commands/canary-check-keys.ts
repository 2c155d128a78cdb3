import { encodeBase64Url } from '../../canary/encoding.js';
import { keysetDigest, parseKeysDocument } from '../../canary/keys.js';
import type { Command } from '../context.js';
import { EXIT } from '../context.js';
import {
  type CanaryVerdict,
  failure,
  parseOneFileArgs,
  printVerdict,
  readCanaryFile,
} from './canary-support.js';

const HELP = `usage: enclave-verify canary check-keys FILE [--json]

Validate a Canary keys document (/keys.json) with canaryctl's V0 key-set rules and print its
keyset_digest (SHA-256 of the exact bytes) and whether the bytes are canonical JSON. 'canary
verify' needs canonical bytes equal to the node's live /keys.json.
--help shows this help.

exit codes: 0 valid, 1 invalid, 2 usage or input error
`;

/**
 * Run `canary check-keys`.
 *
 * @example
 * ```ts
 * await run(['canary-keys.json'], ctx); // VALID: keys of node ... canonical
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const args = parseOneFileArgs(argv, ctx, 'check-keys', HELP, 'give exactly one keys file');
  if (!args) return EXIT.VERIFIED;
  const { file } = args;
  const bytes = await readCanaryFile(ctx, file, 'keys');
  let verdict: CanaryVerdict;
  let summary = 'keys document';
  try {
    const keys = parseKeysDocument(bytes);
    const digest = await keysetDigest(bytes);
    summary = `keys of node ${keys.nodeId}, ${keys.canonical ? 'canonical bytes' : 'NOT canonical bytes'}`;
    verdict = {
      ok: true,
      code: null,
      fields: {
        keyset_digest: digest,
        canonical: keys.canonical,
        node_id: keys.nodeId,
        key_epoch: keys.keyEpoch,
        ed25519: encodeBase64Url(keys.ed25519),
      },
      lines: [
        `keyset_digest ${digest}`,
        `node ${keys.nodeId}, key epoch ${keys.keyEpoch}, Ed25519 ${encodeBase64Url(keys.ed25519)}, ML-DSA-65 (1952 bytes)`,
        keys.canonical
          ? 'canonical: yes (the exact bytes a node serves)'
          : 'canonical: NO (valid keys, but not the bytes a node serves: pinning needs the exact /keys.json bytes)',
      ],
    };
  } catch (e) {
    verdict = failure(e);
  }
  return printVerdict(ctx, verdict, { json: args.json, command: 'check-keys', summary });
};
