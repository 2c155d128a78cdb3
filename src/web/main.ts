/**
 * The verifier page: wires the form to the library. Every decision (parsing, chain, signature,
 * PCRs, nonce, freshness) is made by the library imported from `src/index.ts`, the same code the
 * CLI runs; this file only gathers inputs and displays the outcome.
 */
import './styles.css';
import {
  decodeAttestation,
  describeManifest,
  detectDocumentInput,
  type ManifestView,
  measureEifBytes,
  parseInstant,
  probeDeployment,
  toHex,
} from '../index.js';
import { setupCanarySection } from './canary.js';
import {
  acceptDrops,
  MAX_DOCUMENT_FILE,
  MAX_EIF_FILE,
  MAX_PCRS_FILE,
  readFileCapped,
} from './components/inputs.js';
import { showVerdict } from './components/verdict.js';
import { byId, h } from './dom.js';
import {
  describeError,
  type ExpectedInput,
  parseExpectedInput,
  renderReport,
  verifyDocument,
} from './verifier.js';

const form = byId('verify-form', HTMLFormElement);
const docFile = byId('doc-file', HTMLInputElement);
const docDrop = byId('doc-drop', HTMLDivElement);
const docText = byId('doc-text', HTMLTextAreaElement);
const docStatus = byId('doc-status', HTMLParagraphElement);
const endpointUrl = byId('endpoint-url', HTMLInputElement);
const endpointFetch = byId('endpoint-fetch', HTMLButtonElement);
const pcrsText = byId('pcrs-text', HTMLTextAreaElement);
const pcrsFile = byId('pcrs-file', HTMLInputElement);
const pcrsTargetRow = byId('pcrs-target-row', HTMLDivElement);
const pcrsTarget = byId('pcrs-target', HTMLSelectElement);
const pcrsStatus = byId('pcrs-status', HTMLParagraphElement);
const allowDebug = byId('allow-debug', HTMLInputElement);
const rootPem = byId('root-pem', HTMLTextAreaElement);
const atTime = byId('at-time', HTMLInputElement);
const atGiven = byId('at-given', HTMLInputElement);
const verifyButton = byId('verify', HTMLButtonElement);
const verdict = byId('verdict', HTMLDivElement);
const report = byId('report', HTMLDivElement);
const result = byId('result', HTMLElement);
const eifFile = byId('eif-file', HTMLInputElement);
const eifResult = byId('eif-result', HTMLDivElement);

/** The document as last loaded, raw bytes of the COSE_Sign1 after removing its encoding. */
let loaded: { bytes: Uint8Array; source: string; manifest?: ManifestView } | undefined;
/** Expected PCRs as last parsed; `undefined` when the field is empty. */
let expected: ExpectedInput | undefined;
let expectedError: unknown;
/** Why the last document input could not be read, shown again when Verify is pressed. */
let loadError: unknown;

function setStatus(el: HTMLElement, text: string, kind: 'ok' | 'error' | '' = ''): void {
  el.textContent = text;
  el.className = `field-status${kind ? ` ${kind}` : ''}`;
}

/** Remove the input's encoding and decode (unverified) for a one-line preview. */
function loadDocument(input: Uint8Array, source: string): void {
  loaded = undefined;
  loadError = undefined;
  try {
    const { bytes, format } = detectDocumentInput(input);
    const doc = decodeAttestation(bytes);
    // Endpoint JSON may carry the (unsigned) manifest next to the document: keep it for display.
    const manifest = format === 'json' ? manifestOf(input) : undefined;
    loaded = { bytes, source, ...(manifest ? { manifest } : {}) };
    setStatus(
      docStatus,
      `Loaded ${source}: ${bytes.length} bytes (${FORMAT_NAMES[format]}), module ${doc.moduleId}, signed ${doc.timestamp.toISOString()}. Not verified yet.`,
      'ok',
    );
  } catch (error) {
    loadError = error;
    const { code, message } = describeError(error);
    setStatus(docStatus, `${source}: ${code}: ${message}`, 'error');
  }
}

function manifestOf(input: Uint8Array): ManifestView | undefined {
  try {
    const json = JSON.parse(new TextDecoder().decode(input)) as { manifest?: unknown };
    const view = describeManifest(json.manifest);
    return view && Object.keys(json.manifest as object).length > 0 ? view : undefined;
  } catch {
    return undefined;
  }
}

const FORMAT_NAMES: Record<string, string> = {
  cbor: 'raw CBOR',
  base64: 'base64',
  hex: 'hex',
  json: 'endpoint JSON',
};

function readExpected(text: string, source: string): void {
  expected = undefined;
  expectedError = undefined;
  if (text.trim() === '') {
    pcrsTargetRow.hidden = true;
    setStatus(pcrsStatus, '');
    return;
  }
  try {
    // Keep the target picked so far when the config still has it (the reader falls back to the first).
    const parsed = parseExpectedInput(text, pcrsTarget.value || undefined);
    if (parsed.targets.length > 1) {
      pcrsTarget.replaceChildren(
        ...parsed.targets.map((t) => {
          const option = document.createElement('option');
          option.value = t.id;
          option.textContent = t.name && t.name !== t.id ? `${t.name} (${t.id})` : t.id;
          return option;
        }),
      );
      pcrsTarget.value = parsed.target ?? '';
      pcrsTargetRow.hidden = false;
    } else {
      pcrsTargetRow.hidden = true;
    }
    expected = parsed;
    const indexes = [...parsed.values.keys()].map((i) => `PCR${i}`).join(', ');
    setStatus(
      pcrsStatus,
      `${source}: ${parsed.values.size} expected PCR${parsed.values.size === 1 ? '' : 's'} (${indexes})${parsed.target ? ` for target ${parsed.target}` : ''}.`,
      'ok',
    );
  } catch (error) {
    expectedError = error;
    const { code, message } = describeError(error);
    setStatus(pcrsStatus, `${source}: ${code}: ${message}`, 'error');
  }
}

/** A user-supplied root (PEM) replaces the pinned AWS root; empty means the pinned root. */
function trustedRoots(): string[] | undefined {
  const pem = rootPem.value.trim();
  return pem === '' ? undefined : [pem];
}

/**
 * The chosen verification time. A given time must say its zone (`Z` or an offset), read by the
 * library's `parseInstant` exactly as the CLI reads `--at`, so the verdict never depends on the
 * device's time zone.
 */
function atChoice(): 'now' | 'document' | Date {
  const checked = form.querySelector<HTMLInputElement>('input[name="at"]:checked');
  if (checked?.value === 'document') return 'document';
  if (checked?.value !== 'given') return 'now';
  return parseInstant(atTime.value, 'the given verification time');
}

// Typing a time selects the "given time" choice.
atTime.addEventListener('input', () => {
  atGiven.checked = true;
});

async function runVerification(): Promise<void> {
  if (!loaded) {
    const { code, message } =
      loadError === undefined
        ? { code: 'ERR_USAGE', message: 'no attestation document is loaded; drop, choose or paste one first' }
        : describeError(loadError);
    showVerdict(verdict, { state: 'bad', title: 'Not verified', code, message, lines: [] });
    report.replaceChildren();
    return;
  }
  if (expectedError !== undefined) {
    const { code, message } = describeError(expectedError);
    showVerdict(verdict, { state: 'bad', title: 'Expected PCRs unreadable', code, message, lines: [] });
    report.replaceChildren();
    return;
  }
  let at: ReturnType<typeof atChoice>;
  try {
    at = atChoice();
  } catch (error) {
    const { code, message } = describeError(error);
    showVerdict(verdict, { state: 'bad', title: 'Not verified', code, message, lines: [] });
    report.replaceChildren();
    return;
  }
  showVerdict(verdict, { state: 'busy', title: 'Verifying…' });
  verifyButton.disabled = true;
  try {
    const outcome = await verifyDocument(loaded.bytes, {
      at,
      expected: expected?.values,
      allowDebug: allowDebug.checked,
      trustedRoots: trustedRoots(),
      manifest: loaded.manifest,
    });
    showVerdict(verdict, outcome.verdict);
    report.replaceChildren(renderReport(outcome));
  } finally {
    verifyButton.disabled = false;
  }
}

/** On a phone the result is below the form: bring the verdict into view once it is there. */
function revealResult(): void {
  const box = verdict.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) result.scrollIntoView({ block: 'start' });
}

async function runEndpoint(): Promise<void> {
  const url = endpointUrl.value.trim();
  if (expectedError !== undefined) {
    const { code, message } = describeError(expectedError);
    showVerdict(verdict, { state: 'bad', title: 'Expected PCRs unreadable', code, message, lines: [] });
    return;
  }
  showVerdict(verdict, { state: 'busy', title: 'Fetching…', detail: `POST ${url} with a fresh nonce` });
  endpointFetch.disabled = true;
  verifyButton.disabled = true;
  try {
    let probe: Awaited<ReturnType<typeof probeDeployment>>;
    try {
      probe = await probeDeployment(url, {
        expectedPcrs: expected?.values,
        allowDebug: allowDebug.checked,
        trustedRoots: trustedRoots(),
      });
    } catch (error) {
      const { code, message } = describeError(error);
      showVerdict(verdict, { state: 'bad', title: 'Not verified', code, message, lines: [] });
      report.replaceChildren();
      return;
    }
    if (probe.document) {
      loaded = { bytes: probe.document, source: probe.endpoint };
      setStatus(docStatus, `Fetched ${probe.document.length} bytes from ${probe.endpoint}.`, 'ok');
    }
    const outcome = await verifyDocument(probe.document, {
      at: 'now',
      expected: expected?.values,
      allowDebug: allowDebug.checked,
      trustedRoots: trustedRoots(),
      probe,
    });
    showVerdict(verdict, outcome.verdict);
    report.replaceChildren(renderReport(outcome));
    revealResult();
  } finally {
    endpointFetch.disabled = false;
    verifyButton.disabled = false;
  }
}

async function loadDocumentFile(file: File): Promise<void> {
  docText.value = '';
  const read = await readFileCapped(file, MAX_DOCUMENT_FILE);
  if (read.ok) {
    loadDocument(read.bytes, read.name);
    return;
  }
  // Never leave an earlier document in place behind a refused one.
  loaded = undefined;
  loadError = read.error;
  setStatus(docStatus, `${file.name}: ${read.error.code}: ${read.error.message}`, 'error');
}

docFile.addEventListener('change', () => {
  const file = docFile.files?.[0];
  if (file) void loadDocumentFile(file);
});

acceptDrops(docDrop, (file) => {
  docFile.value = '';
  void loadDocumentFile(file);
});

docText.addEventListener('input', () => {
  docFile.value = '';
  if (docText.value.trim() === '') {
    loaded = undefined;
    loadError = undefined;
    setStatus(docStatus, '');
    return;
  }
  loadDocument(new TextEncoder().encode(docText.value), 'pasted text');
});

pcrsText.addEventListener('input', () => {
  pcrsFile.value = '';
  pcrsTargetRow.hidden = true;
  readExpected(pcrsText.value, 'pasted PCRs');
});

pcrsFile.addEventListener('change', async () => {
  const file = pcrsFile.files?.[0];
  if (!file) return;
  const read = await readFileCapped(file, MAX_PCRS_FILE);
  if (!read.ok) {
    expected = undefined;
    expectedError = read.error;
    setStatus(pcrsStatus, `${file.name}: ${read.error.code}: ${read.error.message}`, 'error');
    return;
  }
  const text = new TextDecoder().decode(read.bytes);
  // Show what was loaded so the user can read and edit it.
  pcrsText.value = text;
  pcrsTargetRow.hidden = true;
  readExpected(text, read.name);
});

pcrsTarget.addEventListener('change', () => readExpected(pcrsText.value, 'pasted PCRs'));

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void runVerification().then(revealResult);
});

form.addEventListener('reset', () => {
  loaded = undefined;
  loadError = undefined;
  expected = undefined;
  expectedError = undefined;
  pcrsTargetRow.hidden = true;
  setStatus(docStatus, '');
  setStatus(pcrsStatus, '');
  showVerdict(verdict, { state: 'idle', title: 'No document checked yet.' });
  report.replaceChildren();
});

endpointFetch.addEventListener('click', () => {
  void runEndpoint();
});
endpointUrl.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') {
    event.preventDefault();
    void runEndpoint();
  }
});

/** Optional: measure a small EIF in the page and offer its PCRs as the expected values. */
eifFile.addEventListener('change', async () => {
  const file = eifFile.files?.[0];
  if (!file) return;
  eifResult.replaceChildren(h('p', { class: 'field-status' }, `Measuring ${file.name}…`));
  const read = await readFileCapped(file, MAX_EIF_FILE);
  if (!read.ok) {
    eifResult.replaceChildren(
      h(
        'p',
        { class: 'field-status error' },
        `${file.name}: ${read.error.code}: ${read.error.message}; measure large images with \`enclave-verify measure\``,
      ),
    );
    return;
  }
  try {
    const m = await measureEifBytes(read.bytes);
    const pcrs: [string, Uint8Array | undefined][] = [
      ['PCR0', m.pcrs.pcr0],
      ['PCR1', m.pcrs.pcr1],
      ['PCR2', m.pcrs.pcr2],
      ['PCR8', m.pcrs.pcr8],
    ];
    const lines = pcrs.filter(([, v]) => v !== undefined).map(([name, v]) => `${name}: ${toHex(v!)}`);
    const use = h('button', { type: 'button', id: 'eif-use' }, 'Use as expected PCRs');
    use.addEventListener('click', () => {
      pcrsText.value = `${lines.join('\n')}\n`;
      pcrsFile.value = '';
      pcrsTargetRow.hidden = true;
      readExpected(pcrsText.value, file.name);
      pcrsText.focus();
    });
    eifResult.replaceChildren(
      h(
        'p',
        { class: 'field-status ok' },
        `${file.name}: ${m.fileSize} bytes, EIF v${m.header.version}, CRC ${m.crc.ok ? 'ok' : 'MISMATCH'}.`,
      ),
      h('pre', { class: 'data hex', id: 'eif-pcrs' }, lines.join('\n')),
      use,
    );
  } catch (error) {
    const { code, message } = describeError(error);
    eifResult.replaceChildren(h('p', { class: 'field-status error' }, `${file.name}: ${code}: ${message}`));
  }
});

// Unexpected failures must surface in the verdict, not vanish into the console.
window.addEventListener('unhandledrejection', (event) => {
  const { code, message } = describeError(event.reason);
  showVerdict(verdict, { state: 'bad', title: 'Internal error', code, message, lines: [] });
  verifyButton.disabled = false;
  endpointFetch.disabled = false;
});

// Browsers may restore field contents on reload or back navigation without input events.
if (docText.value.trim() !== '') loadDocument(new TextEncoder().encode(docText.value), 'pasted text');
if (pcrsText.value.trim() !== '') readExpected(pcrsText.value, 'pasted PCRs');

setupCanarySection();

document.documentElement.dataset.ready = 'true';
