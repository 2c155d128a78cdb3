/**
 * DER surgery for tests: take certificates apart into their elements, change them, put them back
 * together with correct lengths, and sign the result with a test CA's key, so a test can show what
 * the verifier does with a certificate a CA really signed.
 */
import { readTlv } from '../../src/trust/der.js';

/** The header (tag and minimal definite length) of a DER element with `n` content bytes. */
export function derHeader(tag: number, n: number): Uint8Array {
  if (n < 0x80) return new Uint8Array([tag, n]);
  const len: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) len.unshift(v & 0xff);
  return new Uint8Array([tag, 0x80 | len.length, ...len]);
}

/** Concatenate byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One DER element with the given content. */
export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const c = concat(...content);
  return concat(derHeader(tag, c.length), c);
}

/** The complete encodings of the children of the constructed element `el`. */
export function elements(el: Uint8Array): Uint8Array[] {
  const top = readTlv(el, 0, el.length);
  const out: Uint8Array[] = [];
  for (let p = top.content; p < top.end; ) {
    const t = readTlv(el, p, top.end);
    out.push(el.subarray(t.start, t.end));
    p = t.end;
  }
  return out;
}

/** Content bytes of element `el`. */
export function contentOf(el: Uint8Array): Uint8Array {
  const t = readTlv(el, 0, el.length);
  return el.subarray(t.content, t.end);
}

/** The DER ECDSA-Sig-Value of a raw r || s signature, optionally with a redundant 0x00 before r. */
export function ecdsaDer(raw: Uint8Array, padR = false): Uint8Array {
  const int = (v: Uint8Array, pad: boolean) => {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    let x = v.subarray(i);
    if (x[0]! & 0x80) x = concat(new Uint8Array([0]), x);
    if (pad) x = concat(new Uint8Array([0]), x);
    return tlv(0x02, x);
  };
  return tlv(0x30, int(raw.subarray(0, 48), padR), int(raw.subarray(48), false));
}

/** Sign `tbs` with an ECDSA P-384 key and return the whole certificate (ecdsa-with-SHA384). */
export async function signCertificate(tbs: Uint8Array, key: CryptoKey): Promise<Uint8Array> {
  const raw = new Uint8Array(
    await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, key, tbs as Uint8Array<ArrayBuffer>),
  );
  const alg = tlv(0x30, tlv(0x06, new Uint8Array([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03])));
  return tlv(0x30, tbs, alg, tlv(0x03, new Uint8Array([0]), ecdsaDer(raw)));
}

/**
 * Re-issue a certificate with an edited TBSCertificate: `edit` gets the TBS elements (version [0],
 * serial, signature, issuer, validity, subject, SPKI, extensions [3]) and returns the new list.
 */
export async function reissue(
  cert: Uint8Array,
  issuerKey: CryptoKey,
  edit: (tbs: Uint8Array[]) => Uint8Array[],
): Promise<Uint8Array> {
  const [tbs] = elements(cert);
  return signCertificate(tlv(0x30, ...edit(elements(tbs!))), issuerKey);
}

/** Replace the extension `oidHex` inside an extensions [3] element by `build(value)`. */
export function replaceExtension(
  exts: Uint8Array,
  oidHex: string,
  build: (ext: Uint8Array[]) => Uint8Array[],
): Uint8Array {
  const list = elements(exts)[0]!;
  const out = elements(list).map((ext) => {
    const parts = elements(ext);
    return hex(contentOf(parts[0]!)) === oidHex ? tlv(0x30, ...build(parts)) : ext;
  });
  return tlv(0xa3, tlv(0x30, ...out));
}

/** Lowercase hex. */
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Bytes of a hex string. */
export function unhex(h: string): Uint8Array {
  return new Uint8Array((h.match(/../g) ?? []).map((x) => Number.parseInt(x, 16)));
}
