import { describe, expect, it } from 'vitest';
import { COMMANDS, controlCharacters, runCli } from '../support/cli.js';

const NITRO = new URL('../../vectors/real/nitro/', import.meta.url).pathname;

describe('enclave-verify dispatch', () => {
  it('prints usage on stderr and exits 2 without a command', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: enclave-verify <command>');
    expect(r.stdout).toBe('');
  });

  it('lists every command on --help and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const name of COMMANDS) {
      expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    }
  });

  it.each(COMMANDS)('%s refuses an unknown flag with ERR_USAGE and exit 2', async (name) => {
    const r = await runCli([name, '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^enclave-verify: ERR_USAGE: .*--no-such-flag/);
  });

  it('prints error messages without control characters (a file name with a terminal escape)', async () => {
    const r = await runCli(['verify', 'no\u001b[2Jsuch\nfile', '--any-pcrs'], { cwd: NITRO });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^enclave-verify: ERR_IO: cannot read no \[2Jsuch file: ENOENT/);
    expect(controlCharacters(r.stderr)).toEqual([]);
  });

  it("`help <command>` prints that command's help", async () => {
    const r = await runCli(['help', 'measure']);
    expect(r).toEqual(await runCli(['measure', '--help']));
    expect(r.stdout).toMatch(/^usage: enclave-verify measure/);
  });

  it('refuses an unknown command with exit 2', async () => {
    const r = await runCli(['verfy']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'verfy'");
  });

  it('loads a command module on demand and returns its exit code', async () => {
    const r = await runCli(
      ['verify', 'valid/anjuna_2021-03-17_prod.cbor', '--at', 'document', '--any-pcrs', '--json'],
      {
        cwd: NITRO,
      },
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.document.pcrs['0']).toBe(
      '2d151586641b790f3b1b92b8f89678c3aa86e73dd97969c892124be9d2b7fdc62b58a55cd9ee8216f6f5689cebf590ad',
    );
  });

  it('turns a thrown error into one JSON object and exit 2 for a missing file', async () => {
    const r = await runCli(['verify', 'no-such-file.cbor', '--any-pcrs', '--json'], { cwd: NITRO });
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: false, code: 'ERR_IO' });
  });
});
