/**
 * `enclave-verify inspect <file|->`: print a document's decoded fields as JSON, marked UNVERIFIED.
 * For looking at evidence (and at documents that fail verification); never for trusting it.
 */
import { parseArgs } from 'node:util';
import { EnclaveVerifyError } from '../../errors.js';
import { decodeAttestation } from '../../parse/document.js';
import { decodeDocumentInput } from '../../parse/input.js';
import { inspectJson } from '../../report/attestation-json.js';
import type { Command } from '../context.js';
import { EXIT } from '../context.js';
import { readInputArgument } from './verify.js';

const HELP = `usage: enclave-verify inspect <file|-> [--json]

Decode an attestation document WITHOUT verifying it and print its fields and certificates as
JSON ("unverified": true). The fields may be forged: use 'enclave-verify verify' to check them.
Input: raw CBOR, base64, hex, or endpoint JSON {"document": "<base64>"}; '-' reads stdin.
The output is always JSON; --json is accepted for symmetry with the other commands.
--help shows this help.

exit codes: 0 decoded, 1 malformed document, 2 usage or input error
`;

function parseFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new EnclaveVerifyError('ERR_USAGE', `${(e as Error).message} (see enclave-verify inspect --help)`);
  }
}

/**
 * Run `inspect`.
 *
 * @example
 * ```ts
 * await run(['doc.cbor'], ctx); // prints { "unverified": true, "document": {...}, ... }
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const parsed = parseFlags(argv);
  if (parsed.values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  if (parsed.positionals.length !== 1) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      'give exactly one document: a file path or - for stdin (see --help)',
    );
  }
  const bytes = decodeDocumentInput(await readInputArgument(parsed.positionals[0]!, ctx));
  ctx.stdout.write(`${JSON.stringify(inspectJson(decodeAttestation(bytes)), null, 2)}\n`);
  return EXIT.VERIFIED;
};
