/**
 * `enclave-verify verify DIR|FILE... [--jobs N]`: an audit of many saved documents in one run.
 *
 * Files are listed lazily (directories are read entry by entry, never whole), verified with at most
 * `--jobs` documents in flight and a shared ChainCache, and printed one line each in input order.
 * Past its first files a batch runs on one thread per CPU (the main thread and worker threads, see
 * verify-batch-pool.ts), fed in chunks. Memory stays bounded whatever the number of files: the
 * listing is a stream, and no file is taken while a bounded number of finished results wait to be
 * printed, so one slow file cannot make the others pile up behind it.
 */

import type { Dir } from 'node:fs';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { printable } from '../../deployment/response.js';
import { EnclaveVerifyError } from '../../errors.js';
import { decodeDocumentInput } from '../../parse/input.js';
import { MAX_INPUT_BYTES } from '../../parse/limits.js';
import { verificationJson } from '../../report/attestation-json.js';
import { verdictLine } from '../../report/attestation-text.js';
import { ChainCache } from '../../trust/cache.js';
import { nodeEs384Verifier } from '../../trust/node/es384.js';
import { checkAttestation, type VerifyOptions } from '../../verify.js';
import type { CliContext } from '../context.js';
import { EXIT } from '../context.js';
import type { RevocationFlagValues } from '../revocation-flags.js';
import { type FileResult, poolAvailable, VerifyPool } from './verify-batch-pool.js';

/** Largest `--jobs` accepted: beyond this, more documents in flight only cost memory. */
export const MAX_JOBS = 256;
/** Results that may wait for an earlier, slower file, per job. */
const WINDOW_FACTOR = 4;

/**
 * Documents in flight when `--jobs` is not given: a few per CPU, so the WebCrypto thread pool
 * always has signatures to check while the main thread parses the next files.
 *
 * @example
 * ```ts
 * defaultJobs(); // 8 on a 2-CPU machine
 * ```
 */
export function defaultJobs(): number {
  return Math.min(MAX_JOBS, Math.max(2, 4 * availableParallelism()));
}

// Files verified on the main thread before worker threads start: a small batch never pays for
// starting them (tens of milliseconds each, loading the library again).
const POOL_AFTER = 32;
// Files per message to a thread: enough that the two wake-ups of a message are a small share of
// its work (about 0.7 ms of CPU per document), few enough that the output keeps flowing.
const CHUNK = 16;
// Chunks queued per thread: the one it works on and the next, so it never idles between them.
const QUEUED_PER_THREAD = 3;
// Files per chunk the main thread verifies itself between topping up the threads.
const LOCAL_CHUNK = 8;

// Every file named, or found (recursively, in the order the file system lists entries) under a
// directory named, in argument order. Directory entries are read one at a time (fs.opendir), so
// a directory of any size costs constant memory; a path that cannot be listed is yielded as is
// and fails with its own error line when read.
async function* listInputs(args: readonly string[], ctx: CliContext): AsyncGenerator<string> {
  for (const arg of args) {
    let dir: Dir | undefined;
    try {
      if ((await stat(resolve(ctx.cwd, arg))).isDirectory()) dir = await opendir(resolve(ctx.cwd, arg));
    } catch {
      // Reported when the file is read.
    }
    if (dir) yield* walk(dir, arg, ctx);
    else yield arg;
  }
}

async function* walk(dir: Dir, shown: string, ctx: CliContext): AsyncGenerator<string> {
  for await (const entry of dir) {
    const name = join(shown, entry.name);
    if (entry.isDirectory()) {
      let sub: Dir | undefined;
      try {
        sub = await opendir(resolve(ctx.cwd, name));
      } catch {
        yield name;
      }
      if (sub) yield* walk(sub, name, ctx);
    } else {
      yield name;
    }
  }
}

// Synchronous, bounded reads: a document is a few KB, and four plain system calls cost less than
// the four thread-pool round trips of fs.promises.readFile (a third of the main thread's time in a
// batch). O_NONBLOCK keeps a FIFO from blocking the open; fstat then refuses anything but a regular
// file before a byte is read.
function readDocumentFile(name: string, ctx: CliContext): Uint8Array {
  const path = resolve(ctx.cwd, name);
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = fstatSync(fd);
    if (!info.isFile()) {
      throw new EnclaveVerifyError('ERR_IO', `'${name}' is not a regular file; a batch verifies files only`);
    }
    if (info.size > MAX_INPUT_BYTES) {
      throw new EnclaveVerifyError(
        'ERR_INPUT_TOO_LARGE',
        `'${name}' is larger than ${MAX_INPUT_BYTES} bytes; an attestation document is about 5 KB`,
      );
    }
    // One byte more than the limit, so a file that grew after fstat is still caught.
    const buf = new Uint8Array(Math.min(info.size, MAX_INPUT_BYTES) + 1);
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_INPUT_BYTES) {
      throw new EnclaveVerifyError(
        'ERR_INPUT_TOO_LARGE',
        `'${name}' is larger than ${MAX_INPUT_BYTES} bytes`,
      );
    }
    return decodeDocumentInput(buf.subarray(0, n));
  } catch (e) {
    if (e instanceof EnclaveVerifyError) throw e;
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new EnclaveVerifyError(
      'ERR_IO',
      `cannot read '${name}' (${why}); check the path and its permissions`,
      {
        cause: e,
      },
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Verify one file of a batch and render its output line (`PATH: VERIFIED ...`, `PATH: REJECTED
 * CODE: message`, or the JSON Lines object); errors of the file itself become its line.
 *
 * @example
 * ```ts
 * const r = await verifyOne('evidence/0001.cbor', options, false, ctx); // { name, ok, code?, line }
 * ```
 */
export async function verifyOne(
  name: string,
  options: VerifyOptions,
  json: boolean,
  ctx: CliContext,
): Promise<FileResult> {
  try {
    const report = await checkAttestation(readDocumentFile(name, ctx), options);
    const line = json
      ? JSON.stringify({ file: name, ...verificationJson(report) })
      : `${printable(name)}: ${printable(verdictLine(report))}`;
    return report.ok ? { name, ok: true, line } : { name, ok: false, code: report.error!.code, line };
  } catch (e) {
    if (!(e instanceof EnclaveVerifyError)) throw e;
    const line = json
      ? JSON.stringify({ file: name, ok: false, ...e.toJSON() })
      : `${printable(name)}: REJECTED ${e.code}: ${printable(e.message)}`;
    return { name, ok: false, code: e.code, line };
  }
}

/** Outcome counts of a finished batch. */
export interface BatchSummary {
  files: number;
  verified: number;
  rejected: number;
  /** Files not verified, by error code. */
  byCode: Record<string, number>;
}

/**
 * Verify every file of `args` (files and directories) with at most `jobs` documents verified at
 * once, printing one line per file in input order and a summary; returns the exit code (0 only
 * when every file verified; 1 otherwise, including files that could not be read or are not
 * documents).
 *
 * The first {@link POOL_AFTER} files are verified on the main thread, up to `jobs` in flight. Past
 * them, a batch with `jobs` > 1 on a machine with several CPUs runs on min(jobs, CPUs) threads: the
 * main thread and worker threads, each verifying one document at a time with Node's synchronous
 * ES384 call. Files go to the workers in chunks, a few queued ahead, so no thread waits for
 * another; the main thread verifies its own chunks between handing theirs out.
 *
 * @example
 * ```ts
 * const code = await runBatch(['evidence/'], { currentDate: 'document', expectedPcrs }, 8, false, ctx);
 * ```
 */
export async function runBatch(
  args: readonly string[],
  baseOptions: VerifyOptions,
  jobs: number,
  json: boolean,
  ctx: CliContext,
  threads?: { revocation?: RevocationFlagValues },
): Promise<number> {
  // Synchronous ES384 (trust/node/es384.ts): the same OpenSSL check as WebCrypto without the
  // thread-pool round trip and argument handling, about a quarter of each signature's CPU time.
  const options: VerifyOptions = {
    ...baseOptions,
    cache: baseOptions.cache ?? new ChainCache({ verifyEs384: nodeEs384Verifier }),
  };
  const inputs = listInputs(args, ctx);
  const summary: BatchSummary = { files: 0, verified: 0, rejected: 0, byCode: {} };
  const done = new Map<number, FileResult>();
  let taken = 0;
  let printed = 0;
  let exhausted = false;
  const waiting: Array<() => void> = [];
  const wait = () => new Promise<void>((r) => waiting.push(r));

  const flush = () => {
    // One write per flush: stdout to a pipe or file is synchronous in Node, a system call each.
    let out = '';
    for (let r = done.get(printed); r; r = done.get(printed)) {
      done.delete(printed++);
      out += `${r.line}\n`;
      summary.files++;
      if (r.ok) summary.verified++;
      else {
        summary.rejected++;
        summary.byCode[r.code!] = (summary.byCode[r.code!] ?? 0) + 1;
      }
    }
    if (out) ctx.stdout.write(out);
    for (const w of waiting.splice(0)) w();
  };

  // The next file and its place in the output, or undefined once the listing is exhausted.
  // Indices are handed out synchronously, and the listing answers its calls in order.
  const take = async (): Promise<{ index: number; name: string } | undefined> => {
    if (exhausted) return undefined;
    const index = taken++;
    const next = await inputs.next();
    if (next.done) {
      exhausted = true;
      taken--;
      return undefined;
    }
    return { index, name: next.value };
  };

  // Main thread: `jobs` loops, each verifying one file at a time, until `limit` files are taken.
  const window = jobs * WINDOW_FACTOR;
  const mainLoop = async (limit: number) => {
    for (;;) {
      // Back-pressure: wait while too many finished results queue behind an unfinished one.
      while (taken - printed >= window) await wait();
      if (taken >= limit) return;
      const file = await take();
      if (!file) return;
      done.set(file.index, await verifyOne(file.name, options, json, ctx));
      flush();
    }
  };
  const threadCount = Math.min(jobs, availableParallelism());
  const useThreads = threads !== undefined && threadCount > 1 && poolAvailable();
  const mainLimit = useThreads ? POOL_AFTER : Number.POSITIVE_INFINITY;
  await Promise.all(Array.from({ length: jobs }, () => mainLoop(mainLimit)));

  if (!exhausted && useThreads) {
    const { cache: _cache, checkRevocation: _revocation, ...plain } = options;
    // The main thread is one of the verifying threads: its code is warm already, and a thread it
    // would only feed sits idle most of the time.
    const poolThreads = threadCount - 1;
    const pool = new VerifyPool(poolThreads, {
      options: plain,
      ...(threads.revocation ? { revocation: threads.revocation } : {}),
      json,
      cwd: ctx.cwd,
      env: { ...ctx.env },
    });
    try {
      await dispatchChunks(pool, poolThreads);
    } finally {
      await pool.close();
    }
  }
  flush();
  if (summary.files === 0) {
    throw new EnclaveVerifyError('ERR_USAGE', 'no files to verify: the directories given are empty');
  }
  const codes = Object.entries(summary.byCode)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([code, n]) => `${code} ${n}`);
  if (json) ctx.stdout.write(`${JSON.stringify({ summary })}\n`);
  else {
    ctx.stdout.write(
      `${summary.files} files: ${summary.verified} verified, ${summary.rejected} rejected${codes.length ? ` (${codes.join(', ')})` : ''}\n`,
    );
  }
  return summary.rejected === 0 ? EXIT.VERIFIED : EXIT.REJECTED;

  // Threads: files go out in chunks of CHUNK, at most QUEUED_PER_THREAD chunks per thread, so a
  // thread finishing a chunk already has the next one; results are printed as the chunks return,
  // in input order. Finished results waiting behind an unfinished chunk are bounded as well. The
  // main thread verifies chunks of LOCAL_CHUNK itself between topping up the threads.
  async function dispatchChunks(pool: VerifyPool, poolThreads: number): Promise<void> {
    const maxChunks = poolThreads * QUEUED_PER_THREAD;
    const chunkWindow = 2 * (maxChunks + 1) * CHUNK;
    let outstanding = 0;
    let failure: { error: unknown } | undefined;
    const takeChunk = async (size: number) => {
      const names: string[] = [];
      let first = -1;
      for (let file = await take(); file; file = names.length < size ? await take() : undefined) {
        if (first < 0) first = file.index;
        names.push(file.name);
      }
      return { first, names };
    };
    for (;;) {
      while (!failure && !exhausted && outstanding < maxChunks && taken - printed < chunkWindow) {
        const { first, names } = await takeChunk(CHUNK);
        if (names.length === 0) break;
        outstanding++;
        pool.verifyMany(names).then(
          (results) => {
            outstanding--;
            for (const [i, r] of results.entries()) done.set(first + i, r);
            flush();
          },
          (error: unknown) => {
            outstanding--;
            failure ??= { error };
            flush();
          },
        );
      }
      if (failure || exhausted) break;
      if (taken - printed < chunkWindow) {
        const { first, names } = await takeChunk(LOCAL_CHUNK);
        for (const [i, name] of names.entries())
          done.set(first + i, await verifyOne(name, options, json, ctx));
        flush();
        // Local work only yields to promise jobs: let the threads' answers in before going on.
        await new Promise((r) => setImmediate(r));
      } else {
        await wait();
      }
    }
    while (outstanding > 0) await wait();
    if (failure) throw failure.error;
  }
}
