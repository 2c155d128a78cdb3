/**
 * Issue 15 finding 3, "HTML/Markdown injection into the --report audit record": endpoint errors,
 * document fields, certificate names, TLS claims and file names reach the Markdown record as
 * inert text. The record is checked structurally (headings, table cells, links, HTML, autolinks
 * outside code) and each escaped text is shown to read back as the original.
 */
import { describe, expect, it } from 'vitest';
import type { DeploymentProbe } from '../../src/deployment/verify-deployment.js';
import { EnclaveVerifyError } from '../../src/errors.js';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { renderDeploymentAudit } from '../../src/report/deployment-audit.js';
import { markdownCode, markdownFence, markdownText } from '../../src/report/markdown.js';
import { utf8 } from '../../src/util/bytes.js';
import { checkAttestation } from '../../src/verify.js';

/** Every construct that would render as something other than text. */
const INJECTION = [
  '# Heading',
  '[link](https://evil.example/phish)',
  '![image](https://evil.example/pixel.png)',
  '<img src=x onerror=alert(1)>',
  '<b>bold</b>',
  'a|b||c',
  '`code` ``double`` ```',
  '*em* **strong** _em_ ~~strike~~',
  'https://evil.example www.evil.example mail@evil.example',
  '&lt;entity&gt; &#60;',
  '[ref]: https://evil.example',
  '\\',
].join(' ');
const LINES = `1. ordered\n- item\n> quote\n# heading\n===\n${INJECTION}`;

/** What a CommonMark renderer shows for text written by markdownText. */
function rendered(md: string): string {
  return md
    .replace(/\\([!-/:-@[-`{-~])/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The record without its code blocks and code spans, where nothing is interpreted. */
function outsideCode(md: string): string {
  return md
    .replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '')
    .replace(/(?<![\\`])(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, 'CODE');
}

async function hostileProbe(): Promise<DeploymentProbe> {
  const pki = await createTestPki();
  const tls = { tls: { mode: `tls${INJECTION}`, domain: INJECTION, certfp: 'ab'.repeat(32) } };
  const doc = await issueAttestation(pki, { moduleId: `i-1 ${LINES}`, userData: utf8(JSON.stringify(tls)) });
  const verification = await checkAttestation(doc, {
    trustedRoots: [pki.rootPem],
    currentDate: 'document',
    expectedPcrs: { 0: '11'.repeat(48) },
  });
  expect(verification.error?.code).toBe('ERR_PCR_MISMATCH');
  // A check detail quoting document text, as parse and TLS errors do.
  verification.checks.push({ name: `pcrs ${LINES}`, ok: false, detail: LINES, code: 'ERR_PCR_MISMATCH' });
  return {
    ok: false,
    error: new EnclaveVerifyError('ERR_ENDPOINT_ERROR', `the endpoint answered: ${LINES}`),
    input: 'https://enclave.example',
    endpoint: 'https://enclave.example/attestation?x=`a|b`',
    nonce: new Uint8Array(32),
    checkedAt: new Date('2026-01-01T00:00:00Z'),
    latencyMs: 3,
    status: 500,
    document: doc,
    documentField: 'document',
    documentSha256: '00'.repeat(32),
    responseSha256: undefined,
    verification,
    tlsBinding: {
      status: 'unsupported',
      claim: { mode: 'tls', domain: `${INJECTION}\`\``, certfp: 'ab'.repeat(32) },
      host: 'enclave.example',
      observedCertfp: undefined,
      summary: LINES,
    },
    manifest: {
      signed: false,
      sources: [],
      fields: {},
      raw: { [LINES]: `${LINES}\n\`\`\`\n# out of the fence` },
    },
    maxAgeMs: 300_000,
    timeoutMs: 30_000,
  };
}

describe('HTML/Markdown injection into the --report audit record', () => {
  it('server text renders as text: no heading, link, image, HTML, autolink or extra cell', async () => {
    const probe = await hostileProbe();
    const md = renderDeploymentAudit(probe, {
      argv: ['deployment', 'https://enclave.example', '--eif', `x${INJECTION}.eif`],
      expectations: [`--expect-pcrs ${LINES}`, `--eif ${INJECTION}`],
      verifyFlags: [],
      tool: `enclave-verify ${INJECTION}`,
    });
    const text = outsideCode(md).replace(/\*\*(Verdict:|unsupported)\*\*/g, '$1');
    // Headings: only the record's own.
    expect(text.split('\n').filter((l) => /^\s{0,3}#/.test(l))).toEqual([
      '# Enclave deployment check: audit record',
      '## Inputs',
      '## Evidence',
      '## Checks',
      '## Document',
      '## PCRs',
      '## Certificate chain (leaf first)',
      '## TLS binding',
      '## Manifest (UNSIGNED: build provenance for information, not evidence)',
      '## Re-checking this record later',
    ]);
    // No raw HTML but the record's own <br>, no link or image bracket, no emphasis or strike
    // marker, no autolink, and no list, quote or setext line that the record did not write.
    expect(text.replace(/<br>/g, '')).not.toMatch(/</);
    expect(text).not.toMatch(/(^|[^\\])[[\]*~]/m);
    expect(text).not.toMatch(/(^|[^\\])(https?:\/\/|www\.|@)/im);
    expect(text).not.toMatch(/(^|[^\\])_(?![\p{L}\p{N}])/mu);
    expect(text.split('\n').filter((l) => /^(\s*(>|\d+[.)]|=+\s*$)|\s*[-+] +[-+>#])/.test(l))).toEqual([]);
    // Each table row has as many cells as its header.
    let columns = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('|')) {
        columns = 0;
        continue;
      }
      const cells = line.split(/(?<!\\)\|/).length - 2;
      if (columns === 0) columns = cells;
      expect({ line, cells }).toEqual({ line, cells: columns });
    }
    // The texts are all there, escaped, and read back as they were sent (newlines as spaces).
    const flat = (s: string) => s.replace(/\n/g, ' ');
    expect(md).toContain(
      `**Verdict:** ${markdownText(`REJECTED ERR_ENDPOINT_ERROR: the endpoint answered: ${LINES}`)}`,
    );
    expect(rendered(markdownText(LINES))).toBe(flat(LINES));
    expect(md).toContain(
      `| ${markdownText(`pcrs ${LINES}`)} | FAIL ERR_PCR_MISMATCH | ${markdownText(LINES)} |`,
    );
    expect(md).toContain(`- module_id: ${markdownCode(`i-1 ${LINES}`)}`);
    expect(md).toContain(`- Attested domain: ${markdownCode(`${INJECTION}\`\``)}`);
    expect(md).toContain('| Endpoint | `` POST https://enclave.example/attestation?x=`a\\|b` `` |');
    // The manifest fence is longer than any backtick run inside, so its text cannot close it.
    expect(md).toContain(`\n${markdownFence(JSON.stringify(probe.manifest?.raw, null, 2), 'json')}\n`);
    expect(md).toMatch(/\n````json\n/);
  });

  it('markdownText escapes each construct so that it renders as the text itself', () => {
    expect(markdownText('# [x](https://e.example) <b>|')).toBe(
      '\\# \\[x\\](https\\://e.example) &lt;b&gt;\\|',
    );
    expect(markdownText('![i](u) *a* _b_ ERR_PCR_MISMATCH ~~s~~ `c`')).toBe(
      '!\\[i\\](u) \\*a\\* \\_b\\_ ERR_PCR_MISMATCH \\~\\~s\\~\\~ \\`c\\`',
    );
    expect(markdownText('- x')).toBe('\\- x');
    expect(markdownText('+ x')).toBe('\\+ x');
    expect(markdownText('12. x')).toBe('12\\. x');
    expect(markdownText('> x & y')).toBe('&gt; x &amp; y');
    expect(markdownText('a\nb\u001b[2J')).toBe('a b \\[2J');
    expect(markdownText('see www.x.example or a@b.example')).toBe('see www\\.x.example or a\\@b.example');
    for (const s of [INJECTION, LINES, 'plain text, 2026-01-01T00:00:00Z (ok)']) {
      expect(rendered(markdownText(s))).toBe(s.replace(/\n/g, ' ').trim());
    }
  });

  it('markdownCode fences any backtick run and keeps table cells whole', () => {
    expect(markdownCode('abc')).toBe('`abc`');
    expect(markdownCode('a `b` c')).toBe('``a `b` c``');
    expect(markdownCode('`x`')).toBe('`` `x` ``');
    expect(markdownCode('a ``` b')).toBe('````a ``` b````');
    expect(markdownCode('a|b', true)).toBe('`a\\|b`');
    expect(markdownFence('x\n```\ny', 'json')).toBe('````json\nx\n```\ny\n````');
  });
});
