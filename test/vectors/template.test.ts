import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnclaveVerifyError } from '../../src/errors.js';
import { expandTemplate, parseTemplate, templatePlaceholders } from '../../src/vectors/template.js';

const expand = (t: string, v: Record<string, string | string[]>) => expandTemplate(parseTemplate(t), v);

describe('command templates', () => {
  it('substitutes placeholders inside words without splitting values', () => {
    expect(expand('v check {file} --at={at}', { file: 'a b.cbor', at: '2020-01-01T00:00:00.000Z' })).toEqual([
      'v',
      'check',
      'a b.cbor',
      '--at=2020-01-01T00:00:00.000Z',
    ]);
  });

  it('honours quotes and escapes like a shell, with no expansion of values', () => {
    expect(expand(`v 'x y' "p {file}" a\\ b`, { file: '$(rm -rf /)' })).toEqual([
      'v',
      'x y',
      'p $(rm -rf /)',
      'a b',
    ]);
  });

  it('drops optional groups whose placeholders have no value and keeps the others', () => {
    const t = 'v {file} [--nonce {nonce}] [--allow-debug{allow_debug}] [--root {root}]';
    expect(expand(t, { file: 'f', allow_debug: '', root: 'r.pem' })).toEqual([
      'v',
      'f',
      '--allow-debug',
      '--root',
      'r.pem',
    ]);
    expect(expand(t, { file: 'f' })).toEqual(['v', 'f']);
  });

  it('repeats a group once per value of a list placeholder', () => {
    expect(expand('v [--root {roots}] {file}', { roots: ['a', 'b'], file: 'f' })).toEqual([
      'v',
      '--root',
      'a',
      '--root',
      'b',
      'f',
    ]);
    expect(expand('v [--root {roots}] {file}', { roots: [], file: 'f' })).toEqual(['v', 'f']);
  });

  it('handles nested groups and literal braces and brackets', () => {
    expect(expand("v '[x]' \\[y\\] {{lit}} [a [b {nonce}]]", { nonce: 'n' })).toEqual([
      'v',
      '[x]',
      '[y]',
      '{lit}',
      'a',
      'b',
      'n',
    ]);
    expect(expand('v [a [b {nonce}]]', {})).toEqual(['v', 'a']);
  });

  it('rejects unknown placeholders, unbalanced groups and missing required values with ERR_USAGE', () => {
    for (const bad of ['v {nope}', 'v [x', 'v x]', "v 'open", 'v {file', '[a] v', 'v x}']) {
      expect(() => parseTemplate(bad), bad).toThrowError(EnclaveVerifyError);
      try {
        parseTemplate(bad);
      } catch (e) {
        expect((e as EnclaveVerifyError).code).toBe('ERR_USAGE');
      }
    }
    expect(() => expand('v {nonce}', {})).toThrow(/no value/);
    expect(() => expand('v {roots}', { roots: ['a', 'b'] })).toThrow(/2 values/);
  });

  it('lists the placeholders a template uses', () => {
    expect([...templatePlaceholders(parseTemplate('v {file} [--n {nonce}]'))].sort()).toEqual([
      'file',
      'nonce',
    ]);
  });
});

describe('command template properties', () => {
  it('passes any value as exactly one argument, verbatim', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (file, nonce) => {
        const argv = expand('prog --in {file} [--nonce {nonce}] end', { file, nonce });
        expect(argv).toEqual(['prog', '--in', file, '--nonce', nonce, 'end']);
      }),
      { numRuns: 500 },
    );
  });

  it('either parses a template or refuses it with ERR_USAGE, never anything else', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', ' ', '[', ']', '{', '}', "'", '"', '\\', 'file', 'nonce') }),
        (t) => {
          try {
            parseTemplate(`p ${t}`);
          } catch (e) {
            expect(e).toBeInstanceOf(EnclaveVerifyError);
            expect((e as EnclaveVerifyError).code).toBe('ERR_USAGE');
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
