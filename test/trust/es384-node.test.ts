// The batch audit checks ES384 with Node's synchronous call (trust/node/es384.ts) instead of
// WebCrypto. It must give the same answer on every input: every real signature of the project's
// documents (the COSE signature and the four certificate links of each), and seeded mutations of
// each (signature, message, key), plus the malformed shapes WebCrypto refuses.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseAttestation } from '../../src/parse/document.js';
import { ChainCache } from '../../src/trust/cache.js';
import { parseCertificate } from '../../src/trust/certificate.js';
import { sigStructure } from '../../src/trust/cose-signature.js';
import { importP384Key, verifyEs384 } from '../../src/trust/ecdsa.js';
import { nodeEs384Verifier } from '../../src/trust/node/es384.js';
import { checkAttestation } from '../../src/verify.js';

const SEED = 20261206;
// P-384 group order n: r or s equal to n (or 0) is out of range and must be refused by both.
const ORDER = Uint8Array.from(
  Buffer.from(
    'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
    'hex',
  ),
);

interface Signed {
  what: string;
  key: CryptoKey;
  signature: Uint8Array;
  data: Uint8Array;
}

// Every signature of every real document: COSE over its Sig_structure, and each certificate's
// signature by the next certificate of its bundle (the root signs the first).
async function realSignatures(): Promise<Signed[]> {
  const out: Signed[] = [];
  for (const dir of ['nitro/valid', 'nitrotpm']) {
    const base = new URL(`../../vectors/real/${dir}/`, import.meta.url);
    for (const file of readdirSync(base)
      .filter((f) => f.endsWith('.cbor'))
      .sort()) {
      const { document, envelope } = parseAttestation(new Uint8Array(readFileSync(new URL(file, base))));
      const certs = [document.certificate, ...[...document.cabundle].reverse()].map((d) =>
        parseCertificate(d),
      );
      const leafKey = (await importP384Key(certs[0]!.spki, certs[0]!.publicKeyPoint))!;
      out.push({
        what: `${file} COSE`,
        key: leafKey,
        signature: envelope.signature,
        data: sigStructure(envelope.protectedBytes, envelope.payload),
      });
      for (let i = 0; i + 1 < certs.length; i++) {
        out.push({
          what: `${file} link ${i}`,
          key: (await importP384Key(certs[i + 1]!.spki, certs[i + 1]!.publicKeyPoint))!,
          signature: certs[i]!.signatureRaw!,
          data: certs[i]!.tbs,
        });
      }
    }
  }
  return out;
}

const signed = await realSignatures();

async function both(key: CryptoKey, signature: Uint8Array, data: Uint8Array): Promise<[boolean, boolean]> {
  return [await verifyEs384(key, signature, data), await nodeEs384Verifier(key, signature, data)];
}

describe('nodeEs384Verifier agrees with WebCrypto', () => {
  test('every real signature verifies with both (COSE and certificate links)', async () => {
    expect(signed.length).toBeGreaterThanOrEqual(60);
    for (const s of signed)
      expect([s.what, ...(await both(s.key, s.signature, s.data))]).toEqual([s.what, true, true]);
  });

  test('seeded mutations of signature, message and key: same answer every time', async () => {
    let runs = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(signed.length - 1),
        fc.constantFrom('signature', 'data', 'key'),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (which, part, at, flip) => {
          const s = signed[which]!;
          let { key, signature, data } = s;
          if (part === 'signature') {
            signature = signature.slice();
            signature[at % signature.length]! ^= flip;
          } else if (part === 'data') {
            data = data.slice();
            data[at % data.length]! ^= flip;
          } else {
            key = signed[(which + 1 + (at % (signed.length - 1))) % signed.length]!.key;
          }
          const [web, node] = await both(key, signature, data);
          runs++;
          if (web) accepted++;
          expect(node).toBe(web);
        },
      ),
      { seed: SEED, numRuns: 600 },
    );
    // A different key may still be the right one (documents share CAs); a flipped byte never is.
    console.log(
      `es384 differential: ${runs} mutations (seed ${SEED}), ${accepted} accepted by both, 0 disagreements`,
    );
    expect(runs).toBe(600);
  });

  test('malformed shapes are refused by both: lengths, zero and out-of-range r or s', async () => {
    const { key, signature, data } = signed[0]!;
    const r = signature.subarray(0, 48);
    const s = signature.subarray(48);
    const cases: Record<string, Uint8Array> = {
      empty: new Uint8Array(0),
      '95 bytes': signature.subarray(0, 95),
      '97 bytes': Uint8Array.from([...signature, 0]),
      'DER instead of raw': Uint8Array.from([0x30, 0x64, 0x02, 0x30, ...r, 0x02, 0x30, ...s]),
      'r = 0': Uint8Array.from([...new Uint8Array(48), ...s]),
      's = 0': Uint8Array.from([...r, ...new Uint8Array(48)]),
      'r = n': Uint8Array.from([...ORDER, ...s]),
      's = n': Uint8Array.from([...r, ...ORDER]),
      'all ff': new Uint8Array(96).fill(0xff),
    };
    for (const [name, sig] of Object.entries(cases))
      expect([name, ...(await both(key, sig, data))]).toEqual([name, false, false]);
  });

  test('keys WebCrypto would not use are refused: another curve, a private key, no verify usage', async () => {
    const { signature, data } = signed[0]!;
    const p256 = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const p384 = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, [
      'sign',
      'verify',
    ]);
    const noUsage = await crypto.subtle.importKey(
      'spki',
      await crypto.subtle.exportKey('spki', p384.publicKey),
      { name: 'ECDSA', namedCurve: 'P-384' },
      false,
      [],
    );
    const mine = new Uint8Array(
      await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, p384.privateKey, new Uint8Array(data)),
    );
    expect(await nodeEs384Verifier(p384.publicKey, mine, data)).toBe(true);
    expect(await nodeEs384Verifier(p256.publicKey, signature, data)).toBe(false);
    expect(await nodeEs384Verifier(p384.privateKey, mine, data)).toBe(false);
    expect(await nodeEs384Verifier(noUsage, mine, data)).toBe(false);
  });

  test('a ChainCache given the Node verifier gives the same reports as the default', async () => {
    const base = new URL('../../vectors/real/nitro/valid/', import.meta.url);
    const webCache = new ChainCache();
    const nodeCache = new ChainCache({ verifyEs384: nodeEs384Verifier });
    for (const file of readdirSync(base)
      .filter((f) => f.endsWith('.cbor'))
      .sort()) {
      const bytes = new Uint8Array(readFileSync(new URL(file, base)));
      const tampered = bytes.slice();
      tampered[tampered.length - 5]! ^= 1; // inside the COSE signature
      for (const doc of [bytes, tampered]) {
        const options = { currentDate: 'document' as const, allowDebug: true };
        const web = await checkAttestation(doc, { ...options, cache: webCache });
        const node = await checkAttestation(doc, { ...options, cache: nodeCache });
        expect([file, node.ok, node.error?.code, node.checks]).toEqual([
          file,
          web.ok,
          web.error?.code,
          web.checks,
        ]);
      }
      expect(
        (await checkAttestation(tampered, { currentDate: 'document', allowDebug: true, cache: nodeCache }))
          .error?.code,
      ).toBe('ERR_SIGNATURE_INVALID');
    }
  });
});
