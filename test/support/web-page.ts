// The verifier page as the browser tests use it: built with Vite from the current sources into a
// folder of its own (parallel runs in other checkouts or watch mode must not empty ours) and
// served by the `ui` command's server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { startUiServer, type UiServer } from '../../src/cli/commands/ui.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));

/** A served build of the page; `close()` stops the server and removes the build. */
export interface ServedPage {
  ui: UiServer;
  close(): Promise<void>;
}

/** Builds the page into a fresh temporary folder named from `prefix` and serves it on a free port. */
export async function servePage(prefix: string): Promise<ServedPage> {
  const webBuild = mkdtempSync(join(tmpdir(), prefix));
  let ui: UiServer | undefined;
  try {
    await build({
      configFile: join(PROJECT, 'src/web/vite.config.ts'),
      logLevel: 'error',
      build: { outDir: webBuild, emptyOutDir: true },
    });
    ui = await startUiServer({ port: 0, root: webBuild });
  } catch (e) {
    rmSync(webBuild, { recursive: true, force: true });
    throw e;
  }
  const served = ui;
  return {
    ui: served,
    async close() {
      await served.close();
      rmSync(webBuild, { recursive: true, force: true });
    },
  };
}
