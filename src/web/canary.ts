/**
 * The page's Canary section: statements checked with pinned keys and evidence bundles replayed
 * against expected PCRs, through the same library verdicts as the CLI (`checkStatementArtifact`,
 * `checkEvidenceArtifact`), so the page and `enclave-verify canary` agree on verdict and code.
 */
import {
  checkEvidenceArtifact,
  checkStatementArtifact,
  detectCanaryArtifact,
  EnclaveVerifyError,
  type ExpectedPcrs,
  parseExpectedPcrs,
  parseKeysDocument,
} from '../index.js';
import { acceptDrops, MAX_DOCUMENT_FILE, readFileCapped } from './components/inputs.js';
import { showVerdict } from './components/verdict.js';
import { byId } from './dom.js';

function parseAt(text: string): Date {
  const t = text.trim();
  if (t === '' || t === 'now') return new Date();
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t) ||
    Number.isNaN(Date.parse(t))
  ) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `'${t.slice(0, 40)}' is not an ISO time with its zone, such as 2026-07-17T12:01:00Z`,
    );
  }
  return new Date(t);
}

function canaryPcrs(text: string): ExpectedPcrs {
  const pcrs = parseExpectedPcrs(text);
  for (const i of [0, 1, 2]) {
    if ((pcrs.get(i) ?? []).length !== 1) {
      throw new EnclaveVerifyError(
        'ERR_USAGE',
        `give exactly one expected value for PCR${i}: Canary checks PCR0, PCR1 and PCR2`,
      );
    }
  }
  return pcrs;
}

/**
 * Wire the Canary section of the page.
 *
 * @example
 * ```ts
 * setupCanarySection();
 * ```
 */
export function setupCanarySection(): void {
  const text = byId('canary-text', HTMLTextAreaElement);
  const file = byId('canary-file', HTMLInputElement);
  const drop = byId('canary-drop', HTMLDivElement);
  const keys = byId('canary-keys', HTMLTextAreaElement);
  const keysFile = byId('canary-keys-file', HTMLInputElement);
  const pcrs = byId('canary-pcrs', HTMLTextAreaElement);
  const at = byId('canary-at', HTMLInputElement);
  const rootPem = byId('root-pem', HTMLTextAreaElement);
  const button = byId('canary-verify', HTMLButtonElement);
  const box = byId('canary-verdict', HTMLDivElement);

  const fail = (e: unknown) => {
    const err =
      e instanceof EnclaveVerifyError
        ? e
        : new EnclaveVerifyError('ERR_INPUT_FORMAT', String((e as Error)?.message ?? e));
    showVerdict(box, { state: 'bad', title: 'Not checked', code: err.code, message: err.message, lines: [] });
  };
  const load = async (f: File | undefined, into: HTMLTextAreaElement) => {
    if (!f) return;
    const r = await readFileCapped(f, MAX_DOCUMENT_FILE);
    if (!r.ok) return fail(r.error);
    into.value = new TextDecoder().decode(r.bytes);
  };
  file.addEventListener('change', () => void load(file.files?.[0], text));
  keysFile.addEventListener('change', () => void load(keysFile.files?.[0], keys));
  acceptDrops(drop, (f) => void load(f, text));

  button.addEventListener('click', async () => {
    showVerdict(box, { state: 'busy', title: 'Checking…' });
    try {
      const artifact = text.value.trim();
      const kind = detectCanaryArtifact(artifact);
      if (kind === 'statement') {
        if (keys.value.trim() === '')
          throw new EnclaveVerifyError(
            'ERR_USAGE',
            'a statement is checked with the node’s pinned keys: paste or load its /keys.json',
          );
        let trusted: ReturnType<typeof parseKeysDocument>;
        try {
          trusted = parseKeysDocument(keys.value.trim());
        } catch (e) {
          // As the CLI's --trusted-keys: a bad pin is an input error, not a verdict on the statement.
          throw e instanceof EnclaveVerifyError
            ? new EnclaveVerifyError('ERR_INPUT_FORMAT', `pinned keys: ${e.message}`)
            : e;
        }
        const now = parseAt(at.value);
        const v = await checkStatementArtifact(artifact, trusted, now);
        const f = v.fields as Record<string, string | number | null>;
        if (v.ok) {
          showVerdict(box, {
            state: 'ok',
            title: `VALID statement: target ${f.target_id} is ${f.status} (${f.reason})`,
            lines: [
              `signed by ${f.verifier_id} (keys of node ${trusted.nodeId}), checked at ${now.toISOString()}`,
              `observed ${f.observed_at ?? '-'}, issued ${f.issued_at}, expires ${f.expires_at}`,
              ...(f.status === 'VERIFIED' ? [] : [`a valid signed ${f.status} result, not a passed check`]),
            ],
          });
        } else {
          showVerdict(box, {
            state: 'bad',
            title: 'INVALID statement',
            code: v.code!,
            message: v.message ?? '',
            lines: [],
          });
        }
      } else if (kind === 'evidence') {
        const expected = canaryPcrs(pcrs.value);
        const roots = rootPem.value.trim() === '' ? undefined : [rootPem.value];
        const v = await checkEvidenceArtifact(artifact, expected, roots);
        const f = v.fields as Record<string, string>;
        const lines = f.reason
          ? [
              `target ${f.target_id}, observed ${f.observed_at} (the validation time, not proof of freshness)`,
              `evidence ${f.evidence_digest}`,
              ...(roots ? ['chain checked against the root YOU supplied, NOT the AWS Nitro root'] : []),
            ]
          : [];
        if (v.ok) showVerdict(box, { state: 'ok', title: `Evidence replayed: ${f.reason}`, lines });
        else
          showVerdict(box, {
            state: 'bad',
            title: 'Evidence REFUSED',
            code: v.code!,
            message: v.message ?? '',
            lines,
          });
      } else {
        throw new EnclaveVerifyError(
          'ERR_INPUT_FORMAT',
          'this is neither a Canary statement ({payload, signers}) nor an evidence bundle ({protocol, document, ...})',
        );
      }
    } catch (e) {
      fail(e);
    }
  });
}
