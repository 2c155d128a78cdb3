// The page's Vite build refuses `node:` imports: the browser gets the runtime-agnostic library or
// nothing (Vite's default would be an empty stub that fails only when called).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';

const CONFIG = fileURLToPath(new URL('../../src/web/vite.config.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ev-web-build-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function page(script: string): string {
  const root = mkdtempSync(join(dir, 'root-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><script type="module" src="./main.ts"></script>');
  writeFileSync(join(root, 'main.ts'), script);
  return root;
}

describe('web build', () => {
  it('fails, naming the importer, when browser code imports a node: module', async () => {
    const root = page("import { readFileSync } from 'node:fs';\nconsole.log(readFileSync);\n");
    await expect(
      build({
        configFile: CONFIG,
        root,
        logLevel: 'silent',
        build: { outDir: join(root, 'out'), emptyOutDir: true },
      }),
    ).rejects.toThrow(
      /main\.ts imports 'node:fs': the browser page may only use the runtime-agnostic library/,
    );
  });

  it('also refuses bare built-in names', async () => {
    const root = page("import { createHash } from 'crypto';\nconsole.log(createHash);\n");
    await expect(
      build({
        configFile: CONFIG,
        root,
        logLevel: 'silent',
        build: { outDir: join(root, 'out'), emptyOutDir: true },
      }),
    ).rejects.toThrow(/imports 'crypto'/);
  });

  it('builds the same page without it', async () => {
    const root = page("document.title = 'ok';\n");
    await expect(
      build({
        configFile: CONFIG,
        root,
        logLevel: 'silent',
        build: { outDir: join(root, 'out'), emptyOutDir: true },
      }),
    ).resolves.toBeDefined();
  });
});
