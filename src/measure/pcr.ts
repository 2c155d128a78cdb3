/**
 * PCR rules of a Nitro enclave image (SPEC 2.2), over byte streams. A PCR here is always
 * `extend(d) = SHA384(48 zero bytes || d)` of a SHA-384 digest `d` of some measured bytes:
 * PCR0 over kernel, cmdline and every ramdisk; PCR1 over kernel, cmdline and the first
 * ramdisk; PCR2 over the other ramdisks; PCR8 over the DER of the signing certificate.
 */
import { utf8 } from '../util/bytes.js';
import type { HasherFactory } from './sha384.js';
import { createSha384, type Hasher } from './sha384.js';

/** Length of a SHA-384 PCR value. */
export const PCR_LENGTH = 48;

/** PCR0/1/2 (and PCR8 for a signed image) of an enclave image. */
export interface EifPcrs {
  pcr0: Uint8Array;
  pcr1: Uint8Array;
  pcr2: Uint8Array;
  /** Only for signed images. */
  pcr8?: Uint8Array;
}

/**
 * `SHA384(previous || digest)`: one TPM-style extend of a PCR (previous defaults to zeros).
 *
 * @example
 * ```ts
 * toHex(extendPcr(sha384Sync(new Uint8Array()))); // '21b9efbc...fc500a' (PCR2 without app ramdisk)
 * ```
 */
export function extendPcr(digest: Uint8Array, previous: Uint8Array = new Uint8Array(PCR_LENGTH)): Uint8Array {
  const h = createSha384();
  h.update(previous);
  h.update(digest);
  return h.digest();
}

/**
 * Synchronous one-shot SHA-384 (pure TypeScript; fine for small inputs such as certificates).
 *
 * @example
 * ```ts
 * toHex(sha384Sync(utf8('abc'))).slice(0, 8); // 'cb00753f'
 * ```
 */
export function sha384Sync(bytes: Uint8Array): Uint8Array {
  const h = createSha384();
  h.update(bytes);
  return h.digest();
}

/**
 * The PCR nitro-cli `pcr --input` computes for a file: `extend(SHA384(bytes))`. For a
 * signing certificate pass its DER: that is PCR8.
 *
 * @example
 * ```ts
 * toHex(pcrOfBytes(new Uint8Array())); // '21b9efbc...fc500a'
 * ```
 */
export function pcrOfBytes(bytes: Uint8Array): Uint8Array {
  return extendPcr(sha384Sync(bytes));
}

/**
 * PCR3 / PCR4 style value: the raw UTF-8 string extended into a zero PCR
 * (`SHA384(zeros48 || utf8(text))`, not hashed first), e.g. an IAM role ARN or instance id.
 *
 * @example
 * ```ts
 * toHex(pcrOfString('i-1234567890abcdef0')); // '08f996b5...79ce0'
 * ```
 */
export function pcrOfString(text: string): Uint8Array {
  return extendPcr(utf8(text));
}

/**
 * Computes PCR0/1/2 from the measured sections fed in file order. The hash of
 * kernel || cmdline || ramdisk0 is the common prefix of PCR0 and PCR1, so it is hashed once
 * and the running state copied when the first ramdisk ends.
 *
 * @example
 * ```ts
 * const m = new PcrMeasurer();
 * m.begin('kernel'); m.update(kernel);
 * m.begin('cmdline'); m.update(utf8(cmdline));
 * m.begin('ramdisk'); m.update(ramdisk);
 * const { pcr0, pcr1, pcr2 } = m.finish();
 * ```
 */
export class PcrMeasurer {
  private readonly image: Hasher;
  private readonly app: Hasher;
  private bootstrap: Uint8Array | undefined;
  private ramdisks = 0;
  private current: 'boot' | 'app' = 'boot';

  constructor(factory: HasherFactory = createSha384) {
    this.image = factory();
    this.app = factory();
  }

  /** Start a measured section (kernel, cmdline or ramdisk, in file order). */
  begin(kind: 'kernel' | 'cmdline' | 'ramdisk'): void {
    if (kind !== 'ramdisk') return;
    this.ramdisks++;
    if (this.ramdisks === 2) this.bootstrap = this.image.copy().digest();
    this.current = this.ramdisks === 1 ? 'boot' : 'app';
  }

  /** Add data of the current section. */
  update(bytes: Uint8Array): void {
    this.image.update(bytes);
    if (this.current === 'app') this.app.update(bytes);
  }

  /** The PCRs; the measurer cannot be used afterwards. */
  finish(): EifPcrs {
    const bootstrap = this.bootstrap ?? this.image.copy().digest();
    return {
      pcr0: extendPcr(this.image.digest()),
      pcr1: extendPcr(bootstrap),
      pcr2: extendPcr(this.app.digest()),
    };
  }
}

/** Parts of an image, as eif_build takes them. */
export interface EifParts {
  kernel: Uint8Array;
  /** The kernel command line exactly as measured (UTF-8, no trailing NUL or newline). */
  cmdline: string | Uint8Array;
  ramdisks: Uint8Array[];
}

/**
 * PCR0/1/2 of the image eif_build would make from these parts (no EIF needed).
 *
 * @example
 * ```ts
 * const pcrs = pcrsFromParts({ kernel, cmdline: 'console=ttyS0', ramdisks: [ramdisk] });
 * ```
 */
export function pcrsFromParts(parts: EifParts, factory?: HasherFactory): EifPcrs {
  const m = new PcrMeasurer(factory);
  m.begin('kernel');
  m.update(parts.kernel);
  m.begin('cmdline');
  m.update(typeof parts.cmdline === 'string' ? utf8(parts.cmdline) : parts.cmdline);
  for (const r of parts.ramdisks) {
    m.begin('ramdisk');
    m.update(r);
  }
  return m.finish();
}
