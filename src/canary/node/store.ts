/**
 * Durable attempt history of a Canary monitor: one JSON Lines file per target under
 * `DIR/history/<target>.jsonl`, each line one attempt `{id, observation, statement, evidence,
 * claims}`, appended and fsynced before the attempt is published.
 *
 * Why JSON Lines rather than an embedded database: an append is one `write` + `fdatasync`, a
 * crash can only tear the last line (detected on open: no final newline or not JSON, then
 * truncated away, never served), the files are readable with `jq` by the auditors the evidence
 * is for, and no native dependency is needed. Memory stays bounded: only each attempt's small
 * observation and its byte range stay in memory; statements and evidence are read back from
 * disk on request. `history_limit` is kept by rewriting a file to its newest attempts (write a
 * temporary file, fsync, rename over, fsync the directory) once it holds a tenth more.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EnclaveVerifyError } from '../../errors.js';
import type { EvidenceClaims, Observation } from '../observation.js';

/** One stored attempt. */
export interface StoredAttempt {
  id: number;
  observation: Observation;
  /** The signed statement published right after this attempt. */
  statement: unknown;
  /** The text of the evidence bundle the statement names (Canary's own rendering), or null. */
  evidence: string | null;
  /** The evidence claims, when a document was received. */
  claims: EvidenceClaims | null;
}

interface IndexEntry {
  id: number;
  observation: Observation;
  offset: number;
  length: number;
}

interface TargetFile {
  path: string;
  handle: FileHandle;
  size: number;
  /** Oldest first; at most the history limit. */
  index: IndexEntry[];
  /** Records in the file (may exceed the index until the next prune). */
  lines: number;
  nextId: number;
  /** Serialises appends, prunes and reads of this file. */
  queue: Promise<unknown>;
}

/** What opening found and repaired. */
export interface StoreRecovery {
  target: string;
  /** Attempts reloaded. */
  attempts: number;
  /** Bytes of a torn or unreadable tail that were cut off. */
  droppedBytes: number;
  /** Complete lines that could not be read (kept out of the index). */
  badLines: number;
}

/** Options of {@link AttemptStore.open}. */
export interface AttemptStoreOptions {
  /** Attempts kept per target (`history_limit`). */
  historyLimit: number;
  /** Skip fsync (benchmarks comparing its cost only). Default false. */
  noSync?: boolean;
}

function ioError(what: string, cause: unknown): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_IO',
    `${what}: ${(cause as Error)?.message ?? String(cause)}; check the --data directory (permissions, free space)`,
    { cause },
  );
}

function parseLine(bytes: Buffer): StoredAttempt | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as StoredAttempt;
    if (
      typeof value !== 'object' ||
      value === null ||
      !Number.isSafeInteger(value.id) ||
      value.id < 1 ||
      typeof value.observation !== 'object' ||
      value.observation === null
    )
      return undefined;
    return value;
  } catch {
    return undefined;
  }
}

/** Scan a history file: every complete, readable line's range, and where the good part ends. */
async function scan(
  path: string,
): Promise<{ entries: IndexEntry[]; goodEnd: number; size: number; bad: number; lines: number }> {
  const entries: IndexEntry[] = [];
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let lineStart = 0;
  let position = 0;
  let goodEnd = 0;
  let bad = 0;
  let lines = 0;
  const stream = createReadStream(path);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      if (nl < 0) {
        pending.push(chunk.subarray(from));
        pendingLength += chunk.length - from;
        break;
      }
      const piece = chunk.subarray(from, nl);
      const line = pendingLength > 0 ? Buffer.concat([...pending, piece]) : piece;
      pending = [];
      pendingLength = 0;
      const end = position + nl + 1;
      const record = parseLine(line);
      if (record) {
        entries.push({
          id: record.id,
          observation: record.observation,
          offset: lineStart,
          length: line.length,
        });
        goodEnd = end;
        lines++;
      } else {
        bad++;
      }
      lineStart = end;
      from = nl + 1;
    }
    position += chunk.length;
  }
  return { entries, goodEnd, size: position, bad, lines };
}

/**
 * Per-target attempt history on disk.
 *
 * @example
 * ```ts
 * const store = await AttemptStore.open('/var/lib/canary', ['api'], { historyLimit: 1000 });
 * const saved = await store.append('api', (id) => ({ observation: { ...obs, id }, statement, evidence, claims }));
 * store.list('api', 0, 10); // newest first
 * ```
 */
export class AttemptStore {
  readonly recovery: StoreRecovery[] = [];
  private readonly files = new Map<string, TargetFile>();
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly options: AttemptStoreOptions,
  ) {}

  /** Open (creating as needed) the history of each target, repairing a torn tail. */
  static async open(
    dir: string,
    targets: readonly string[],
    options: AttemptStoreOptions,
  ): Promise<AttemptStore> {
    if (!Number.isInteger(options.historyLimit) || options.historyLimit < 1) {
      throw new EnclaveVerifyError('ERR_USAGE', 'historyLimit must be a positive integer');
    }
    const store = new AttemptStore(dir, options);
    const historyDir = join(dir, 'history');
    try {
      await mkdir(historyDir, { recursive: true });
    } catch (cause) {
      throw ioError(`cannot create ${historyDir}`, cause);
    }
    for (const target of targets) {
      if (!/^[A-Za-z0-9_-]+$/.test(target)) {
        throw new EnclaveVerifyError('ERR_USAGE', `target id '${target.slice(0, 80)}' is not an identifier`);
      }
      await store.openTarget(target, join(historyDir, `${target}.jsonl`));
    }
    await syncDir(historyDir, options.noSync);
    return store;
  }

  private async openTarget(target: string, path: string): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'a+');
    } catch (cause) {
      throw ioError(`cannot open ${path}`, cause);
    }
    const found = await scan(path).catch((cause) => {
      void handle.close();
      throw ioError(`cannot read ${path}`, cause);
    });
    let size = found.size;
    const droppedBytes = found.size - found.goodEnd;
    if (droppedBytes > 0) {
      // A crash tore the last append (or left garbage after it): cut it off so it is never
      // served and the next append starts on a line of its own.
      await handle.truncate(found.goodEnd);
      if (!this.options.noSync) await handle.sync();
      size = found.goodEnd;
    }
    const limit = this.options.historyLimit;
    const maxId = found.entries.reduce((m, e) => Math.max(m, e.id), 0);
    this.files.set(target, {
      path,
      handle,
      size,
      index: found.entries.slice(-limit),
      lines: found.lines,
      nextId: maxId + 1,
      queue: Promise.resolve(),
    });
    this.recovery.push({
      target,
      attempts: Math.min(found.entries.length, limit),
      droppedBytes,
      badLines: found.bad,
    });
  }

  private file(target: string): TargetFile {
    const f = this.files.get(target);
    if (!f) throw new EnclaveVerifyError('ERR_USAGE', `no history for target '${target.slice(0, 80)}'`);
    return f;
  }

  private serial<T>(f: TargetFile, work: () => Promise<T>): Promise<T> {
    const run = f.queue.then(work, work);
    f.queue = run.catch(() => {});
    return run;
  }

  /**
   * Append one attempt; `make` receives the attempt number to put in it. Resolves once the line
   * is on disk (fsynced), so a published attempt survives a crash.
   */
  append(target: string, make: (id: number) => Omit<StoredAttempt, 'id'>): Promise<StoredAttempt> {
    if (this.closed) return Promise.reject(new EnclaveVerifyError('ERR_IO', 'the history store is closed'));
    const f = this.file(target);
    return this.serial(f, async () => {
      const id = f.nextId;
      const record: StoredAttempt = { id, ...make(id) };
      const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
      try {
        await f.handle.write(line, 0, line.length, null);
        if (!this.options.noSync) await f.handle.datasync();
      } catch (cause) {
        // The line may be half written: cut back so the file stays a sequence of whole lines.
        await f.handle.truncate(f.size).catch(() => {});
        throw ioError(`cannot append to ${f.path}`, cause);
      }
      f.nextId = id + 1;
      f.index.push({ id, observation: record.observation, offset: f.size, length: line.length - 1 });
      f.size += line.length;
      f.lines++;
      const limit = this.options.historyLimit;
      if (f.index.length > limit) f.index.splice(0, f.index.length - limit);
      if (f.lines > limit + Math.max(1, Math.floor(limit / 10))) await this.prune(f);
      return record;
    });
  }

  /** Rewrite a file down to the attempts in the index, atomically. */
  private async prune(f: TargetFile): Promise<void> {
    const tmp = `${f.path}.tmp`;
    const out = await open(tmp, 'w');
    const moved: IndexEntry[] = [];
    let offset = 0;
    try {
      for (const e of f.index) {
        const buf = Buffer.alloc(e.length + 1);
        await f.handle.read(buf, 0, e.length, e.offset);
        buf[e.length] = 0x0a;
        await out.write(buf, 0, buf.length, offset);
        moved.push({ ...e, offset });
        offset += buf.length;
      }
      if (!this.options.noSync) await out.sync();
    } catch (cause) {
      await out.close().catch(() => {});
      await rm(tmp, { force: true });
      throw ioError(`cannot prune ${f.path}`, cause);
    }
    await out.close();
    // rename is atomic: a crash leaves either the old file or the pruned one, both whole.
    await rename(tmp, f.path);
    await syncDir(join(this.dir, 'history'), this.options.noSync);
    await f.handle.close();
    f.handle = await open(f.path, 'a+');
    f.index = moved;
    f.size = offset;
    f.lines = moved.length;
  }

  /** Attempts of a target, newest first, from `offset`, at most `limit`. */
  list(target: string, offset: number, limit: number): Observation[] {
    const index = this.file(target).index;
    const out: Observation[] = [];
    for (let i = index.length - 1 - offset; i >= 0 && out.length < limit; i--)
      out.push(index[i]!.observation);
    return out;
  }

  /** Number of attempts kept for a target. */
  count(target: string): number {
    return this.file(target).index.length;
  }

  /** Read one kept attempt back from disk; `undefined` when it is unknown or pruned. */
  get(target: string, id: number): Promise<StoredAttempt | undefined> {
    const f = this.files.get(target);
    if (!f) return Promise.resolve(undefined);
    return this.serial(f, async () => {
      const entry = binarySearch(f.index, id);
      if (!entry) return undefined;
      const buf = Buffer.alloc(entry.length);
      await f.handle.read(buf, 0, entry.length, entry.offset);
      return parseLine(buf);
    });
  }

  /** The newest kept attempt, read back from disk. */
  latest(target: string): Promise<StoredAttempt | undefined> {
    const index = this.file(target).index;
    const last = index[index.length - 1];
    return last ? this.get(target, last.id) : Promise.resolve(undefined);
  }

  /** Wait for pending writes and close every file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.files.values()) {
      await f.queue;
      await f.handle.close();
    }
  }
}

function binarySearch(index: IndexEntry[], id: number): IndexEntry | undefined {
  let lo = 0;
  let hi = index.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = index[mid]!;
    if (e.id === id) return e;
    if (e.id < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

async function syncDir(dir: string, noSync: boolean | undefined): Promise<void> {
  if (noSync) return;
  // A new or renamed file is durable only once its directory entry is.
  try {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the data itself is synced.
  }
}
