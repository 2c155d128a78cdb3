/**
 * Runs vector cases against another implementation's CLI (`vectors run --command TEMPLATE`).
 *
 * Contract with the command (also in vectors/README.md): exit 0 means accepted, 1 rejected,
 * 2 rejected as unusable input; anything else (other codes, signals, time-outs) is an error.
 * When stdout holds a JSON object, its `code` / `class` (or `error.code` / `error.class`) are
 * compared with the expected rejection, and PCRs it reports (`Measurements.PCRn`, `pcrs`,
 * `document.pcrs`) with the expected ones.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDurationMs } from '../../util/duration.js';
import type { VectorCase } from '../format.js';
import type { Executor, Outcome } from '../runner.js';
import { classOf } from '../runner.js';
import {
  type CommandTemplate,
  expandTemplate,
  type Placeholder,
  type TemplateValues,
  templatePlaceholders,
} from '../template.js';
import { readCaseFile } from './load.js';

/** Options of {@link commandExecutor}. */
export interface CommandExecutorOptions {
  /** Working directory of the command. */
  cwd: string;
  /** Per-case limit; the command is killed after it. Default 60 s, at most 2^31-1 ms. */
  timeoutMs?: number;
  /** PEM text written to a file for `{root}` when a case uses the default (AWS) root. */
  defaultRootPem?: string;
  /** The document's timestamp, for cases verified at `document` time (`{at}`); when it throws, `{at}` has no value. */
  documentTime?: (bytes: Uint8Array) => Promise<Date> | Date;
  /** Environment of the command. Default: this process's. */
  env?: Record<string, string | undefined>;
}

/** An executor plus the clean-up of its temporary files. */
export interface CommandExecutor {
  execute: Executor;
  /** The argv a case would run (for `--dry-run` style output and error messages). */
  argvFor(c: VectorCase): Promise<string[]>;
  close(): Promise<void>;
}

const MAX_OUTPUT = 1 << 20;

/** Placeholders that change a verdict, with the ones that can stand in for them. */
const MEANINGFUL: [Placeholder, Placeholder[]][] = [
  ['file', ['file', 'app']],
  ['roots', ['root', 'roots']],
  ['at', ['at', 'at_ms']],
  ['pcrs', ['pcrs']],
  ['nonce', ['nonce']],
  ['user_data', ['user_data']],
  ['public_key', ['public_key']],
  ['max_age_ms', ['max_age_ms']],
  ['clock_skew_ms', ['clock_skew_ms']],
  ['allow_debug', ['allow_debug']],
  ['document_kind', ['document_kind']],
  ['target', ['target']],
  ['overlays', ['overlays']],
  ['kernel', ['kernel']],
  ['cmdline', ['cmdline']],
  ['init', ['init']],
  ['nsm', ['nsm']],
];

/** Pull PCRs out of the shapes implementations print. */
function pcrsFrom(json: Record<string, unknown>): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const hexOf = (v: unknown) =>
    typeof v === 'string' && /^[0-9a-fA-F]+$/.test(v) ? v.toLowerCase() : undefined;
  const take = (m: unknown) => {
    if (typeof m !== 'object' || m === null) return;
    if (Array.isArray(m)) {
      // A PCR table: [{ index, actual }, ...].
      for (const row of m as Array<Record<string, unknown>>) {
        const hex = hexOf(row?.actual ?? row?.value);
        if (typeof row?.index === 'number' && hex !== undefined) out[String(row.index)] = hex;
      }
      return;
    }
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      const idx = /^(?:PCR)?(\d{1,2})$/i.exec(k)?.[1];
      const hex = hexOf(typeof v === 'object' && v !== null ? (v as { actual?: unknown }).actual : v);
      if (idx !== undefined && hex !== undefined) out[String(Number(idx))] = hex;
    }
  };
  take(json.Measurements);
  take(json.pcrs);
  const doc = json.document;
  if (typeof doc === 'object' && doc !== null) take((doc as Record<string, unknown>).pcrs);
  return Object.keys(out).length ? out : undefined;
}

function lastJsonObject(stdout: string): Record<string, unknown> | undefined {
  const text = stdout.trim();
  const tryParse = (s: string) => {
    try {
      const v: unknown = JSON.parse(s);
      return typeof v === 'object' && v !== null && !Array.isArray(v)
        ? (v as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  };
  return tryParse(text) ?? tryParse(text.slice(text.lastIndexOf('\n') + 1));
}

/**
 * Interpret a finished command: exit status and output -> outcome.
 *
 * @example
 * ```ts
 * interpretExit(1, '{"ok":false,"code":"ERR_STALE"}'); // { result: 'reject', code: 'ERR_STALE', class: 'policy' }
 * ```
 */
export function interpretExit(status: number | null, stdout: string, signal?: string | null): Outcome {
  if (status === null) return { result: 'error', message: `command ended by signal ${signal ?? '?'}` };
  const json = lastJsonObject(stdout);
  if (status === 0) {
    const out: Outcome = { result: 'accept' };
    const pcrs = json && pcrsFrom(json);
    if (pcrs) out.pcrs = pcrs;
    const kind = json && (json.kind ?? (json.document as { kind?: unknown } | undefined)?.kind);
    if (typeof kind === 'string') out.documentKind = kind;
    // nitro-cli describe-eif output (ours or the official one) is compared as describe data.
    if (json && 'EifVersion' in json) out.describe = json;
    // `rebuild --recipe nitro-cli --json`: the customer ramdisk's digest and size.
    const customer = json?.customer as { sha256?: unknown; size?: unknown } | undefined;
    if (typeof customer?.sha256 === 'string') out.cpioSha256 = customer.sha256;
    if (typeof customer?.size === 'number') out.cpioSize = customer.size;
    if (json && typeof json.entries === 'number') out.entries = json.entries;
    else if (json && Array.isArray(json.entries)) out.entries = json.entries.length;
    else if (json && Array.isArray(json.ramdisks) && json.ramdisks.length === 1) {
      // `ramdisk ls FILE --json`: the one ramdisk of an archive file, every member's entries.
      const listed = (json.ramdisks[0] as { entries?: unknown } | undefined)?.entries;
      if (Array.isArray(listed)) out.entries = listed.length;
    }
    return out;
  }
  if (status === 1 || status === 2) {
    const err = (json?.error ?? json) as Record<string, unknown> | undefined;
    const code = typeof err?.code === 'string' ? err.code : undefined;
    const cls =
      typeof err?.class === 'string' ? err.class : (classOf(code) ?? (status === 2 ? 'input' : undefined));
    const out: Outcome = { result: 'reject' };
    if (code !== undefined) out.code = code;
    if (cls !== undefined) out.class = cls;
    if (typeof err?.message === 'string') out.message = err.message;
    return out;
  }
  return { result: 'error', message: `command exited with status ${status} (expected 0, 1 or 2)` };
}

/**
 * An executor that runs `template` once per case.
 *
 * @example
 * ```ts
 * const ex = await commandExecutor(parseTemplate('node bin/enclave-verify.js verify {file} --at {at} --json'), { cwd });
 * try { await runCases(cases, ex.execute); } finally { await ex.close(); }
 * ```
 */
export async function commandExecutor(
  template: CommandTemplate,
  options: CommandExecutorOptions,
): Promise<CommandExecutor> {
  // Checked before anything is created: past 2^31-1 ms the kill timer would fire at once.
  const timeoutMs = checkDurationMs('timeoutMs', options.timeoutMs ?? 60_000, { positive: true });
  const dir = await mkdtemp(join(tmpdir(), 'enclave-verify-vectors-'));
  let defaultRoot: string | undefined;
  let counter = 0;
  const used = templatePlaceholders(template);

  const valuesFor = async (c: VectorCase): Promise<TemplateValues | Outcome> => {
    const p = (rel: string) => fileURLToPath(new URL(rel, c.base));
    const v: TemplateValues = { id: c.id, kind: c.kind, dir: fileURLToPath(c.base) };
    switch (c.kind) {
      case 'attestation': {
        const o = c.options;
        v.file = p(c.input.file);
        if (o.trustedRoots) v.roots = o.trustedRoots.map(p);
        else if (options.defaultRootPem !== undefined) {
          if (defaultRoot === undefined) {
            defaultRoot = join(dir, 'default-root.pem');
            await writeFile(defaultRoot, options.defaultRootPem);
          }
          v.roots = [defaultRoot];
        }
        if (v.roots) v.root = v.roots[0]!;
        if (o.at === 'document') {
          if (!options.documentTime) return { result: 'skip', reason: 'no way to read the document time' };
          try {
            const t = await options.documentTime(await readCaseFile(new URL(c.input.file, c.base)));
            v.at = t.toISOString();
          } catch {
            // The document does not parse, so no time can matter to a correct verdict: leave
            // {at} without a value (its optional group drops out).
          }
        } else if (o.at !== undefined) v.at = new Date(o.at).toISOString();
        if (v.at !== undefined) v.at_ms = String(Date.parse(v.at as string));
        if (o.expectedPcrs) {
          // `{"0": "hex"}`; an index with several allowed values gets a list `{"0": ["a", "b"]}`.
          const map: Record<string, string | string[]> = {};
          for (const [i, val] of Object.entries(o.expectedPcrs))
            map[i] = Array.isArray(val) && val.length === 1 ? val[0]! : val;
          v.pcrs = join(dir, `pcrs-${counter++}.json`);
          await writeFile(v.pcrs, `${JSON.stringify(map)}\n`);
        }
        if (o.nonce !== undefined) v.nonce = o.nonce;
        if (o.userData !== undefined) v.user_data = o.userData;
        if (o.publicKey !== undefined) v.public_key = o.publicKey;
        if (o.maxAgeMs !== undefined) v.max_age_ms = String(o.maxAgeMs);
        if (o.clockSkewMs !== undefined) v.clock_skew_ms = String(o.clockSkewMs);
        if (o.allowDebug) v.allow_debug = '';
        if (o.documentKind !== undefined) v.document_kind = o.documentKind;
        // For CLIs that insist on an explicit choice when no PCRs are expected (ours: --any-pcrs).
        // Not a verdict-changing option, so templates without it still run these cases.
        if (!o.expectedPcrs) v.any_pcrs = '';
        return v;
      }
      case 'ramdisk':
        if (c.input.recipe === 'nitro-cli') {
          v.image = p(c.input.image!);
          v.file = v.image;
          for (const k of ['kernel', 'cmdline', 'init', 'nsm'] as const) {
            const f = c.input[k];
            if (f !== undefined) v[k] = p(f);
          }
        } else if (c.input.recipe === 'read') v.file = p(c.input.archive!);
        else {
          v.app = p(c.input.app!);
          v.file = v.app;
          v.overlays = (c.input.overlays ?? []).map(p);
        }
        return v;
      case 'expected-pcrs':
        v.file = p(c.input.file);
        if (c.options.target !== undefined) v.target = c.options.target;
        return v;
      default:
        v.file = p(c.input.file);
        return v;
    }
  };

  const run = (argv: string[]): Promise<Outcome> =>
    new Promise((done) => {
      const [cmd, ...args] = argv;
      const child = spawn(cmd!, args, {
        cwd: options.cwd,
        env: (options.env ?? process.env) as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        if (stdout.length < MAX_OUTPUT) stdout += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < MAX_OUTPUT) stderr += d;
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        done({ result: 'error', message: `cannot run ${cmd}: ${e.message}` });
      });
      child.on('close', (status, signal) => {
        clearTimeout(timer);
        if (timedOut) return done({ result: 'error', message: `no answer within ${timeoutMs} ms (killed)` });
        const out = interpretExit(status, stdout, signal);
        if (out.result === 'error' && stderr.trim())
          out.message += `; stderr: ${stderr.trim().slice(0, 300)}`;
        done(out);
      });
    });

  return {
    async argvFor(c) {
      const v = await valuesFor(c);
      return 'result' in v ? [] : expandTemplate(template, v as TemplateValues);
    },
    async execute(c) {
      let v: TemplateValues | Outcome;
      try {
        v = await valuesFor(c);
      } catch (e) {
        return { result: 'error', message: `cannot prepare the case: ${(e as Error).message}` };
      }
      if ('result' in v) return v as Outcome;
      // A value the template has no place for would be silently ignored: the case would test
      // something else. Skip it and say which option the other CLI lacks.
      for (const [name, alternatives] of MEANINGFUL) {
        if ((v as TemplateValues)[name] !== undefined && !alternatives.some((a) => used.has(a))) {
          return { result: 'skip', reason: `the template has no {${name}} (this case needs it)` };
        }
      }
      let argv: string[];
      try {
        argv = expandTemplate(template, v as TemplateValues);
      } catch (e) {
        // The template cannot express this case (e.g. {nonce} outside a group and no nonce).
        return { result: 'skip', reason: (e as Error).message };
      }
      return run(argv);
    },
    async close() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
