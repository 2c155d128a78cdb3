/**
 * `enclave-verify canary add-target`: add a target to a canary.json, its expected PCRs given or
 * captured on first use (TOFU) from a verified live attestation.
 */
import { rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { type CanaryTargetConfig, parseCanaryConfig, validateCanaryConfig } from '../../canary/config.js';
import { bodyText } from '../../canary/http.js';
import { nodeCanaryHttp } from '../../canary/node/http.js';
import { parseEndpointResponse } from '../../deployment/response.js';
import { EnclaveVerifyError } from '../../errors.js';
import { toBase64, toHex } from '../../util/bytes.js';
import { verifyAttestation } from '../../verify.js';
import { parseFlags, readFileText } from '../args.js';
import type { Command } from '../context.js';
import { EXIT } from '../context.js';
import {
  type CanaryVerdict,
  canaryUsage,
  failure,
  printVerdict,
  readCanaryPcrs,
  readCas,
  readRoots,
} from './canary-support.js';

const HELP = `usage: enclave-verify canary add-target --config FILE --id ID --name NAME --attestation-url URL
                  (--expect-pcrs F | --pcr N=HEX... | --tofu [--accept-tofu]) [--e2e-mode tls]
                  [--root F] [--ca F] [--json]

Add a target to a Canary config. The new config is checked with Canary's rules before it
replaces FILE (written to a temporary file, then renamed).
--tofu captures PCR0/1/2 from the target's live attestation (fresh nonce, certificate chain and
signature verified, debug enclaves refused). TOFU proves continuity only: the values are
whatever runs now, not what you reviewed. It asks for confirmation on a terminal; elsewhere
give --accept-tofu. TOFU is refused with --e2e-mode tls, as Canary does.
--help shows this help.

exit codes: 0 added, 1 the target's attestation failed, 2 usage or input error
`;

async function confirm(ctx: Parameters<Command>[1], question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin, output: ctx.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * Run `canary add-target`.
 *
 * @example
 * ```ts
 * await run(['--config', 'canary.json', '--id', 'web', '--name', 'Web', '--attestation-url', 'https://web.example.com/attestation', '--expect-pcrs', 'web.pcrs'], ctx);
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const { values } = parseFlags(
    {
      args: argv,
      options: {
        config: { type: 'string' },
        id: { type: 'string' },
        name: { type: 'string' },
        'attestation-url': { type: 'string' },
        'expect-pcrs': { type: 'string' },
        pcr: { type: 'string', multiple: true },
        tofu: { type: 'boolean' },
        'accept-tofu': { type: 'boolean' },
        'e2e-mode': { type: 'string' },
        root: { type: 'string', multiple: true },
        ca: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    },
    (m) => canaryUsage('add-target', m),
  );
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  for (const flag of ['config', 'id', 'name', 'attestation-url'] as const) {
    if (values[flag] === undefined) throw canaryUsage('add-target', `--${flag} is required`);
  }
  if (values['e2e-mode'] !== undefined && values['e2e-mode'] !== 'tls')
    throw canaryUsage('add-target', "--e2e-mode must be 'tls'");
  const tofu = values.tofu === true;
  if (tofu && (values['expect-pcrs'] !== undefined || values.pcr !== undefined)) {
    throw canaryUsage('add-target', 'give either expected PCRs or --tofu, not both');
  }
  if (tofu && values['e2e-mode'] === 'tls') {
    throw canaryUsage(
      'add-target',
      'TOFU is refused for e2e_mode tls targets (as Canary does): give the expected PCRs',
    );
  }
  const path = resolve(ctx.cwd, values.config!);
  const config = parseCanaryConfig(await readFileText(path, `--config ${values.config}`));
  const url = values['attestation-url']!;
  let verdict: CanaryVerdict;
  try {
    let pcrs: Record<'0' | '1' | '2', string>;
    const notes: string[] = [];
    if (tofu) {
      const roots = await readRoots(ctx, values.root);
      const ca = await readCas(ctx, values.ca);
      const http = nodeCanaryHttp(ca ? { ca } : {});
      const nonce = crypto.getRandomValues(new Uint8Array(32));
      const response = await http({
        method: 'POST',
        url,
        body: new TextEncoder().encode(JSON.stringify({ nonce: toBase64(nonce) })),
      });
      bodyText(response, url);
      const answer = parseEndpointResponse(
        { ...response, redirect: false, location: undefined, peerCertificate: undefined },
        url,
      );
      const verified = await verifyAttestation(answer.document, {
        nonce,
        ...(roots ? { trustedRoots: roots } : {}),
      });
      const get = (i: number) => toHex(verified.document.pcrs.get(i) ?? new Uint8Array());
      pcrs = { '0': get(0), '1': get(1), '2': get(2) };
      notes.push(
        'TOFU: PCRs captured from the live attestation; this proves continuity only (later probes match what runs now), not that the code is what you reviewed.',
      );
      if (!values['accept-tofu']) {
        if (!ctx.stdin || !(ctx.stdin as { isTTY?: boolean }).isTTY) {
          throw canaryUsage('add-target', 'TOFU needs confirmation: run on a terminal or add --accept-tofu');
        }
        ctx.stderr.write(`${notes[0]}\nPCR0 ${pcrs['0']}\nPCR1 ${pcrs['1']}\nPCR2 ${pcrs['2']}\n`);
        if (!(await confirm(ctx, 'Trust these values for this target? [y/N] '))) {
          throw new EnclaveVerifyError('ERR_USAGE', 'not confirmed; the config is unchanged');
        }
      }
    } else {
      const expected = await readCanaryPcrs(ctx, values['expect-pcrs'], values.pcr, undefined, 'add-target');
      pcrs = {
        '0': toHex(expected.get(0)![0]!),
        '1': toHex(expected.get(1)![0]!),
        '2': toHex(expected.get(2)![0]!),
      };
    }
    const target: CanaryTargetConfig = {
      id: values.id!,
      name: values.name!,
      attestation_url: url,
      ...(values['e2e-mode'] === 'tls' ? { e2e_mode: 'tls' as const } : {}),
      expected_pcrs: pcrs,
    };
    const next = validateCanaryConfig({ ...config, targets: [...config.targets, target] });
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(next, null, 2)}\n`, { flag: 'wx' });
    await rename(temp, path);
    verdict = {
      ok: true,
      code: null,
      fields: { config: path, target, tofu },
      lines: [...notes, `target ${target.id} added to ${path}`],
    };
  } catch (e) {
    verdict = failure(e, { config: path }, e instanceof EnclaveVerifyError && e.code === 'ERR_CANARY_CONFIG');
  }
  return printVerdict(ctx, verdict, { json: values.json, command: 'add-target', summary: 'target added' });
};
