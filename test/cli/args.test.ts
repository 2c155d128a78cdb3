import { describe, expect, test } from 'vitest';
import {
  outputFormat,
  parseDurationFlag,
  parseFlags,
  readFileBytes,
  readFileText,
  usageError,
} from '../../src/cli/args.js';

const usage = (m: string) => usageError('pcr', m);

describe('usageError / parseFlags', () => {
  test('the message points at the command help', () => {
    const e = usageError('pcr', 'give one flag');
    expect([e.code, e.message]).toEqual(['ERR_USAGE', 'give one flag; see `enclave-verify pcr --help`']);
  });
  test('an unknown flag is ERR_USAGE with the parser message', () => {
    expect(() => parseFlags({ args: ['--nope'], options: { json: { type: 'boolean' } } }, usage)).toThrow(
      expect.objectContaining({ code: 'ERR_USAGE', message: expect.stringMatching(/--nope.*pcr --help/) }),
    );
    const { values } = parseFlags({ args: ['--json'], options: { json: { type: 'boolean' } } }, usage);
    expect(values.json).toBe(true);
  });
});

describe('outputFormat', () => {
  const formats = ['hex', 'nitro-cli', 'json'] as const;
  test.each([
    [{}, 'hex'],
    [{ json: true }, 'json'],
    [{ json: true, format: 'json' }, 'json'],
    [{ format: 'nitro-cli' }, 'nitro-cli'],
  ])('%j -> %s', (values, want) => {
    expect(outputFormat(values, formats, 'hex', usage)).toBe(want);
  });
  test.each([
    [
      { json: true, format: 'hex' },
      '--json and --format disagree; give one; see `enclave-verify pcr --help`',
    ],
    [
      { format: 'yaml' },
      'unknown --format yaml (expected hex, nitro-cli, json); see `enclave-verify pcr --help`',
    ],
  ])('%j is refused', (values, message) => {
    expect(() => outputFormat(values, formats, 'hex', usage)).toThrow(message);
  });
});

describe('parseDurationFlag', () => {
  test.each([
    ['500ms', 500],
    ['30', 30_000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    [' 1d ', 86_400_000],
  ])('%s', (text, ms) => {
    expect(parseDurationFlag(text, '--x', usage, ['ms', 's', 'm', 'h', 'd'], 'e')).toBe(ms);
  });
  test('a unit not in the list is refused with the examples', () => {
    expect(() => parseDurationFlag('1h', '--timeout', usage, ['ms', 's', 'm'], '500ms, 30s or 2m')).toThrow(
      "--timeout '1h' is not a duration like 500ms, 30s or 2m; see `enclave-verify pcr --help`",
    );
    expect(() => parseDurationFlag('-1s', '--t', usage, ['s'], 'e')).toThrow(/is not a duration/);
  });
});

describe('reading files', () => {
  test('a missing file is ERR_IO naming what was read', async () => {
    const missing = '/nonexistent/enclave-verify-args-test';
    await expect(readFileBytes(missing, `--root ${missing}`)).rejects.toThrow(
      expect.objectContaining({
        code: 'ERR_IO',
        message: expect.stringMatching(/^cannot read --root \/nonexistent.*ENOENT/),
      }),
    );
    await expect(readFileText(missing, 'x')).rejects.toThrow(expect.objectContaining({ code: 'ERR_IO' }));
  });
  test('a file is read whole', async () => {
    const self = new URL(import.meta.url).pathname;
    expect(await readFileText(self, 'x')).toContain("describe('reading files'");
    expect((await readFileBytes(self, 'x')).length).toBeGreaterThan(100);
  });
});
