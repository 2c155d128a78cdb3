/**
 * `enclave-verify pcr`: one PCR value computed as `nitro-cli pcr` does, from a file, a
 * signing certificate (PCR8) or a raw string (PCR3 role ARN, PCR4 instance id).
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { extendPcr, pcrOfBytes, pcrOfString } from '../../measure/pcr.js';
import { toHex } from '../../util/bytes.js';
import { cannotRead, outputFormat, parseFlags, readSigningCertificate, usageError } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, reportError } from '../context.js';

const HELP = `usage: enclave-verify pcr (--input FILE | --signing-certificate PEM | --string TEXT) [options]

Compute one PCR value as nitro-cli pcr does:
  --input FILE               extend(SHA384(file bytes)): e.g. a kernel or ramdisk on its own
  --signing-certificate PEM  extend(SHA384(DER of the certificate)): PCR8 of images it signs
  --string TEXT              SHA384(48 zero bytes || UTF-8 of TEXT), the raw string extended
                             (PCR3: IAM role ARN, PCR4: instance id)

options:
  --format F   hex (default), nitro-cli ({"PCR": "..."} as nitro-cli prints it), json
  --json       same as --format json
  --help       show this help
`;

const usage = (message: string) => usageError('pcr', message);

async function sha384OfFile(path: string): Promise<Uint8Array> {
  const h = createHash('sha384');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 }))
      h.update(chunk as Buffer);
  } catch (e) {
    throw cannotRead(path, e);
  }
  return new Uint8Array(h.digest());
}

/** Run `pcr`. @example await run(['--string', 'i-1234567890abcdef0'], ctx) */
export const run: Command = async (argv, ctx) => {
  let wantsJson = argv.includes('--json');
  try {
    const { values } = parseFlags(
      {
        args: argv,
        options: {
          input: { type: 'string' },
          'signing-certificate': { type: 'string' },
          string: { type: 'string' },
          format: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      },
      usage,
    );
    if (values.help) {
      ctx.stdout.write(HELP);
      return EXIT.VERIFIED;
    }
    const format = outputFormat(values, ['hex', 'nitro-cli', 'json'], 'hex', usage);
    wantsJson = format === 'json';
    const given = (['input', 'signing-certificate', 'string'] as const).filter(
      (k) => values[k] !== undefined,
    );
    if (given.length !== 1) throw usage('give exactly one of --input, --signing-certificate, --string');
    const kind = given[0]!;
    let pcr: Uint8Array;
    if (kind === 'string') pcr = pcrOfString(values.string!);
    else if (kind === 'input') pcr = extendPcr(await sha384OfFile(resolve(ctx.cwd, values.input!)));
    else {
      const arg = values['signing-certificate']!;
      pcr = pcrOfBytes(await readSigningCertificate(resolve(ctx.cwd, arg), arg));
    }
    if (format === 'json') ctx.stdout.write(`${JSON.stringify({ ok: true, from: kind, PCR: toHex(pcr) })}\n`);
    else if (format === 'nitro-cli') ctx.stdout.write(`${JSON.stringify({ PCR: toHex(pcr) }, null, 2)}\n`);
    else ctx.stdout.write(`${toHex(pcr)}\n`);
    return EXIT.VERIFIED;
  } catch (e) {
    return reportError(ctx, e, wantsJson);
  }
};
