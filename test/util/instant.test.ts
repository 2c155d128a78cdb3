/**
 * Issue 15 finding 6, "--at without an offset is local time": the one parser of typed times
 * (CLI --at, the web page) requires Z or an offset and real calendar fields.
 */
import { describe, expect, it } from 'vitest';
import { isEnclaveVerifyError } from '../../src/errors.js';
import { parseInstant } from '../../src/util/instant.js';

function outcome(text: string): string {
  try {
    return parseInstant(text, '--at').toISOString();
  } catch (e) {
    if (!isEnclaveVerifyError(e)) throw e;
    return `${e.code}: ${e.message}`;
  }
}

describe('--at without an offset is local time: parseInstant', () => {
  it.each([
    ['2025-12-23T17:20:16Z', '2025-12-23T17:20:16.000Z'],
    ['2025-12-23t17:20:16z', '2025-12-23T17:20:16.000Z'],
    ['2025-12-23 17:20:16Z', '2025-12-23T17:20:16.000Z'],
    ['2025-12-23T17:20Z', '2025-12-23T17:20:00.000Z'],
    ['2025-12-23T17:20:16.5Z', '2025-12-23T17:20:16.500Z'],
    ['2025-12-23T17:20:16.123456789Z', '2025-12-23T17:20:16.123Z'],
    ['2025-12-23T18:20:16+01:00', '2025-12-23T17:20:16.000Z'],
    ['2025-12-23T12:50:16-0430', '2025-12-23T17:20:16.000Z'],
    ['2025-12-24T07:20:16+14:00', '2025-12-23T17:20:16.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2024-12-31T23:59:59.999Z', '2024-12-31T23:59:59.999Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(outcome(text)).toBe(iso);
  });

  it.each(['2025-12-23T17:20:16', '2025-12-23T17:20', '2025-12-23 17:20:16.5'])(
    'refuses %s: no time zone',
    (text) => {
      expect(outcome(text)).toBe(
        `ERR_USAGE: --at '${text}' has no time zone, so it would depend on this machine's TZ setting; add Z for UTC or an offset, e.g. 2025-12-23T17:20:16Z or 2025-12-23T18:20:16+01:00`,
      );
    },
  );

  it.each([
    '2025-02-29T00:00:00Z',
    '2025-02-31T00:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-01-01T24:00:00Z',
    '2025-01-01T00:60:00Z',
    '2025-01-01T00:00:60Z',
    '2025-01-01T00:00:00+24:00',
    '2025-01-01T00:00:00+01:60',
  ])('refuses %s: not a real date and time', (text) => {
    expect(outcome(text)).toBe(
      `ERR_USAGE: --at '${text}' is not a real date and time; write e.g. 2025-12-23T17:20:16Z or 2025-12-23T18:20:16+01:00`,
    );
  });

  it.each([
    '2025-12-23',
    'yesterday',
    '1766510416',
    '2025-12-23T17:20:16+01',
    '2025-12-23T17:20:16 Z',
    'Tue, 23 Dec 2025 17:20:16 GMT',
    '',
  ])('refuses %j: not ISO 8601 with a zone', (text) => {
    expect(outcome(text)).toBe(
      `ERR_USAGE: --at '${text}' is not an ISO 8601 time with a time zone; write e.g. 2025-12-23T17:20:16Z or 2025-12-23T18:20:16+01:00`,
    );
  });
});
