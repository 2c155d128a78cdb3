/**
 * Getting bytes into the page: file pickers, drag and drop, paste. Sizes are capped before
 * reading so a dropped multi-gigabyte file cannot freeze the tab.
 */

/** Largest attestation input read (a document is ~5 KB; endpoint JSON with a manifest a bit more). */
export const MAX_DOCUMENT_FILE = 1024 * 1024;
/** Largest EIF measured in the page (held in memory; bigger images belong to `enclave-verify measure`). */
export const MAX_EIF_FILE = 64 * 1024 * 1024;
/** Largest expected-PCR file read. */
export const MAX_PCRS_FILE = 1024 * 1024;

import { EnclaveVerifyError } from '../../index.js';

/** A file read into memory, or why it was not. */
export type ReadResult =
  | { ok: true; name: string; bytes: Uint8Array }
  | { ok: false; error: EnclaveVerifyError };

/**
 * Read a user-chosen file, refusing files above `maxBytes` (ERR_INPUT_TOO_LARGE) before reading them.
 *
 * @example
 * ```ts
 * const r = await readFileCapped(input.files[0], MAX_DOCUMENT_FILE);
 * ```
 */
export async function readFileCapped(file: File, maxBytes: number): Promise<ReadResult> {
  if (file.size > maxBytes) {
    return {
      ok: false,
      error: new EnclaveVerifyError(
        'ERR_INPUT_TOO_LARGE',
        `${file.name} is ${file.size} bytes, more than the ${maxBytes} bytes this field accepts; check that this is the right file`,
      ),
    };
  }
  return { ok: true, name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
}

/**
 * Make `zone` accept dropped files: highlight while dragging, hand the first file to `onFile`.
 * The zone's file input stays the keyboard route; dropping is a shortcut for pointer users.
 *
 * @example
 * ```ts
 * acceptDrops(byId('doc-drop', HTMLDivElement), (file) => loadDocumentFile(file));
 * ```
 */
export function acceptDrops(zone: HTMLElement, onFile: (file: File) => void): void {
  let depth = 0;
  zone.addEventListener('dragenter', (e) => {
    e.preventDefault();
    depth++;
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove('dragging');
  });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove('dragging');
    const file = e.dataTransfer?.files[0];
    if (file) onFile(file);
  });
}
