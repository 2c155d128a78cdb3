import { checkEvidenceArtifact } from '../../canary/artifacts.js';
import { parseFlags } from '../args.js';
import type { Command } from '../context.js';
import { EXIT } from '../context.js';
import {
  type CanaryVerdict,
  canaryUsage,
  pcrsRecord,
  printVerdict,
  readCanaryPcrs,
  readCanaryText,
  readRoots,
} from './canary-support.js';

const HELP = `usage: enclave-verify canary verify-evidence FILE (--expect-pcrs F | --pcr N=HEX...) [--root F] [--json]

Replay a Canary evidence bundle (caution-canary-evidence-v0): its parsing rules, then the
attestation document checked at the bundle's observed_at (certificate chain to the AWS root,
COSE signature, the bundle's nonce, PCR0/1/2 equal to YOUR expected values; they never come
from the bundle). observed_at is only the validation time: a replay proves what the document
says, not that it is recent (freshness comes from a valid statement naming this evidence).

  --expect-pcrs F  nitro-cli/eif_build/.pcrs files, .caution/trusted_hashes.json, canaryctl's
                   {"pcr0","pcr1","pcr2"}, or a canary config with --target ID
  --pcr N=HEX      expected PCR N (0, 1 and 2 are all required)
  --root F         trust this root (PEM or DER) instead of the AWS Nitro root
  --json           one object {ok, code, reason, target_id, observed_at, evidence_digest, ...}
--help shows this help.

exit codes: 0 ALL_CHECKS_PASSED, 1 invalid or failed replay, 2 usage or input error
`;

/**
 * Run `canary verify-evidence`.
 *
 * @example
 * ```ts
 * await run(['evidence.json', '--expect-pcrs', '.caution/trusted_hashes.json'], ctx);
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const { values, positionals } = parseFlags(
    {
      args: argv,
      options: {
        'expect-pcrs': { type: 'string' },
        pcr: { type: 'string', multiple: true },
        target: { type: 'string' },
        root: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    },
    (m) => canaryUsage('verify-evidence', m),
  );
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  if (positionals.length !== 1) throw canaryUsage('verify-evidence', 'give exactly one evidence bundle file');
  const expected = await readCanaryPcrs(
    ctx,
    values['expect-pcrs'],
    values.pcr,
    values.target,
    'verify-evidence',
  );
  const roots = await readRoots(ctx, values.root);
  const file = positionals[0]!;
  const text = await readCanaryText(ctx, file, 'evidence');
  const base = { expectedPcrs: pcrsRecord(expected) };
  const checked = await checkEvidenceArtifact(text, expected, roots);
  const f = checked.fields as Record<string, string | undefined>;
  const verdict: CanaryVerdict = {
    ok: checked.ok,
    code: checked.code,
    ...(checked.message ? { message: checked.message } : {}),
    fields: { ...base, ...checked.fields, ...(checked.checks ? { checks: checked.checks } : {}) },
    lines: f.reason
      ? [
          `target ${f.target_id}, observed at ${f.observed_at} (the validation time, not proof of freshness)`,
          `evidence ${f.evidence_digest}, manifest ${f.manifest_digest} (manifest unsigned)`,
          `reason ${f.reason}`,
          ...(checked.checks ?? []).map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
        ]
      : [],
  };
  return printVerdict(ctx, verdict, {
    json: values.json,
    command: 'verify-evidence',
    summary: 'evidence replayed: ALL_CHECKS_PASSED',
  });
};
