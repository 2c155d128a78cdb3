/**
 * The monitor's network rules, after canaryd's: https only (plain http only with
 * `--allow-http`, for tests), no credentials or fragments, names resolved once per probe and
 * refused when any address is loopback, private, link-local or otherwise not public (unless
 * `--allow-private`), and the connection pinned to the address that was checked, so a DNS
 * answer cannot change between the check and the connect.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import type { SecureContext } from 'node:tls';
import { nodeTransport, trustContext } from '../../deployment/node/transport.js';
import type { DeploymentTransport } from '../../deployment/transport.js';
import { EnclaveVerifyError } from '../../errors.js';

/** Options of the monitor's network rules. */
export interface NetworkPolicy {
  /** Accept `http:` target URLs (tests only). */
  allowHttp?: boolean;
  /** Accept targets resolving to loopback/private/link-local addresses (tests, labs). */
  allowPrivate?: boolean;
  /** Extra CA certificates (PEM) for the TLS connection. */
  ca?: string[];
  /** Connect (TCP + TLS) timeout in ms; default 5 s as canaryctl. */
  connectTimeoutMs?: number;
  /** Resolver, for tests; default node:dns `lookup` with `all: true`. */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

/** Address classes that are never a public enclave. */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

function v4Class(ip: string): AddressClass {
  const [a = 0, b = 0] = ip.split('.').map(Number);
  if (a === 127) return 'loopback';
  if (a === 0) return 'unspecified';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'private'; // carrier-grade NAT
  if (a === 169 && b === 254) return 'link-local';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved';
  return 'public';
}

function v6Words(ip: string): number[] | undefined {
  let text = ip.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.replace(v4[1]!, `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const words = [...head, ...Array(fill).fill('0'), ...tail].map((w) => Number.parseInt(w, 16));
  return words.length === 8 && words.every((w) => w >= 0 && w <= 0xffff) ? words : undefined;
}

/**
 * The class of an IP address (v4 or v6; v4-mapped v6 is judged as v4).
 *
 * @example
 * ```ts
 * classifyAddress('10.1.2.3'); // 'private'
 * classifyAddress('::ffff:127.0.0.1'); // 'loopback'
 * classifyAddress('93.184.216.34'); // 'public'
 * ```
 */
export function classifyAddress(ip: string): AddressClass {
  if (isIP(ip) === 4) return v4Class(ip);
  const w = v6Words(ip);
  if (!w) return 'reserved';
  if (w.every((x) => x === 0)) return 'unspecified';
  if (w.slice(0, 7).every((x) => x === 0) && w[7] === 1) return 'loopback';
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) {
    return v4Class(`${w[6]! >> 8}.${w[6]! & 255}.${w[7]! >> 8}.${w[7]! & 255}`);
  }
  if ((w[0]! & 0xfe00) === 0xfc00) return 'private';
  if ((w[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((w[0]! & 0xff00) === 0xff00) return 'multicast';
  return 'public';
}

/**
 * Check a target URL against the monitor's rules; returns the parsed URL.
 *
 * @example
 * ```ts
 * checkTargetUrl('https://enclave.example/attestation', {}); // URL
 * checkTargetUrl('http://enclave.example/', {}); // throws ERR_USAGE
 * ```
 */
export function checkTargetUrl(text: string, policy: Pick<NetworkPolicy, 'allowHttp'>): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new EnclaveVerifyError('ERR_USAGE', `target URL '${text.slice(0, 200)}' does not parse`, { cause });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `target URL ${url.origin} is not https; only https targets are probed (--allow-http exists for tests)`,
    );
  }
  if (url.username || url.password || text.includes('#')) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      'a target URL must carry no user name, password or fragment; remove them from the config',
    );
  }
  return url;
}

/** The address a probe connects to, checked. */
export interface PinnedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolve a host once and check every address it has; throws `ERR_HTTP` (a transport failure:
 * no request was sent) when it does not resolve or any address is not public and private
 * targets are not allowed.
 *
 * @example
 * ```ts
 * const pin = await resolvePinned('enclave.example', {}); // { address: '203.0.113.7', family: 4 }
 * ```
 */
export async function resolvePinned(host: string, policy: NetworkPolicy): Promise<PinnedAddress> {
  const bare = host.replace(/^\[|\]$/g, '');
  let answers: { address: string; family: number }[];
  if (isIP(bare)) answers = [{ address: bare, family: isIP(bare) }];
  else {
    try {
      answers = await (policy.resolve ?? ((h) => dnsLookup(h, { all: true, verbatim: true })))(bare);
    } catch (cause) {
      throw new EnclaveVerifyError(
        'ERR_HTTP',
        `cannot resolve ${bare.slice(0, 255)}: ${(cause as Error).message}; check the target's host name`,
        { cause, details: { host: bare } },
      );
    }
  }
  if (answers.length === 0) {
    throw new EnclaveVerifyError('ERR_HTTP', `${bare.slice(0, 255)} resolves to no address`, {
      details: { host: bare },
    });
  }
  if (!policy.allowPrivate) {
    for (const a of answers) {
      const kind = classifyAddress(a.address);
      if (kind !== 'public') {
        throw new EnclaveVerifyError(
          'ERR_HTTP',
          `${bare.slice(0, 255)} resolves to ${a.address} (${kind}); targets on non-public addresses are refused unless --allow-private`,
          { details: { host: bare, address: a.address, class: kind } },
        );
      }
    }
  }
  const first = answers[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/**
 * A `lookup` that always answers the pinned address (both call shapes of node:net).
 *
 * @example
 * ```ts
 * https.request(url, { lookup: pinnedLookup({ address: '203.0.113.7', family: 4 }) });
 * ```
 */
export function pinnedLookup(pin: PinnedAddress): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: pin.address, family: pin.family }]);
    else callback(null, pin.address, pin.family);
  }) as LookupFunction;
}

/** TLS contexts per policy: building one parses every root, too costly per probe. */
const contexts = new WeakMap<NetworkPolicy, SecureContext>();

/**
 * The transport of one probe: resolve and check the host now, then connect only to that
 * address (TLS still verifies the certificate for the host name).
 *
 * @example
 * ```ts
 * const transport = await probeTransport(new URL(target.attestation_url), policy);
 * await probeDeployment(target.attestation_url, { transport, expectedPcrs });
 * ```
 */
export async function probeTransport(url: URL, policy: NetworkPolicy): Promise<DeploymentTransport> {
  const pin = await resolvePinned(url.hostname, policy);
  let secureContext = contexts.get(policy);
  if (!secureContext && policy.ca && policy.ca.length > 0) {
    secureContext = trustContext(policy.ca);
    contexts.set(policy, secureContext);
  }
  return nodeTransport({
    ...(secureContext ? { secureContext } : {}),
    lookup: pinnedLookup(pin),
    connectTimeoutMs: policy.connectTimeoutMs ?? 5_000,
  });
}
