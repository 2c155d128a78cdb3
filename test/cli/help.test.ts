// Every flag a command accepts is listed in its --help, so users never have to read the source to
// find an option. The accepted flags are read from each command's parseArgs options.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, runCli } from '../support/cli.js';

function acceptedFlags(command: string): string[] {
  const source = readFileSync(new URL(`../../src/cli/commands/${command}.ts`, import.meta.url), 'utf8');
  const names = [...source.matchAll(/(?:^|[{,])\s*'?([a-z][a-z-]*)'?: \{ type: '(?:string|boolean)'/gm)].map(
    (m) => m[1]!,
  );
  return [...new Set(names)];
}

describe('--help lists every accepted flag', () => {
  it.each(COMMANDS)('%s', async (command) => {
    const flags = acceptedFlags(command);
    expect(flags).toContain('help');
    const r = await runCli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const missing = flags.filter((f) => !new RegExp(`(^|[\\s\`(\\[|])--${f}\\b`, 'm').test(r.stdout));
    expect(missing).toEqual([]);
    expect(await runCli([command, '-h'])).toEqual(r);
  });
});
