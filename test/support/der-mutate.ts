/**
 * Structure-aware mutations of DER certificates for the differential campaign: the certificate is
 * read into a tree (constructed elements, and OCTET STRINGs that wrap DER, as extnValue does),
 * one node is changed, and the tree is written back with correct lengths everywhere else, so each
 * mutant is wrong in exactly one place. Classes: byte flips, length-byte edits, truncations, tag
 * swaps, non-minimal and indefinite lengths, extension and [3]-block duplication, trailing bytes
 * (after the certificate and inside [0], [3], extnValue), removed and swapped elements, BER
 * booleans, non-minimal and empty INTEGERs, impossible and non-RFC 5280 times, keyUsage unused
 * bits. Driven by the project's seedable Rng, so input i of seed s can be regenerated alone.
 */
import { readTlv } from '../../src/trust/der.js';
import type { Rng } from '../../src/vectors/mutate.js';
import { concat, derHeader } from './der-edit.js';

/** One DER element: constructed (children) or primitive (content). */
interface Node {
  tag: number;
  children?: Node[];
  content?: Uint8Array;
  /** An OCTET STRING whose content is itself one DER element (extnValue). */
  wraps?: boolean;
  /** Length bytes to write instead of the minimal ones (given the content length). */
  length?: (n: number) => Uint8Array;
  indefinite?: boolean;
}

function parseNode(b: Uint8Array, start: number, end: number): Node {
  const t = readTlv(b, start, end);
  const content = b.subarray(t.content, t.end);
  if (t.tag & 0x20) {
    const children: Node[] = [];
    for (let p = t.content; p < t.end; ) {
      const c = readTlv(b, p, t.end);
      children.push(parseNode(b, p, t.end));
      p = c.end;
    }
    return { tag: t.tag, children };
  }
  if (t.tag === 0x04 && content.length > 1 && content[0]! & 0x20) {
    try {
      const inner = readTlv(content, 0, content.length);
      if (inner.end === content.length)
        return { tag: 0x04, wraps: true, children: [parseNode(content, 0, content.length)] };
    } catch {
      // Plain octets.
    }
  }
  return { tag: t.tag, content };
}

function encode(n: Node): Uint8Array {
  const body = n.children ? concat(...n.children.map(encode)) : n.content!;
  if (n.indefinite) return concat(new Uint8Array([n.tag, 0x80]), body, new Uint8Array([0, 0]));
  if (n.length) return concat(new Uint8Array([n.tag]), n.length(body.length), body);
  return concat(derHeader(n.tag, body.length), body);
}

function allNodes(root: Node): Array<{ node: Node; parent?: Node }> {
  const out: Array<{ node: Node; parent?: Node }> = [];
  const walk = (node: Node, parent?: Node) => {
    out.push(parent ? { node, parent } : { node });
    for (const c of node.children ?? []) walk(c, node);
  };
  walk(root);
  return out;
}

const TAGS = [
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x1e, 0x30, 0x31, 0x80, 0x81, 0x82, 0xa0,
  0xa1, 0xa3,
];
const ascii = (s: string) => new TextEncoder().encode(s);
const BAD_TIMES: Array<[number, string]> = [
  [0x17, '250230000000Z'], // Feb 30
  [0x17, '250431120000Z'], // Apr 31
  [0x17, '240229120000Z'], // a real leap day (valid)
  [0x17, '230229120000Z'], // Feb 29 in a common year
  [0x17, '251301000000Z'], // month 13
  [0x17, '250101240000Z'], // hour 24
  [0x17, '250101000060Z'], // second 60
  [0x17, '2501010000Z'], // no seconds
  [0x17, '250101000000+0100'], // offset
  [0x17, '250101000000.5Z'], // fraction
  [0x18, '20250101000000Z'], // GeneralizedTime before 2050
  [0x18, '20500101000000Z'], // GeneralizedTime from 2050 (valid)
  [0x18, '20500101000000.000Z'], // fraction
  [0x18, '21000229000000Z'], // 2100 is not a leap year
  [0x17, '491231235959Z'], // UTCTime 2049 (valid)
  [0x17, '500101000000Z'], // UTCTime 1950 (valid)
];

// Each operator returns a description, or undefined when it does not apply to this tree.
type Op = (root: Node, rng: Rng) => string | undefined;

function pickWhere(root: Node, rng: Rng, pred: (n: Node, parent?: Node) => boolean) {
  const list = allNodes(root).filter((x) => pred(x.node, x.parent));
  return list.length ? rng.pick(list) : undefined;
}

const tbsOf = (root: Node) => root.children?.[0];
const extsBlock = (root: Node) => tbsOf(root)?.children?.find((c) => c.tag === 0xa3);
const extList = (root: Node) => extsBlock(root)?.children?.[0];

const OPS: Record<string, Op> = {
  lengthNonMinimal(root, rng) {
    const x = pickWhere(root, rng, () => true);
    if (!x) return;
    x.node.length = (n) => {
      const be: number[] = [];
      for (let v = n; v > 0; v = Math.floor(v / 256)) be.unshift(v & 0xff);
      if (be.length === 0) be.push(0);
      // Short lengths in the long form (81 05), long ones with a leading zero byte (82 00 85).
      if (n >= 0x80) be.unshift(0);
      return new Uint8Array([0x80 | be.length, ...be]);
    };
    return `non-minimal length on tag 0x${x.node.tag.toString(16)}`;
  },
  lengthIndefinite(root, rng) {
    const x = pickWhere(root, rng, (n) => !!n.children && !n.wraps);
    if (!x) return;
    x.node.indefinite = true;
    return `indefinite length on tag 0x${x.node.tag.toString(16)}`;
  },
  tagSwap(root, rng) {
    const x = pickWhere(root, rng, () => true);
    if (!x) return;
    const old = x.node.tag;
    x.node.tag = rng.pick(TAGS.filter((t) => t !== old && !!(t & 0x20) === !!x.node.children));
    return `tag 0x${old.toString(16)} -> 0x${x.node.tag.toString(16)}`;
  },
  remove(root, rng) {
    const x = pickWhere(root, rng, (_n, p) => !!p && !p.wraps);
    if (!x) return;
    x.parent!.children = x.parent!.children!.filter((c) => c !== x.node);
    return `removed tag 0x${x.node.tag.toString(16)}`;
  },
  swapSiblings(root, rng) {
    const x = pickWhere(root, rng, (n) => (n.children?.length ?? 0) >= 2 && !n.wraps);
    if (!x) return;
    const c = x.node.children!;
    const i = rng.int(c.length - 1);
    [c[i], c[i + 1]] = [c[i + 1]!, c[i]!];
    return `swapped children ${i},${i + 1} of tag 0x${x.node.tag.toString(16)}`;
  },
  trailingInside(root, rng) {
    const choices = [
      ['[0]', tbsOf(root)?.children?.find((c) => c.tag === 0xa0)],
      ['[3]', extsBlock(root)],
      ['extnValue', pickWhere(root, rng, (n) => !!n.wraps)?.node],
      ['any', pickWhere(root, rng, (n) => !!n.children && !n.wraps)?.node],
    ] as const;
    const [where, node] = rng.pick(choices);
    if (!node?.children) return;
    node.children.push(
      rng.pick([
        { tag: 0x05, content: new Uint8Array(0) },
        { tag: 0x02, content: new Uint8Array([0]) },
        { tag: 0x00, content: new Uint8Array(0) },
      ]),
    );
    return `trailing element inside ${where}`;
  },
  duplicateExtension(root, rng) {
    const list = extList(root);
    if (!list?.children?.length) return;
    const ext = rng.pick(list.children);
    list.children.splice(rng.int(list.children.length + 1), 0, structuredClone(ext));
    return 'duplicated an extension';
  },
  duplicateExtensionsBlock(root, rng) {
    const tbs = tbsOf(root);
    const block = extsBlock(root);
    if (!tbs?.children || !block) return;
    const copy = structuredClone(block);
    // Make the copies differ, as an attacker would: drop one extension from one copy.
    if (copy.children?.[0]?.children?.length && rng.chance(0.5)) copy.children[0].children.pop();
    tbs.children.splice(tbs.children.indexOf(block) + (rng.chance(0.5) ? 1 : 0), 0, copy);
    return 'duplicated the [3] extensions block';
  },
  berBoolean(root, rng) {
    const x = pickWhere(root, rng, (n) => n.tag === 0x01);
    if (!x) return;
    x.node.content = new Uint8Array([rng.pick([0x00, 0x01, 0x7f, 0x80, 0xfe])]);
    return `BOOLEAN content 0x${x.node.content[0]!.toString(16)}`;
  },
  booleanAdded(root, rng) {
    // basicConstraints {TRUE, TRUE} / {FALSE} / {TRUE, FALSE}, or a critical FALSE written out.
    const x = pickWhere(
      root,
      rng,
      (n) => n.tag === 0x30 && !!n.children && n.children.some((c) => c.tag === 0x01),
    );
    if (!x) return;
    x.node.children!.splice(rng.int(x.node.children!.length + 1), 0, {
      tag: 0x01,
      content: new Uint8Array([rng.pick([0x00, 0xff])]),
    });
    return 'extra BOOLEAN in a SEQUENCE that has one';
  },
  integerNonMinimal(root, rng) {
    const x = pickWhere(root, rng, (n) => n.tag === 0x02 && !!n.content);
    if (!x) return;
    const v = x.node.content!;
    x.node.content = rng.chance(0.3)
      ? new Uint8Array(0)
      : concat(new Uint8Array([v[0]! & 0x80 ? 0xff : 0x00]), v);
    return x.node.content.length === 0 ? 'empty INTEGER' : 'INTEGER with a redundant leading byte';
  },
  signatureIntegerPadded(root) {
    // r or s inside signatureValue with a redundant 0x00: the same signature, another fingerprint.
    const sig = root.children?.[2];
    if (!sig?.content || sig.content.length < 8) return;
    try {
      const inner = parseNode(sig.content, 1, sig.content.length);
      const r = inner.children?.[0];
      if (!r?.content) return;
      r.content = concat(new Uint8Array([0]), r.content);
      sig.content = concat(new Uint8Array([0]), encode(inner));
      return 'signature r with a redundant leading zero';
    } catch {
      return;
    }
  },
  time(root, rng) {
    const x = pickWhere(root, rng, (n) => n.tag === 0x17 || n.tag === 0x18);
    if (!x) return;
    const [tag, text] = rng.pick(BAD_TIMES);
    x.node.tag = tag;
    x.node.content = ascii(text);
    return `time ${tag === 0x17 ? 'UTCTime' : 'GeneralizedTime'} ${text}`;
  },
  keyUsageBits(root, rng) {
    const x = pickWhere(root, rng, (n, p) => n.tag === 0x03 && !!p?.wraps);
    if (!x) return;
    x.node.content = rng.pick([
      new Uint8Array([0x07, 0x84]), // keyCertSign in unused bits
      new Uint8Array([0x01, 0x07]), // unused bit set
      new Uint8Array([0x08, 0x80]), // unused count 8
      new Uint8Array([0x01]), // unused count without bits
      new Uint8Array([0x00]), // no bits (valid)
      new Uint8Array([0x00, 0x86]), // trailing zero bit kept
      new Uint8Array([0x01, 0x86, 0x00]),
    ]);
    return `BIT STRING in an extension ${Array.from(x.node.content, (b) => b.toString(16)).join(' ')}`;
  },
};
const NAMES = Object.keys(OPS);

/** A mutant and how it was made. */
export interface DerMutant {
  bytes: Uint8Array;
  /** The mutation class, e.g. `tagSwap`, `flipBit`. */
  kind: string;
  /** What exactly was changed. */
  op: string;
}

/**
 * One structured mutation of a DER certificate, or a byte-level one (flip, length-byte edit,
 * truncation, trailing bytes) for a quarter of the draws.
 *
 * @example
 * ```ts
 * const m = mutateDer(cert, createRng(seed, i));
 * ```
 */
export function mutateDer(der: Uint8Array, rng: Rng): DerMutant {
  if (rng.chance(0.25)) return byteLevel(der, rng);
  for (let attempt = 0; attempt < 8; attempt++) {
    const root = parseNode(der, 0, der.length);
    const name = rng.pick(NAMES);
    const what = OPS[name]!(root, rng);
    if (what) return { bytes: encode(root), kind: name, op: what };
  }
  return byteLevel(der, rng);
}

function byteLevel(der: Uint8Array, rng: Rng): DerMutant {
  const b = der.slice();
  switch (rng.int(4)) {
    case 0: {
      const at = rng.int(b.length);
      b[at]! ^= 1 << rng.int(8);
      return { bytes: b, kind: 'flipBit', op: `flip a bit at ${at}` };
    }
    case 1: {
      // A length byte: the byte after a tag-looking byte.
      const at = 1 + rng.int(b.length - 1);
      b[at] = (b[at]! + rng.pick([1, -1, 0x80, 0x7f])) & 0xff;
      return { bytes: b, kind: 'byteEdit', op: `byte edit at ${at}` };
    }
    case 2: {
      const n = rng.int(b.length);
      return { bytes: b.subarray(0, n), kind: 'truncate', op: `truncate to ${n}` };
    }
    default:
      return {
        bytes: concat(b, rng.bytes(1 + rng.int(3))),
        kind: 'trailingAfter',
        op: 'bytes after the certificate',
      };
  }
}
