// Issue 14 part 1: our certificate reader against two independent X.509 parsers, node:crypto's
// X509Certificate (OpenSSL) and @peculiar/x509 (asn1-schema), on the same bytes: every certificate
// of every real document, and mutants of them (FUZZ_SEED, FUZZ_SCALE as the other campaigns).
// Rule: whenever we accept, both others parse it and agree on every field we use; whenever both
// refuse it, we refuse it. Pinned differences (each with its reason) are listed in PINNED.
import 'reflect-metadata';
import { X509Certificate as NodeX509 } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as px from '@peculiar/x509';
import { decode as cborDecode } from 'cbor-x';
import { describe, expect, test } from 'vitest';
import { isEnclaveVerifyError } from '../../src/errors.js';
import { AWS_NITRO_ROOT_G1_PEM } from '../../src/trust/aws-root.js';
import { hasKeyUsage, type ParsedCertificate, parseCertificate } from '../../src/trust/certificate.js';
import { pemToDer } from '../../src/trust/roots.js';
import { createRng } from '../../src/vectors/mutate.js';
import { ecdsaDer, hex } from '../support/der-edit.js';
import { mutateDer } from '../support/der-mutate.js';
import { budget, SEED, scaled } from './support.js';

const REAL = new URL('../../vectors/real/', import.meta.url);
const MUTANTS = scaled(10_000);

/** Every certificate of every real document (Nitro and NitroTPM, valid and invalid), deduplicated. */
function realCertificates(): Array<{ name: string; der: Uint8Array }> {
  const out = new Map<string, { name: string; der: Uint8Array }>();
  const add = (name: string, der: Uint8Array) => out.set(hex(der), { name, der });
  add('aws root', pemToDer(AWS_NITRO_ROOT_G1_PEM)[0]!);
  for (const sub of ['nitro/valid/', 'nitro/invalid/', 'nitrotpm/']) {
    for (const f of readdirSync(new URL(sub, REAL)).filter((n) => n.endsWith('.cbor'))) {
      // Read with cbor-x, not our parser: this only collects the certificates (NitroTPM payloads
      // carry nitrotpm_pcrs, which the enclave payload rules do not know).
      let envelope = cborDecode(readFileSync(new URL(sub + f, REAL)));
      if (envelope?.tag === 18) envelope = envelope.value;
      const payload = cborDecode(envelope[2]) as { certificate: Uint8Array; cabundle: Uint8Array[] };
      add(`${f} leaf`, new Uint8Array(payload.certificate));
      for (const [i, c] of payload.cabundle.entries()) add(`${f} cabundle[${i}]`, new Uint8Array(c));
    }
  }
  return [...out.values()];
}

type Outcome<T> = { ok: true; value: T } | { ok: false; why: string };
function attempt<T>(f: () => T): Outcome<T> {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
}

function ours(der: Uint8Array): Outcome<ParsedCertificate> {
  try {
    return { ok: true, value: parseCertificate(der) };
  } catch (e) {
    // Anything but our coded error is a crash of the reader, never a refusal.
    if (!isEnclaveVerifyError(e) || e.code !== 'ERR_CHAIN_INVALID') throw e;
    return { ok: false, why: e.message };
  }
}

// Name text as a list of "label=value" in encoded order, from each parser's own rendering.
const oursNameParts = (text: string) => text.split(', ').reverse();
const PLAIN = /^[A-Za-z0-9 .\-_:@*()/']*$/;
// Plain: every value without characters the renderings escape differently, and every attribute
// type one all three name alike (pinned: the short names of other types differ, e.g. serialNumber
// is "2.5.4.5" for peculiar and title "2.5.4.12" for us; the DER bytes are compared in any case).
const COMMON_LABELS = new Set(['CN', 'C', 'L', 'ST', 'O', 'OU']);
const plainName = (parts: string[]) =>
  parts.every(
    (p) => COMMON_LABELS.has(p.slice(0, p.indexOf('='))) && PLAIN.test(p.slice(p.indexOf('=') + 1)),
  );
const serialNorm = (h: string) => h.toLowerCase().replace(/^(00)+(?=.)/, '');
const KEY_USAGE_BITS = 9;

/**
 * The TBS bytes @peculiar/x509 parsed. Its `tbs` getter (an ArrayBuffer at run time) is declared
 * TypeScript-private in 2.2 and no public member gives those bytes, so the type is widened here.
 */
const peculiarTbs = (p: px.X509Certificate): ArrayBuffer => (p as unknown as { tbs: ArrayBuffer }).tbs;

/**
 * Field-by-field comparison of an accepted certificate; returns the fields that differ (empty when
 * all agree). Fields we use: TBS bytes, signature algorithm and value, issuer and subject (DER and
 * text), validity, SPKI and curve, basicConstraints with pathLen, keyUsage bits, the extension list
 * with critical flags, serial.
 */
function differences(o: ParsedCertificate, n: NodeX509, p: px.X509Certificate): string[] {
  const diff: string[] = [];
  const eq = (field: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b))
      diff.push(`${field}: ours ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  };
  eq('tbs (peculiar)', hex(o.tbs), hex(new Uint8Array(peculiarTbs(p))));
  const pAlg = p.signatureAlgorithm as { name: string; hash?: { name: string } };
  if (o.signatureIsEcdsaSha384) {
    eq('signature algorithm (peculiar)', 'ECDSA/SHA-384', `${pAlg.name}/${pAlg.hash?.name}`);
    // Ours accepts strict DER only, so re-encoding our r || s must give the very bytes peculiar read.
    eq('signature value (peculiar)', hex(ecdsaDer(o.signatureRaw!)), hex(new Uint8Array(p.signature)));
  }
  eq('issuer DER (peculiar)', hex(o.issuerRaw), hex(new Uint8Array(p.issuerName.toArrayBuffer())));
  eq('subject DER (peculiar)', hex(o.subjectRaw), hex(new Uint8Array(p.subjectName.toArrayBuffer())));
  for (const [field, text, nText, pText] of [
    ['issuer', o.issuer, n.issuer, p.issuer],
    ['subject', o.subject, n.subject, p.subject],
  ] as const) {
    const parts = oursNameParts(text);
    // Escaping of special characters differs between the three renderings (display only): compare
    // text when every value is plain, the DER bytes above in every case.
    if (plainName(parts)) {
      eq(`${field} text (node)`, parts, nText.split('\n'));
      eq(`${field} text (peculiar)`, parts, pText.split(', '));
    }
  }
  eq('notBefore (node)', o.notBeforeMs, Date.parse(n.validFrom));
  eq('notAfter (node)', o.notAfterMs, Date.parse(n.validTo));
  eq('notBefore (peculiar)', o.notBeforeMs, p.notBefore.getTime());
  eq('notAfter (peculiar)', o.notAfterMs, p.notAfter.getTime());
  eq('serial (node)', serialNorm(o.serialHex), serialNorm(n.serialNumber));
  eq('serial (peculiar)', serialNorm(o.serialHex), serialNorm(p.serialNumber));
  eq('spki (peculiar)', hex(o.spki), hex(new Uint8Array(p.publicKey.rawData)));
  const pKey = p.publicKey.algorithm as { name: string; namedCurve?: string };
  eq('P-384 key (peculiar)', o.keyIsP384, pKey.name === 'ECDSA' && pKey.namedCurve === 'P-384');
  const nKey = attempt(() => n.publicKey);
  if (nKey.ok && nKey.value.asymmetricKeyType === 'ec') {
    eq('P-384 key (node)', o.keyIsP384, nKey.value.asymmetricKeyDetails?.namedCurve === 'secp384r1');
    eq('spki (node)', hex(o.spki), hex(new Uint8Array(nKey.value.export({ type: 'spki', format: 'der' }))));
  }
  eq('cA (node)', o.basicConstraints?.ca ?? false, n.ca);
  const bc = p.getExtension(px.BasicConstraintsExtension);
  eq(
    'basicConstraints (peculiar)',
    o.basicConstraints ?? null,
    bc
      ? {
          critical: bc.critical,
          ca: bc.ca,
          ...(bc.pathLength === undefined ? {} : { pathLen: bc.pathLength }),
        }
      : null,
  );
  const ku = p.getExtension(px.KeyUsagesExtension);
  let ourBits = 0;
  for (let b = 0; b < KEY_USAGE_BITS; b++) if (hasKeyUsage(o, b)) ourBits |= 1 << b;
  eq(
    'keyUsage (peculiar)',
    o.keyUsage ? { critical: o.keyUsage.critical, bits: ourBits } : null,
    ku ? { critical: ku.critical, bits: ku.usages } : null,
  );
  eq(
    'extensions (peculiar)',
    o.extensions.map((e) => [e.oid, e.critical]),
    p.extensions.map((e) => [e.type, e.critical]),
  );
  return diff;
}

interface Tally {
  agreed: number;
  /** Refusals checked against both other parsers: by all three, by us and one, by us only. */
  refusedByAll: number;
  refusedByOursAndOne: number;
  refusedByOursOnly: number;
  /** Refusals checked against node only (peculiar is ~10x slower; it is asked for a sample). */
  refusedByOursAndNode: number;
  refusedByOursNodeAccepts: number;
  disagreements: string[];
}

// Our acceptance is what the rule constrains, so every accepted input goes to both other parsers.
// A refusal already satisfies "both refuse -> we refuse"; to count refusals by all, node sees each
// one and @peculiar/x509 (about 6 ms per certificate on this machine) one in PECULIAR_SAMPLE.
const PECULIAR_SAMPLE = 8;

function judge(der: Uint8Array, label: string, t: Tally, index = 0): void {
  const o = ours(der);
  const n = attempt(() => new NodeX509(der));
  if (!o.ok && index % PECULIAR_SAMPLE !== 0) {
    if (n.ok) t.refusedByOursNodeAccepts++;
    else t.refusedByOursAndNode++;
    return;
  }
  // A copy: peculiar's types take only ArrayBuffer-backed views; `der` may view any buffer.
  const p = attempt(() => new px.X509Certificate(new Uint8Array(der)));
  if (o.ok) {
    if (!n.ok || !p.ok) {
      t.disagreements.push(
        `${label}: we accept, ${!n.ok ? `node refuses (${n.why})` : ''}${!p.ok ? ` peculiar refuses (${p.why})` : ''}`,
      );
      return;
    }
    const d = attempt(() => differences(o.value, n.value, p.value));
    if (!d.ok) t.disagreements.push(`${label}: peculiar refuses while reading a field (${d.why})`);
    else if (d.value.length) t.disagreements.push(`${label}: ${d.value.join('; ')}`);
    else t.agreed++;
    return;
  }
  if (!n.ok && !p.ok) t.refusedByAll++;
  else if (!n.ok || !p.ok) t.refusedByOursAndOne++;
  else t.refusedByOursOnly++;
}

const fresh = (): Tally => ({
  agreed: 0,
  refusedByAll: 0,
  refusedByOursAndOne: 0,
  refusedByOursOnly: 0,
  refusedByOursAndNode: 0,
  refusedByOursNodeAccepts: 0,
  disagreements: [],
});
const line = (name: string, t: Tally, extra = '') =>
  `${name}${extra}: ${t.agreed} agreed; refused by all ${t.refusedByAll}, by us and one other ${t.refusedByOursAndOne}, ` +
  `by us only ${t.refusedByOursOnly} (stricter DER) [1 in ${PECULIAR_SAMPLE} refusals checked against both]; ` +
  `other refusals: also by node ${t.refusedByOursAndNode}, by us only ${t.refusedByOursNodeAccepts}; disagreements ${t.disagreements.length}`;

describe('differential X.509: ours vs node:crypto and @peculiar/x509', () => {
  const certs = realCertificates();

  test('every certificate of every real document: all three parse it and agree on every field', () => {
    const t = fresh();
    for (const c of certs) judge(c.der, c.name, t);
    console.log(line('x509 differential, real certificates', t, ` (${certs.length} distinct)`));
    expect(t.disagreements).toEqual([]);
    expect(t.agreed).toBe(certs.length);
    expect(certs.length).toBeGreaterThanOrEqual(40);
  });

  test(
    `${MUTANTS} mutated certificates (seed ${SEED}): no disagreement`,
    () => {
      const t = fresh();
      const ops = new Map<string, number>();
      for (let i = 0; i < MUTANTS; i++) {
        const rng = createRng(SEED, i);
        const base = rng.pick(certs);
        const m = mutateDer(base.der, rng);
        ops.set(m.kind, (ops.get(m.kind) ?? 0) + 1);
        judge(m.bytes, `seed ${SEED} input ${i} (${base.name}; ${m.kind}: ${m.op})`, t, i);
      }
      console.log(line('x509 differential, mutants', t, ` (seed ${SEED}, ${MUTANTS} inputs)`));
      console.log(`x509 differential mutation classes: ${[...ops].map(([k, v]) => `${k} ${v}`).join(', ')}`);
      expect(t.disagreements.slice(0, 20)).toEqual([]);
      // The campaign must exercise acceptance too, not only refusals.
      expect(t.agreed).toBeGreaterThan(MUTANTS / 50);
      expect(t.refusedByAll).toBeGreaterThan(MUTANTS / 10 / PECULIAR_SAMPLE);
    },
    budget(120_000),
  );
});
