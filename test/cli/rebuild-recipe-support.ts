// Sources of a small Caution enclave (app tar, one EnclaveOS overlay, a kernel) and a recipe file
// naming them, for the `--rebuild RECIPE` tests of verify, deployment and rebuild.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const sha256File = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The manifest inside the overlay; tests flip one byte of it inside the tar. */
export const MANIFEST = '{"app_source":"v1"}';

/** Write app.tar, enclaveos.tar, bzImage and recipe.json into `dir`. */
export function writeRecipeInputs(dir: string): void {
  execFileSync(
    'bash',
    [
      '-euo',
      'pipefail',
      '-c',
      `umask 022
mkdir -p app/usr/bin app/usr/lib app/etc && ln -s usr/bin app/bin && ln -s usr/lib app/lib
printf '#!/bin/sh\\necho hi\\n' > app/usr/bin/hello && chmod 4750 app/usr/bin/hello
printf 'ID=app\\n' > app/etc/os-release && chmod 600 app/etc/os-release
tar --format=pax --numeric-owner --owner=1000 --group=1000 -C app -cf app.tar .
mkdir -p os/bin
printf '#!/bin/sh\\ninit\\n' > os/init && chmod 755 os/init
printf 'dhcp' > os/bin/udhcpc-script && chmod 755 os/bin/udhcpc-script
printf '%s' '${MANIFEST}' > os/manifest.json
tar --format=gnu --numeric-owner --owner=0 --group=0 -C os -cf enclaveos.tar init bin/udhcpc-script manifest.json`,
    ],
    { cwd: dir, env: { ...process.env, LC_ALL: 'C' } },
  );
  writeFileSync(join(dir, 'bzImage'), createHash('sha512').update('recipe kernel').digest());
  writeFileSync(
    join(dir, 'recipe.json'),
    JSON.stringify({ recipe: 'caution', app: 'app.tar', overlays: ['enclaveos.tar'], kernel: 'bzImage' }),
  );
}

/** A copy of `enclaveos.tar` with one byte of manifest.json's contents changed (tar stays valid). */
export function writeTamperedOverlay(dir: string, name: string): void {
  const tar = readFileSync(join(dir, 'enclaveos.tar'));
  const at = tar.indexOf(MANIFEST);
  if (at < 0) throw new Error('manifest not found in the overlay tar');
  tar[at + MANIFEST.indexOf('v1') + 1] = '2'.charCodeAt(0);
  writeFileSync(join(dir, name), tar);
}
