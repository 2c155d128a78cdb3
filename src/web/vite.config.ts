/**
 * Vite build of the verifier page: `npm run build:web` -> dist-web/ (static files, relative URLs,
 * so the folder can be hosted under any path or opened through `enclave-verify ui`).
 */
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

/**
 * The library entry must stay runtime-agnostic. Vite would quietly replace a Node built-in import
 * (`node:fs`, or bare `fs`) with an empty stub that fails only when called; fail the build
 * instead, naming the importer.
 */
function forbidNodeBuiltins(): Plugin {
  return {
    name: 'enclave-verify:forbid-node-builtins',
    enforce: 'pre',
    resolveId(id, importer) {
      if (id.startsWith('node:') || isBuiltin(id)) {
        throw new Error(
          `${importer ?? '?'} imports '${id}': the browser page may only use the runtime-agnostic library`,
        );
      }
      return null;
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  publicDir: false,
  plugins: [forbidNodeBuiltins()],
  build: {
    outDir: fileURLToPath(new URL('../../dist-web/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
});
