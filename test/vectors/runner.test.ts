import { describe, expect, it } from 'vitest';
import { parseVectorFile, VECTOR_FORMAT, type VectorCase } from '../../src/vectors/format.js';
import { interpretExit } from '../../src/vectors/node/command.js';
import { judge, runCases, summaryLine } from '../../src/vectors/runner.js';

function cases(): VectorCase[] {
  const parsed = parseVectorFile(
    {
      format: VECTOR_FORMAT,
      cases: [
        {
          id: 'a/ok',
          kind: 'eif',
          description: 'd',
          input: { file: 'x' },
          expect: { result: 'accept', pcrs: { '0': 'aa' } },
        },
        {
          id: 'a/bad',
          kind: 'eif',
          description: 'd',
          input: { file: 'y' },
          expect: { result: 'reject', code: 'ERR_EIF_CRC', class: 'image' },
        },
        { id: 'b/x', kind: 'eif', description: 'd', input: { file: 'z' }, expect: { result: 'accept' } },
      ],
    },
    new URL('file:///v/cases.json'),
  );
  if (parsed.type !== 'cases') throw new Error('cases expected');
  return parsed.cases;
}

describe('judging outcomes', () => {
  const reject = { result: 'reject', code: 'ERR_PCR_MISMATCH', class: 'policy' } as const;
  it('compares codes, classes or only the outcome', () => {
    expect(judge(reject, { result: 'reject', code: 'ERR_PCR_MISMATCH' }).status).toBe('pass');
    expect(judge(reject, { result: 'reject', code: 'ERR_STALE' }).status).toBe('fail');
    expect(judge(reject, { result: 'reject', code: 'ERR_STALE' }, { match: 'class' }).status).toBe('pass');
    expect(
      judge(reject, { result: 'reject', code: 'E_OTHER', class: 'trust' }, { match: 'class' }).status,
    ).toBe('fail');
    expect(judge(reject, { result: 'reject' }, { match: 'outcome' }).status).toBe('pass');
    expect(judge(reject, { result: 'accept' }, { match: 'outcome' }).status).toBe('fail');
    expect(judge(reject, { result: 'error', message: 'TypeError' }, { match: 'outcome' }).status).toBe(
      'fail',
    );
  });

  it('checks reported outputs, and requires them from the library', () => {
    const accept = {
      result: 'accept',
      pcrs: { '0': 'aa' },
      describe: { IsSigned: false, Metadata: { a: [1] } },
    } as const;
    expect(
      judge(accept, {
        result: 'accept',
        pcrs: { '0': 'AA', '1': 'bb' },
        describe: { IsSigned: false, Metadata: { a: [1], b: 2 } },
      }).status,
    ).toBe('pass');
    expect(judge(accept, { result: 'accept', pcrs: { '0': 'ab' }, describe: {} }).message).toMatch(
      /PCR0 is ab/,
    );
    expect(
      judge(accept, { result: 'accept', pcrs: { '0': 'aa' }, describe: { IsSigned: true } }).status,
    ).toBe('fail');
    expect(judge(accept, { result: 'accept' }).status).toBe('fail');
    expect(judge(accept, { result: 'accept' }, { requireOutputs: false }).status).toBe('pass');
    expect(
      judge(
        { result: 'accept', gzipSha256: 'a'.repeat(64) },
        { result: 'accept', gzipSha256: 'b'.repeat(64) },
      ).status,
    ).toBe('fail');
  });

  it('runs cases with --only globs, in order, and counts', async () => {
    const seen: string[] = [];
    const report = await runCases(
      cases(),
      async (c) => {
        seen.push(c.id);
        if (c.id === 'a/ok') return { result: 'accept', pcrs: { '0': 'aa' } };
        if (c.id === 'a/bad') return { result: 'reject', code: 'ERR_EIF_LAYOUT' };
        throw new Error('boom');
      },
      { jobs: 2 },
    );
    expect(seen.sort()).toEqual(['a/bad', 'a/ok', 'b/x']);
    expect(report.results.map((r) => [r.id, r.status])).toEqual([
      ['a/ok', 'pass'],
      ['a/bad', 'fail'],
      ['b/x', 'fail'],
    ]);
    expect(summaryLine(report)).toBe('1 passed, 2 failed');
    const only = await runCases(cases(), async () => ({ result: 'skip', reason: 'n/a' }), { only: ['b/*'] });
    expect(summaryLine(only)).toBe('0 passed, 0 failed, 1 skipped');
  });
});

describe('interpreting a foreign command', () => {
  it('maps exit codes and JSON output to outcomes', () => {
    expect(interpretExit(0, '{"Measurements":{"PCR0":"AA","HashAlgorithm":"Sha384 { ... }"}}')).toEqual({
      result: 'accept',
      pcrs: { '0': 'aa' },
    });
    expect(interpretExit(1, 'log line\n{"ok":false,"code":"ERR_STALE","message":"old"}')).toEqual({
      result: 'reject',
      code: 'ERR_STALE',
      class: 'policy',
      message: 'old',
    });
    expect(interpretExit(1, '')).toEqual({ result: 'reject' });
    expect(interpretExit(2, 'not json')).toEqual({ result: 'reject', class: 'input' });
    expect(interpretExit(1, '{"error":{"code":"E1","class":"trust"}}')).toEqual({
      result: 'reject',
      code: 'E1',
      class: 'trust',
    });
    expect(interpretExit(101, '').result).toBe('error');
    expect(interpretExit(null, '', 'SIGSEGV')).toEqual({
      result: 'error',
      message: 'command ended by signal SIGSEGV',
    });
  });
});
