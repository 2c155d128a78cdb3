import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { pemCertificateToDer, signingCertificateFacts } from '../../src/measure/certificate.js';
import { encodeSectionHeader, parseEifHeader } from '../../src/measure/eif-format.js';
import { eifBuildMetadata, parseEifMetadata, serdeJsonReserialize } from '../../src/measure/metadata.js';
import { extendPcr, pcrOfBytes, pcrOfString, pcrsFromParts, sha384Sync } from '../../src/measure/pcr.js';
import { createSha384 } from '../../src/measure/sha384.js';
import {
  decodeCoseSign1,
  decodeSignatureSection,
  encodePcrInfo,
  encodeSignatureSection,
} from '../../src/measure/signature.js';
import { decodeCbor, EIF_CBOR_LIMITS } from '../../src/parse/cbor.js';
import { decodeUtf8, fromHex, toHex, utf8 } from '../../src/util/bytes.js';
import { type Encodable, encodeCbor } from '../../src/util/cbor-encode.js';

const VECTORS = new URL('../../vectors/real/eif/', import.meta.url);
const pub = JSON.parse(readFileSync(new URL('public-vectors.json', VECTORS), 'utf8'));

describe('public PCR values', () => {
  test('PCR3 of the AWS documentation role ARN', () => {
    expect(toHex(pcrOfString(pub.pcr3_aws_doc_example.input_utf8))).toBe(pub.pcr3_aws_doc_example.expected);
  });
  test('PCR4 of the AWS documentation instance id', () => {
    expect(toHex(pcrOfString(pub.pcr4_aws_doc_example.input_utf8))).toBe(pub.pcr4_aws_doc_example.expected);
  });
  test('PCR2 without an application ramdisk', () => {
    expect(toHex(extendPcr(sha384Sync(new Uint8Array())))).toBe(pub.pcr2_no_application_ramdisk.expected);
    const p = pcrsFromParts({ kernel: utf8('k'), cmdline: 'c', ramdisks: [utf8('r')] });
    expect(toHex(p.pcr2)).toBe(pub.pcr2_no_application_ramdisk.expected);
    expect(toHex(p.pcr0)).toBe(toHex(p.pcr1));
    expect(toHex(p.pcr0)).toBe(toHex(pcrOfBytes(utf8('kcr'))));
  });
});

describe('signature-section CBOR (aws-nitro-enclaves-image-format values)', () => {
  test('PcrInfo of register 0 with bytes 0x00..0x2f', () => {
    const value = Uint8Array.from({ length: 48 }, (_, i) => i);
    expect(toHex(encodePcrInfo(0, value))).toBe(pub.image_format_cbor_pcr_info.expected_cbor_hex);
  });
  const cert = utf8('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const sig = new Uint8Array([0xd2, 0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x40, 0x40]);
  test('signature section encodes as serde_cbor writes it', () => {
    expect(toHex(encodeSignatureSection([{ signingCertificate: cert, signature: sig }]))).toBe(
      pub.image_format_cbor_signature_section.expected_cbor_hex,
    );
  });
  test('and decodes back', () => {
    const [e] = decodeSignatureSection(fromHex(pub.image_format_cbor_signature_section.expected_cbor_hex));
    expect(decodeUtf8(e!.signingCertificate)).toBe(decodeUtf8(cert));
    expect(toHex(e!.signature)).toBe(toHex(sig));
    expect(decodeCoseSign1(e!.signature).alg).toBe(-35);
  });
  test('the signed vector re-encodes byte for byte', () => {
    const eif = new Uint8Array(readFileSync(new URL('official/signed-p384/out.eif', VECTORS)));
    const section = eif.subarray(9945 + 12);
    expect(toHex(encodeSignatureSection(decodeSignatureSection(section)))).toBe(toHex(section));
  });
});

describe('CBOR subset (as the signature section is read)', () => {
  const decode = (bytes: Uint8Array) => decodeCbor(bytes, EIF_CBOR_LIMITS);
  test.each([
    ['00', 0],
    ['1818', 24],
    ['190100', 256],
    ['1a00010000', 65536],
    ['1b0000000100000000', 2 ** 32],
    ['20', -1],
    ['4161', new Uint8Array([0x61])],
    ['6161', 'a'],
    ['8201f6', [1, null]],
  ])('%s round-trips', (hex, value) => {
    expect(decode(fromHex(hex))).toEqual(value);
    expect(toHex(encodeCbor(value as Encodable))).toBe(hex);
  });
  test.each([
    ['a2616100616101', /duplicate/],
    ['9f', /unsupported/],
    ['5f', /unsupported/],
    ['fa3f800000', /float/],
    ['0000', /trailing/],
    ['5a00010000', /exceeds the remaining input/],
    ['1b0020000000000000', /integer too large/],
    [`${'81'.repeat(20)}00`, /nesting deeper than 16/],
  ])('%s is rejected', (hex, why) => {
    expect(() => decode(fromHex(hex))).toThrow(why);
  });
  test('a malformed signature section is ERR_EIF_SIGNATURE with the decoder saying why', () => {
    for (const [hex, why] of [
      ['9f', /indefinite lengths are unsupported/],
      ['a2616100616101', /duplicate map key/],
      ['8000', /1 trailing bytes/],
    ] as const) {
      expect(() => decodeSignatureSection(fromHex(hex))).toThrow(why);
      expect(() => decodeSignatureSection(fromHex(hex))).toThrow(
        expect.objectContaining({ code: 'ERR_EIF_SIGNATURE' }),
      );
    }
  });
});

describe('incremental SHA-384', () => {
  test('matches node:crypto across block boundaries and after copy()', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    for (const n of [0, 1, 111, 112, 127, 128, 129, 255, 256, 1000]) {
      const h = createSha384();
      h.update(data.subarray(0, n >> 1));
      const c = h.copy();
      h.update(data.subarray(n >> 1, n));
      c.update(data.subarray(n >> 1, n));
      const want = createHash('sha384').update(data.subarray(0, n)).digest('hex');
      expect(toHex(h.digest())).toBe(want);
      expect(toHex(c.digest())).toBe(want);
    }
  });
  test('refuses use after digest()', () => {
    const h = createSha384();
    h.digest();
    expect(() => h.update(new Uint8Array(1))).toThrow(/after digest/);
  });
});

describe('metadata like eif_build 0.3.1', () => {
  test('defaults: ImageName from the kernel file, ImageVersion 1.0', () => {
    expect(decodeUtf8(eifBuildMetadata({ kernelFileName: 'bzImage', buildTime: 'T' }))).toBe(
      '{"ImageName":"bzImage","ImageVersion":"1.0","BuildMetadata":{"BuildTime":"T","BuildTool":"eif_build","BuildToolVersion":"0.3.1","OperatingSystem":"OS","KernelVersion":"kernel"},"DockerInfo":null,"CustomMetadata":null}',
    );
  });
  test('--name fills ImageName and ImageVersion (the 0.3.1 quirk)', () => {
    const m = parseEifMetadata(eifBuildMetadata({ kernelFileName: 'k', name: 'app', buildTime: 'T' }));
    expect([m.ImageName, m.ImageVersion]).toEqual(['app', 'app']);
  });
  test.each([
    [
      '{"b": 1, "a": {"d": [1, 2.50, -0, 1e2], "c": "\\u00e9\\n"}}',
      '{"a":{"c":"é\\n","d":[1,2.5,-0.0,100.0]},"b":1}',
    ],
    ['[1E400]', null],
    [
      '{"k": 18446744073709551615, "n": -9223372036854775808, "big": 18446744073709551616}',
      '{"big":1.8446744073709552e19,"k":18446744073709551615,"n":-9223372036854775808}',
    ],
    [
      '[0.0001, 0.00001, 0.000001, 1e15, 1e16, 1.5e17, 123456789.125]',
      '[0.0001,0.00001,1e-6,1000000000000000.0,1e16,1.5e17,123456789.125]',
    ],
    ['{"a":1,"a":2}', '{"a":2}'],
    ['{"\u{1F600}":1,"\uFFFF":2}', '{"\uFFFF":2,"\u{1F600}":1}'],
    ['{"a":1} x', null],
    ['"\t"', null],
  ])('serde_json re-serialisation of %s', (input, want) => {
    if (want === null) expect(() => serdeJsonReserialize(input)).toThrow(/custom metadata/);
    else expect(serdeJsonReserialize(input)).toBe(want);
  });
});

describe('header codec', () => {
  test('section header bytes', () => {
    expect(toHex(encodeSectionHeader('cmdline', 13))).toBe('00020000000000000000000d');
  });
  test('header of the aarch64 vector', () => {
    const eif = new Uint8Array(readFileSync(new URL('official/aarch64/out.eif', VECTORS)));
    const h = parseEifHeader(eif);
    expect(h).toMatchObject({
      version: 4,
      flags: 1,
      defaultMemory: 1 << 30,
      defaultCpus: 2,
      sectionCount: 5,
      crc32: 0x8883cf82,
    });
    expect(h.sectionOffsets).toEqual([548, 8752, 8792, 9044, 12056]);
    expect(h.sectionSizes).toEqual([8192, 28, 240, 3000, 3000]);
  });
});

describe('signing certificate', () => {
  test('facts of the test signer', () => {
    const pem = readFileSync(new URL('official/signed-p384/signing-cert.pem', VECTORS));
    const der = pemCertificateToDer(new Uint8Array(pem));
    const f = signingCertificateFacts(der);
    expect(f.curve).toBe('P-384');
    expect(f.issuer).toEqual({ commonName: 'enclave-verify test signer', organizationName: 'test only' });
    expect(f.algorithm).toBe('ecdsa-with-SHA384');
    expect([f.notBefore, f.notAfter]).toEqual(['Nov 25 22:51:50 2026 GMT', 'Nov 22 22:51:50 2036 GMT']);
    expect(f.signature).toMatch(/^30:65:02:31:00:91:19:5D/);
    expect(toHex(pcrOfBytes(der))).toBe(
      'c18636a166bf90d095a683aea583b67085c7b5c7bae761e878f4edc54adebb0780bbb1bbb6041fa711ebfff1b6ca8506',
    );
  });
  test('no PEM block', () => {
    expect(() => pemCertificateToDer('hello')).toThrow(/no PEM "CERTIFICATE" block/);
  });
});
