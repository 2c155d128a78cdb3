/**
 * Loading a vector suite from disk (Node only): a suite index, a case file, or a directory
 * holding `suite.json`. Cases of optional case files whose inputs are absent (data a third
 * party's suite keeps outside itself) become skips, never failures.
 */
import { access, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EnclaveVerifyError } from '../../errors.js';
import { caseFiles, parseVectorFile, type VectorCase } from '../format.js';

/** A loaded suite: every case in include order, and why some cannot run here. */
export interface LoadedSuite {
  /** URL of the file that was loaded first. */
  root: URL;
  cases: VectorCase[];
  /** Case id -> reason, for cases of optional files whose inputs are missing. */
  unavailable: Map<string, string>;
}

async function exists(url: URL): Promise<boolean> {
  try {
    await access(url);
    return true;
  } catch {
    return false;
  }
}

/**
 * Load a suite from a directory (its `suite.json`) or a JSON file, following `include`s.
 * Throws `ERR_IO` for unreadable files and `ERR_INPUT_FORMAT` for invalid ones or duplicate ids.
 *
 * @example
 * ```ts
 * const suite = await loadSuite('vectors/');
 * console.log(suite.cases.length, 'cases');
 * ```
 */
export async function loadSuite(path: string, cwd = process.cwd()): Promise<LoadedSuite> {
  let file = resolve(cwd, path);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (e) {
    throw new EnclaveVerifyError('ERR_IO', `cannot read vector suite ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (info.isDirectory()) file = resolve(file, 'suite.json');
  const root = pathToFileURL(file);
  const cases: VectorCase[] = [];
  const unavailable = new Map<string, string>();
  const seen = new Set<string>();
  const ids = new Map<string, string>();

  const visit = async (url: URL, depth: number): Promise<void> => {
    if (seen.has(url.href)) return; // included twice (or a cycle): load once
    seen.add(url.href);
    if (depth > 16)
      throw new EnclaveVerifyError('ERR_INPUT_FORMAT', `vector includes nest too deep at ${url.href}`);
    let text: string;
    try {
      text = await readFile(url, 'utf8');
    } catch (e) {
      throw new EnclaveVerifyError(
        'ERR_IO',
        `cannot read vector file ${url.pathname}: ${(e as Error).message}; check the include paths`,
        { cause: e },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new EnclaveVerifyError(
        'ERR_INPUT_FORMAT',
        `vector file ${url.pathname} is not JSON: ${(e as Error).message}`,
      );
    }
    const parsed = parseVectorFile(json, url);
    if (parsed.type === 'index') {
      for (const inc of parsed.include) await visit(inc, depth + 1);
      return;
    }
    for (const c of parsed.cases) {
      const prev = ids.get(c.id);
      if (prev) {
        throw new EnclaveVerifyError(
          'ERR_INPUT_FORMAT',
          `duplicate vector id ${c.id} in ${url.pathname} (first in ${prev}); ids must be unique`,
        );
      }
      ids.set(c.id, url.pathname);
      cases.push(c);
      if (c.optional) {
        for (const f of caseFiles(c)) {
          if (!(await exists(f))) {
            unavailable.set(c.id, `input ${f.pathname} is not present on this machine`);
            break;
          }
        }
      }
    }
  };
  await visit(root, 0);
  return { root, cases, unavailable };
}

/**
 * Read a file named by a case, as bytes.
 *
 * @example
 * ```ts
 * const bytes = await readCaseFile(new URL('doc.cbor', c.base));
 * ```
 */
export async function readCaseFile(url: URL): Promise<Uint8Array> {
  try {
    const buf = await readFile(url);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new EnclaveVerifyError(
      'ERR_IO',
      `cannot read vector input ${url.pathname}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}
