/**
 * `enclave-verify vectors run <dir|file>`: run a conformance vector suite with this library, or
 * with another implementation's CLI through `--command TEMPLATE` (see vectors/README.md for the
 * format and the command contract).
 */
import { printable } from '../../deployment/response.js';
import { EnclaveVerifyError } from '../../errors.js';
import type { VectorKind } from '../../vectors/format.js';
import { libraryExecutor } from '../../vectors/library.js';
import { type CommandExecutor, commandExecutor } from '../../vectors/node/command.js';
import { loadSuite, readCaseFile } from '../../vectors/node/load.js';
import { type CaseResult, type MatchLevel, runCases, summaryLine } from '../../vectors/runner.js';
import { type CommandTemplate, parseTemplate } from '../../vectors/template.js';
import { parseDurationFlag, parseFlags, usageError } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, reportError } from '../context.js';

const HELP = `usage: enclave-verify vectors run <dir|suite.json|cases.json> [options]

Run a conformance vector suite (format: vectors/README.md) and print "N passed, M failed".
A directory means its suite.json. Cases whose data is absent (optional files) are skipped.

options:
  --only GLOB         run only cases whose id matches (repeatable; * within a segment, ** across)
  --command [KIND=]TEMPLATE
                      run cases with another CLI instead of this library (repeatable, one per
                      kind: attestation (the default), eif, ramdisk, expected-pcrs; kinds
                      without a template are skipped), e.g.
                      'other verify {file} [--root {root}] [--at {at}] [--pcrs {pcrs}] [--nonce {nonce}]'
                      exit 0 = accept, 1 = reject, 2 = rejected input; a JSON object on stdout
                      with "code"/"class" (and PCRs) is compared too. Placeholders: {file} {root}
                      {roots} {at} {at_ms} {pcrs} {nonce} {user_data} {public_key} {max_age_ms}
                      {clock_skew_ms} {allow_debug} {any_pcrs} {document_kind} {target} {app}
                      {overlays} {id} {kind} {dir};
                      [ ... ] is an optional group (dropped when a value is absent).
  --match LEVEL       how rejections are compared: code (default), class, outcome
  --jobs N            cases run at once (default 1; 2 with --command)
  --timeout DURATION  per-case limit with --command (default 60s; e.g. 500ms, 2m)
  --verbose           also list passed and skipped cases
  --json              print one JSON object with every result
  --help              show this help

Exit codes: 0 all cases passed, 1 some failed, 2 usage error or unreadable suite.
`;

const usage = (message: string) => usageError('vectors', message);

const KINDS: readonly VectorKind[] = ['attestation', 'eif', 'ramdisk', 'expected-pcrs'];

/** `--command [KIND=]TEMPLATE`, repeatable; without a kind prefix the template runs attestation cases. */
function parseCommands(list: string[]): Map<VectorKind, CommandTemplate> {
  const out = new Map<VectorKind, CommandTemplate>();
  for (const text of list) {
    const m = /^([a-z-]+)=([\s\S]*)$/.exec(text);
    const kind = (m && KINDS.includes(m[1] as VectorKind) ? m[1] : 'attestation') as VectorKind;
    const source = m && KINDS.includes(m[1] as VectorKind) ? m[2]! : text;
    if (out.has(kind)) throw usage(`--command given twice for ${kind} cases`);
    out.set(kind, parseTemplate(source));
  }
  return out;
}

function line(r: CaseResult): string {
  const tag = r.status === 'pass' ? 'ok  ' : r.status === 'fail' ? 'FAIL' : 'skip';
  // Messages quote what another implementation printed: no control characters to the terminal.
  return printable(`${tag} ${r.id}${r.message ? `: ${r.message}` : ''}`);
}

/** The `vectors` command. @example await run(['run', 'vectors/'], ctx) */
export const run: Command = async (argv, ctx) => {
  let json = argv.includes('--json');
  try {
    const { values, positionals } = parseFlags(
      {
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          only: { type: 'string', multiple: true },
          command: { type: 'string', multiple: true },
          match: { type: 'string' },
          jobs: { type: 'string' },
          timeout: { type: 'string' },
          verbose: { type: 'boolean' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      },
      usage,
    );
    json = values.json === true;
    if (values.help) {
      ctx.stdout.write(HELP);
      return EXIT.VERIFIED;
    }
    const [sub, target, ...extra] = positionals;
    if (sub !== 'run')
      throw usage(sub === undefined ? 'missing sub-command "run"' : `unknown sub-command '${sub}'`);
    if (target === undefined) throw usage('missing the suite directory or file');
    if (extra.length) throw usage(`unexpected argument '${extra[0]}'`);
    const match = (values.match ?? 'code') as MatchLevel;
    if (!['code', 'class', 'outcome'].includes(match)) throw usage(`--match must be code, class or outcome`);
    const commands = parseCommands(values.command ?? []);
    const jobs = values.jobs === undefined ? (commands.size ? 2 : 1) : Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64)
      throw usage('--jobs must be an integer from 1 to 64');
    const timeoutMs =
      values.timeout === undefined
        ? 60_000
        : parseDurationFlag(values.timeout, '--timeout', usage, ['ms', 's', 'm'], '500ms, 30s or 2m');

    const suite = await loadSuite(target, ctx.cwd);
    const only = values.only ?? [];
    let close = async () => {};
    let execute = libraryExecutor({ read: readCaseFile }, { unavailable: suite.unavailable });
    if (commands.size) {
      const [{ AWS_NITRO_ROOT_G1_PEM }, { decodeAttestation }] = await Promise.all([
        import('../../trust/aws-root.js'),
        import('../../parse/document.js'),
      ]);
      const executors = new Map<VectorKind, CommandExecutor>();
      close = async () => {
        for (const ex of executors.values()) await ex.close();
      };
      for (const [kind, template] of commands) {
        executors.set(
          kind,
          await commandExecutor(template, {
            cwd: ctx.cwd,
            timeoutMs,
            env: ctx.env,
            defaultRootPem: AWS_NITRO_ROOT_G1_PEM,
            documentTime: (bytes) => decodeAttestation(bytes).timestamp,
          }),
        );
      }
      execute = async (c) => {
        const missing = suite.unavailable.get(c.id);
        if (missing !== undefined) return { result: 'skip', reason: missing };
        const ex = executors.get(c.kind);
        return ex ? ex.execute(c) : { result: 'skip', reason: `no --command for ${c.kind} cases` };
      };
    }
    let report: Awaited<ReturnType<typeof runCases>>;
    try {
      report = await runCases(suite.cases, execute, {
        only,
        jobs,
        match,
        requireOutputs: commands.size === 0,
        onResult: (r) => {
          if (!json && (r.status === 'fail' || values.verbose)) ctx.stdout.write(`${line(r)}\n`);
        },
      });
    } finally {
      await close();
    }
    if (report.results.length === 0) {
      throw usage(only.length ? `no case id matches ${only.join(', ')}` : 'the suite has no cases');
    }
    if (json) {
      ctx.stdout.write(
        `${JSON.stringify({
          ok: report.failed === 0,
          suite: suite.root.pathname,
          executor: commands.size
            ? { commands: Object.fromEntries([...commands].map(([k, t]) => [k, t.source])), match }
            : { library: 'enclave-verify', match },
          passed: report.passed,
          failed: report.failed,
          skipped: report.skipped,
          results: report.results.map((r) => ({ ...r, ms: Math.round(r.ms * 10) / 10 })),
        })}\n`,
      );
    } else {
      const byKind = new Map<string, number>();
      for (const r of report.results)
        if (r.status === 'pass') byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + 1);
      const kinds = [...byKind].map(([k, n]) => `${k} ${n}`).join(', ');
      ctx.stdout.write(`${summaryLine(report)}${kinds ? ` (passed: ${kinds})` : ''}\n`);
    }
    return report.failed === 0 ? EXIT.VERIFIED : EXIT.REJECTED;
  } catch (e) {
    if (e instanceof EnclaveVerifyError && e.code === 'ERR_INPUT_FORMAT') {
      // A broken vector file is a usage problem of this command, not a rejected case.
      return reportError(ctx, new EnclaveVerifyError('ERR_USAGE', e.message, { cause: e }), json);
    }
    return reportError(ctx, e, json);
  }
};
