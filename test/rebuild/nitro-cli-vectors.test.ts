import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerImageConfig } from '../../src/rebuild/docker-export.js';
import { openImage, tarImageFiles } from '../../src/rebuild/image.js';
import {
  nitroCliBootstrapEntries,
  nitroCliCustomerEntries,
  writeLinuxkitCpio,
} from '../../src/rebuild/nitro-cli.js';
import { memorySource, readTar } from '../../src/rebuild/tar.js';
import { memoryData } from '../../src/rebuild/tree.js';

const ROOT = join(import.meta.dirname, '../../vectors/real/nitro-cli');
const CASES = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'bootstrap')
  .map((d) => d.name);

async function customer(file: string) {
  const bytes = new Uint8Array(readFileSync(file));
  const image = await openImage(await tarImageFiles(memorySource(bytes), file));
  const layers = [];
  for (let i = 0; i < image.layers.length; i++) layers.push(readTar(await image.layerSource(i)));
  const c = await nitroCliCustomerEntries({ layers, config: dockerImageConfig(image.config) });
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of writeLinuxkitCpio(c.entries)) {
    h.update(chunk);
    size += chunk.length;
  }
  return { sha256: h.digest('hex'), size, c };
}

describe('nitro-cli vectors', () => {
  for (const name of CASES) {
    for (const kind of ['docker', 'oci']) {
      it(`${name} ${kind}`, async () => {
        const expected = JSON.parse(readFileSync(join(ROOT, name, 'expected.json'), 'utf8'));
        const r = await customer(join(ROOT, name, `image.${kind}.tar`));
        expect(r.c.cmd).toBe(expected.cmd);
        expect(r.c.env).toBe(expected.env);
        expect({ sha256: r.sha256, size: r.size }).toEqual({
          sha256: expected.customer_ramdisk_sha256,
          size: expected.customer_ramdisk_size,
        });
      });
    }
  }
  it('bootstrap', async () => {
    const expected = JSON.parse(readFileSync(join(ROOT, 'bootstrap', 'expected.json'), 'utf8'));
    const init = new Uint8Array(readFileSync(join(ROOT, 'bootstrap/init')));
    const nsm = new Uint8Array(readFileSync(join(ROOT, 'bootstrap/nsm.ko')));
    const h = createHash('sha256');
    let size = 0;
    for await (const chunk of writeLinuxkitCpio(
      nitroCliBootstrapEntries(memoryData(init), memoryData(nsm)),
    )) {
      h.update(chunk);
      size += chunk.length;
    }
    expect({ sha256: h.digest('hex'), size }).toEqual({
      sha256: expected.bootstrap_ramdisk_sha256,
      size: expected.bootstrap_ramdisk_size,
    });
  });
});
