// `verify --rebuild RECIPE` and `rebuild --recipe-file`: expected PCRs rebuilt from sources
// (Caution ramdisk rebuilt byte for byte, measured with kernel + cmdline), matched against a
// document the test PKI issued with the PCRs the flag form of `rebuild` computed.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { CAUTION_CMDLINE } from '../../src/rebuild/caution.js';
import { fromHex, toBase64 } from '../../src/util/bytes.js';
import { runCli } from '../support/cli.js';
import { sha256File, writeRecipeInputs, writeTamperedOverlay } from './rebuild-recipe-support.js';

let dir: string;
/** `rebuild --json` of the flag form: the reference for everything below. */
let flagForm: { pcrs: Record<string, string>; cpioGz: { sha256: string; size: number }; entries: number };

const cli = (argv: string[]) => runCli(argv, { cwd: dir });
/** `verify DOC --root root.pem --rebuild RECIPE --at document ...extra`, the audit form these tests use. */
const verifyAtDocument = (doc: string, recipe: string, ...extra: string[]) =>
  cli(['verify', doc, '--root', 'root.pem', '--rebuild', recipe, '--at', 'document', ...extra]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ev-verify-rebuild-'));
  writeRecipeInputs(dir);
  const r = await cli([
    'rebuild',
    '--recipe',
    'caution',
    '--app',
    'app.tar',
    '--overlay',
    'enclaveos.tar',
    '--kernel',
    'bzImage',
    '--out',
    'flags',
    '--json',
  ]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  flagForm = JSON.parse(r.stdout);
  const pki = await createTestPki();
  writeFileSync(join(dir, 'root.pem'), pki.rootPem);
  const pcrs = { 0: flagForm.pcrs.PCR0!, 1: flagForm.pcrs.PCR1!, 2: flagForm.pcrs.PCR2! };
  writeFileSync(join(dir, 'doc.b64'), toBase64(await issueAttestation(pki, { pcrs })));
  // Same sources, but PCR0/1 from a different kernel: only PCR2 (the empty constant) matches.
  const other = { ...pcrs, 0: fromHex('aa'.repeat(48)), 1: fromHex('aa'.repeat(48)) };
  writeFileSync(join(dir, 'other.b64'), toBase64(await issueAttestation(pki, { pcrs: other })));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verify --rebuild RECIPE', () => {
  test('verified; the JSON names every input with its exact SHA-256 and the rebuilt ramdisk', async () => {
    const r = await verifyAtDocument('doc.b64', 'recipe.json', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.measuredFrom).toHaveLength(1);
    const m = j.measuredFrom[0];
    expect(m).toMatchObject({ flag: '--rebuild', rebuiltFromSources: true, recipe: 'caution' });
    const file = (name: string) => ({
      path: join(dir, name),
      kind: 'file',
      sha256: sha256File(join(dir, name)),
      size: readFileSync(join(dir, name)).length,
    });
    expect(m.inputs).toEqual([
      { role: 'recipe', ...file('recipe.json') },
      { role: 'app', ...file('app.tar') },
      { role: 'overlay', ...file('enclaveos.tar') },
      { role: 'kernel', ...file('bzImage') },
    ]);
    expect(m.cmdline).toEqual({ text: CAUTION_CMDLINE, size: CAUTION_CMDLINE.length });
    expect(m.rootfs).toEqual({
      name: 'rootfs.cpio.gz',
      sha256: sha256File(join(dir, 'flags/rootfs.cpio.gz')),
      size: flagForm.cpioGz.size,
      entries: flagForm.entries,
    });
    expect(m.pcrs).toEqual(flagForm.pcrs);
    expect(j.checks.find((c: { name: string }) => c.name === 'pcrs')).toMatchObject({ ok: true });
  });

  test('human report says the expected PCRs were rebuilt from sources', async () => {
    const r = await verifyAtDocument('doc.b64', 'recipe.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('expected PCRs rebuilt from sources (recipe caution):');
    expect(r.stdout).toContain(
      `  overlay ${join(dir, 'enclaveos.tar')} (SHA-256 ${sha256File(join(dir, 'enclaveos.tar'))}, 10240 bytes)`,
    );
    expect(r.stdout).toContain(
      `  rebuilt rootfs.cpio.gz (SHA-256 ${flagForm.cpioGz.sha256}, ${flagForm.cpioGz.size} bytes`,
    );
  });

  test('one byte changed in an overlay file: exit 1, ERR_PCR_MISMATCH', async () => {
    writeTamperedOverlay(dir, 'enclaveos-b.tar');
    writeFileSync(
      join(dir, 'recipe-b.json'),
      JSON.stringify({ recipe: 'caution', app: 'app.tar', overlays: ['enclaveos-b.tar'], kernel: 'bzImage' }),
    );
    const r = await verifyAtDocument('doc.b64', 'recipe-b.json', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ ok: false, code: 'ERR_PCR_MISMATCH' });
    expect(j.measuredFrom[0].rootfs.sha256).not.toBe(flagForm.cpioGz.sha256);
  });

  test('another kernel in the document: ERR_PCR_MISMATCH', async () => {
    const r = await verifyAtDocument('other.b64', 'recipe.json', '--json');
    expect([r.code, JSON.parse(r.stdout).code]).toEqual([1, 'ERR_PCR_MISMATCH']);
  });

  test.each([
    [
      'unknown key',
      { recipe: 'caution', app: 'app.tar', overlays: [], kernel: 'bzImage', overlay: 'x' },
      'ERR_USAGE',
      /unknown key "overlay"/,
    ],
    [
      'wrong type',
      { recipe: 'caution', app: 'app.tar', overlays: 'enclaveos.tar', kernel: 'bzImage' },
      'ERR_USAGE',
      /"overlays" must be an array/,
    ],
    [
      'other recipe',
      { recipe: 'other', app: 'app.tar', kernel: 'bzImage' },
      'ERR_USAGE',
      /"recipe" must be "caution"/,
    ],
    [
      'nitro-cli recipe with Caution keys',
      { recipe: 'nitro-cli', app: 'app.tar', kernel: 'bzImage' },
      'ERR_USAGE',
      /unknown key "app"; allowed keys: recipe, image,/,
    ],
    [
      'missing app',
      { recipe: 'caution', overlays: [], kernel: 'bzImage' },
      'ERR_USAGE',
      /"app" must be a non-empty path/,
    ],
    ['no kernel', { recipe: 'caution', app: 'app.tar', overlays: [] }, 'ERR_USAGE', /PCRs need the kernel/],
    [
      'absolute path',
      { recipe: 'caution', app: '/etc/passwd', kernel: 'bzImage' },
      'ERR_USAGE',
      /relative to the recipe file/,
    ],
    [
      'missing file',
      { recipe: 'caution', app: 'app.tar', overlays: ['nope.tar'], kernel: 'bzImage' },
      'ERR_IO',
      /cannot read the overlay .*nope\.tar/,
    ],
    ['not JSON', '{"recipe": caution', 'ERR_USAGE', /not valid JSON/],
  ])('bad recipe (%s): exit 2, %s', async (_name, recipe, code, message) => {
    writeFileSync(join(dir, 'bad.json'), typeof recipe === 'string' ? recipe : JSON.stringify(recipe));
    const r = await cli(['verify', 'doc.b64', '--root', 'root.pem', '--rebuild', 'bad.json', '--json']);
    expect(r.code).toBe(2);
    const j = JSON.parse(r.stdout);
    expect(j.code).toBe(code);
    expect(j.message).toMatch(message);
  });

  test('missing recipe file: exit 2, ERR_IO; an unsafe archive keeps its rebuild code', async () => {
    const r = await cli(['verify', 'doc.b64', '--root', 'root.pem', '--rebuild', 'absent.json', '--json']);
    expect([r.code, JSON.parse(r.stdout).code]).toEqual([2, 'ERR_IO']);
    const bad = new Uint8Array(readFileSync(join(dir, 'bzImage')));
    writeFileSync(join(dir, 'notatar.tar'), bad);
    writeFileSync(
      join(dir, 'bad2.json'),
      JSON.stringify({ recipe: 'caution', app: 'app.tar', overlays: ['notatar.tar'], kernel: 'bzImage' }),
    );
    const t = await cli(['verify', 'doc.b64', '--root', 'root.pem', '--rebuild', 'bad2.json', '--json']);
    expect(JSON.parse(t.stdout).code).toBe('ERR_ARCHIVE_MALFORMED');
  });
});

describe('verify --rebuild leaves nothing behind', () => {
  test('the temporary rebuild directory is removed after success and after a failed rebuild', async () => {
    const scratch = join(dir, 'tmp');
    mkdirSync(scratch);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = scratch; // os.tmpdir() reads it at each call
    try {
      const ok = await verifyAtDocument('doc.b64', 'recipe.json');
      expect(ok.code).toBe(0);
      writeFileSync(join(dir, 'garbage.tar'), 'x'.repeat(1024));
      writeFileSync(
        join(dir, 'garbage.json'),
        JSON.stringify({ recipe: 'caution', app: 'app.tar', overlays: ['garbage.tar'], kernel: 'bzImage' }),
      );
      const ko = await cli([
        'verify',
        'doc.b64',
        '--root',
        'root.pem',
        '--rebuild',
        'garbage.json',
        '--json',
      ]);
      expect(JSON.parse(ko.stdout).code).toBe('ERR_ARCHIVE_MALFORMED');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect(readdirSync(scratch)).toEqual([]);
  });
});

describe('rebuild --recipe-file', () => {
  test('byte-identical to the flag form, and writes the recipe it used', async () => {
    const r = await cli(['rebuild', '--recipe-file', 'recipe.json', '--out', 'fromfile', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(sha256File(join(dir, 'fromfile/rootfs.cpio.gz'))).toBe(
      sha256File(join(dir, 'flags/rootfs.cpio.gz')),
    );
    expect(j.cpioGz.sha256).toBe(flagForm.cpioGz.sha256);
    expect(j.pcrs).toEqual(flagForm.pcrs);
    const used = {
      recipe: 'caution',
      app: '../app.tar',
      overlays: ['../enclaveos.tar'],
      kernel: '../bzImage',
      cmdline: CAUTION_CMDLINE,
    };
    expect(j.recipeJson).toEqual(used);
    expect(JSON.parse(readFileSync(join(dir, 'fromfile/recipe.json'), 'utf8'))).toEqual(used);
    // The flag form wrote the same recipe, and verifying against it rebuilds the same PCRs.
    expect(JSON.parse(readFileSync(join(dir, 'flags/recipe.json'), 'utf8'))).toEqual(used);
    const v = await verifyAtDocument('doc.b64', 'flags/recipe.json');
    expect(v.code).toBe(0);
  });

  test('--recipe-file with source flags is a usage error', async () => {
    const r = await cli([
      'rebuild',
      '--recipe-file',
      'recipe.json',
      '--app',
      'app.tar',
      '--out',
      'x',
      '--json',
    ]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 'ERR_USAGE' });
    expect(JSON.parse(r.stdout).message).toContain('drop --app');
  });
});
