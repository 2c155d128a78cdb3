import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { isEnclaveVerifyError } from '../../src/errors.js';
import { decodeDocumentInput, detectDocumentInput } from '../../src/parse/input.js';
import { toBase64, toHex, utf8 } from '../../src/util/bytes.js';

const NITRO = new URL('../../vectors/real/nitro/', import.meta.url);
const raw = new Uint8Array(readFileSync(new URL('valid/anjuna_2021-03-17_prod.cbor', NITRO)));

describe('decodeDocumentInput', () => {
  test.each([
    ['cbor', raw],
    ['cbor', new Uint8Array([0xd2, ...raw])],
    ['base64', utf8(toBase64(raw))],
    [
      'base64',
      utf8(
        `${toBase64(raw)
          .match(/.{1,76}/g)!
          .join('\n')}\n`,
      ),
    ],
    ['base64', utf8(toBase64(raw).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''))],
    ['hex', utf8(toHex(raw))],
    ['hex', utf8(`0x${toHex(raw).toUpperCase()}\n`)],
    ['json', utf8(JSON.stringify({ document: toBase64(raw), manifest: {} }))],
    ['json', utf8(JSON.stringify({ attestation_document: toBase64(raw) }))],
  ] as const)('recognises %s', (format, input) => {
    const r = detectDocumentInput(input);
    expect(r.format).toBe(format);
    const expected = input[0] === 0xd2 ? input : raw;
    expect(toHex(r.bytes)).toBe(toHex(expected));
  });

  test.each([
    ['JSON without a document field', '{"errors":["boom"]}'],
    ['broken JSON', '{"document": '],
    ['text that is neither hex nor base64', 'hello, world!'],
    ['empty input', '   '],
  ])('refuses %s with ERR_INPUT_FORMAT', (_n, text) => {
    let code = '';
    try {
      decodeDocumentInput(utf8(text));
    } catch (e) {
      if (isEnclaveVerifyError(e)) code = e.code;
    }
    expect(code).toBe('ERR_INPUT_FORMAT');
  });

  test('passes binary that is not COSE on to the strict decoder, which names the fault', async () => {
    const { decodeAttestation } = await import('../../src/parse/document.js');
    for (const [bytes, want] of [
      [new Uint8Array([0x00, 0x01]), 'ERR_CBOR_MALFORMED'],
      [new Uint8Array([0x83, 0x40, 0xa0, 0x40]), 'ERR_COSE_MALFORMED'],
      [new Uint8Array([0xc1, 0x84, 0x40, 0xa0, 0x40, 0x40]), 'ERR_COSE_MALFORMED'],
    ] as const) {
      const r = detectDocumentInput(bytes);
      expect(r.format).toBe('cbor');
      let code = '';
      try {
        decodeAttestation(r.bytes);
      } catch (e) {
        if (isEnclaveVerifyError(e)) code = e.code;
      }
      expect(code).toBe(want);
    }
  });

  test('refuses inputs over 1 MiB with ERR_INPUT_TOO_LARGE', () => {
    let code = '';
    try {
      decodeDocumentInput(new Uint8Array(1024 * 1024 + 1).fill(0x41));
    } catch (e) {
      if (isEnclaveVerifyError(e)) code = e.code;
    }
    expect(code).toBe('ERR_INPUT_TOO_LARGE');
  });
});
