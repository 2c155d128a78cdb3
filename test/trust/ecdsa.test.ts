import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { parseAttestation } from '../../src/parse/document.js';
import { parseCertificate } from '../../src/trust/certificate.js';
import { importP384Key, verifyEs384 } from '../../src/trust/ecdsa.js';

const NITRO = new URL('../../vectors/real/nitro/', import.meta.url);
const doc = parseAttestation(
  new Uint8Array(readFileSync(new URL('valid/anjuna_2021-03-17_prod.cbor', NITRO))),
).document;
const leaf = parseCertificate(doc.certificate);
const instance = parseCertificate(doc.cabundle[3]!);

test('raw-point and SPKI imports give keys that verify the same signature', async () => {
  const viaRaw = (await importP384Key(instance.spki, instance.publicKeyPoint))!;
  const viaSpki = (await importP384Key(instance.spki))!;
  expect(await verifyEs384(viaRaw, leaf.signatureRaw!, leaf.tbs)).toBe(true);
  expect(await verifyEs384(viaSpki, leaf.signatureRaw!, leaf.tbs)).toBe(true);
  expect(await verifyEs384(viaRaw, leaf.signatureRaw!, leaf.tbs.subarray(1))).toBe(false);
});

test('a point off the curve is refused on import (raw path)', async () => {
  const bad = instance.publicKeyPoint.slice();
  bad[96]! ^= 1;
  expect(await importP384Key(instance.spki, bad)).toBeUndefined();
  expect(await importP384Key(new Uint8Array([1, 2, 3]))).toBeUndefined();
});
