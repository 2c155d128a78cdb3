// CANARY.md 1: canonical JSON as serde_jcs writes it, and the strict parser.
import { describe, expect, it } from 'vitest';
import { canonicalDigest, isDigest, sha256Digest } from '../../src/canary/digest.js';
import { canonicalJson, JsonFloat, parseStrictJson, prettyJson } from '../../src/canary/jcs.js';

describe('canonicalJson (serde_jcs)', () => {
  it('writes no whitespace, sorts members and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [3, 1, 2], c: { z: null, y: true } })).toBe(
      '{"a":[3,1,2],"b":1,"c":{"y":true,"z":null}}',
    );
  });

  it('escapes only " \\ and C0 controls, lowercase \\u00xx; / and non-ASCII raw', () => {
    expect(canonicalJson('"\\/\b\f\n\r\t\u0001\u001f\u007fé€😀')).toBe(
      '"\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\u007fé€😀"',
    );
  });

  it('code: sorts by UTF-8 bytes of the escaped key, not UTF-16 units', () => {
    // U+FF61 (UTF-8 EF BD A1) sorts after U+1F600 (F0 9F 98 80) in UTF-16 but before it in UTF-8.
    expect(canonicalJson({ '😀': 1, '｡': 2 })).toBe('{"｡":2,"😀":1}');
    // Escaped, U+0001 is `\u0001` and `"` is `\"`: 0x22 < 0x75 puts `"` first; raw bytes would not.
    expect(canonicalJson({ '\u0001': 1, '"': 2 })).toBe('{"\\"":2,"\\u0001":1}');
  });

  it('code: integers above 2^53 keep every digit; floats print ECMAScript-style', () => {
    const v = parseStrictJson(
      '{"big":18446744073709551615,"neg":-9223372036854775808,"f":1e3,"z":-0,"h":0.5,"e":1e21}',
    );
    expect(canonicalJson(v)).toBe(
      '{"big":18446744073709551615,"e":1e+21,"f":1000,"h":0.5,"neg":-9223372036854775808,"z":0}',
    );
  });

  it('integers beyond u64 become floats, as serde_json reads them', () => {
    expect(canonicalJson(parseStrictJson('18446744073709551616'))).toBe('18446744073709552000');
  });

  it('refuses values JSON cannot hold', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(expect.objectContaining({ code: 'ERR_CANARY_JSON' }));
    expect(() => canonicalJson('\ud800')).toThrow(expect.objectContaining({ code: 'ERR_CANARY_JSON' }));
  });
});

describe('parseStrictJson', () => {
  it.each([
    ['duplicate member', '{"a":1,"a":1}'],
    ['trailing text', '{} {}'],
    ['byte-order mark', '\uFEFF{}'],
    ['lone surrogate escape', '"\\ud800"'],
    ['raw control character', '"a\u0001"'],
    ['leading zero', '01'],
    ['single quotes', "{'a':1}"],
    ['nesting over 128', `${'['.repeat(129)}${']'.repeat(129)}`],
    ['NaN', 'NaN'],
    ['trailing comma', '[1,]'],
  ])('refuses %s', (_, text) => {
    expect(() => parseStrictJson(text)).toThrow(expect.objectContaining({ code: 'ERR_CANARY_JSON' }));
  });

  it('keeps integer and float literals apart', () => {
    const v = parseStrictJson('[60, 60.0, 9007199254740993]') as unknown[];
    expect(v[0]).toBe(60);
    expect(v[1]).toEqual(new JsonFloat(60));
    expect(v[2]).toBe(9007199254740993n);
  });

  it('treats "__proto__" as an ordinary member', () => {
    const v = parseStrictJson('{"__proto__":{"x":1}}') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(canonicalJson(v)).toBe('{"__proto__":{"x":1}}');
  });

  it('accepts 128 levels of nesting', () => {
    expect(canonicalJson(parseStrictJson(`${'['.repeat(128)}${']'.repeat(128)}`))).toBe(
      `${'['.repeat(128)}${']'.repeat(128)}`,
    );
  });
});

describe('digests', () => {
  it('are sha256: and lowercase hex, compared exactly', async () => {
    expect(await sha256Digest(new Uint8Array())).toBe(
      'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(await canonicalDigest({})).toBe(
      'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    );
    expect(isDigest(`sha256:${'A'.repeat(64)}`)).toBe(false);
    expect(isDigest(`sha256:${'a'.repeat(63)}`)).toBe(false);
    expect(isDigest(`SHA256:${'a'.repeat(64)}`)).toBe(false);
  });
});

describe('prettyJson (serde_json::to_string_pretty)', () => {
  it('writes Rust ryu floats and sorted maps', () => {
    const v = parseStrictJson('{"b":[1.0,1e21,1.5e-7,0.001,-0,123456789012345680000],"a":{}}');
    expect(prettyJson(v, { sortObjects: true })).toBe(
      '{\n  "a": {},\n  "b": [\n    1.0,\n    1e21,\n    1.5e-7,\n    0.001,\n    -0.0,\n    1.2345678901234568e20\n  ]\n}',
    );
  });
});
