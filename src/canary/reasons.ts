/**
 * The reason and status strings of Canary statements and target states (CANARY.md 7), and the
 * identifier rule shared by node ids, target ids and verifier ids.
 */

/** Reasons of a completed check of a target's evidence: they decide VERIFIED or FAILED. */
export const DEFINITIVE_REASONS = [
  'ALL_CHECKS_PASSED',
  'PCR_MISMATCH',
  'DEBUG_OR_ZERO_PCR',
  'INVALID_CERTIFICATE_CHAIN',
  'INVALID_SIGNATURE',
  'NONCE_MISMATCH',
  'MALFORMED_EVIDENCE',
  'TLS_BINDING_MISMATCH',
] as const;

/** Reasons of a probe that got no evidence to judge. */
export const TRANSPORT_REASONS = ['HTTP_ERROR', 'TIMEOUT', 'UNREACHABLE'] as const;

/** Every stable reason string canaryd emits. */
export const CANARY_REASONS = [
  ...DEFINITIVE_REASONS,
  ...TRANSPORT_REASONS,
  'INTERNAL_ERROR',
  'PENDING',
  'STALE',
] as const;

/** A definitive reason. */
export type DefinitiveReason = (typeof DEFINITIVE_REASONS)[number];
/** A transport reason. */
export type TransportReason = (typeof TRANSPORT_REASONS)[number];
/** Any stable reason. Statements may carry other non-empty strings (CANARY.md 10). */
export type CanaryReason = (typeof CANARY_REASONS)[number];

/** Statement and target statuses, exact case. */
export const CANARY_STATUSES = ['VERIFIED', 'FAILED', 'PENDING', 'UNREACHABLE', 'STALE'] as const;
/** A statement or target status. */
export type CanaryStatus = (typeof CANARY_STATUSES)[number];

/** How long a definitive result stays current, and so `expires_at - definitive time`. */
export const STATEMENT_VALIDITY_SECONDS = 180;

/**
 * True when `reason` is one of the definitive reasons.
 *
 * @example
 * ```ts
 * isDefinitiveReason('PCR_MISMATCH'); // true
 * isDefinitiveReason('TIMEOUT'); // false
 * ```
 */
export function isDefinitiveReason(reason: string): reason is DefinitiveReason {
  return (DEFINITIVE_REASONS as readonly string[]).includes(reason);
}

/**
 * True when `reason` is a transport reason (HTTP_ERROR, TIMEOUT, UNREACHABLE).
 *
 * @example
 * ```ts
 * isTransportReason('TIMEOUT'); // true
 * ```
 */
export function isTransportReason(reason: string): reason is TransportReason {
  return (TRANSPORT_REASONS as readonly string[]).includes(reason);
}

/**
 * Canary's identifier rule: non-empty `[A-Za-z0-9_-]+`, no length cap (node, target and
 * verifier ids).
 *
 * @example
 * ```ts
 * isIdentifier('payments-prod'); // true
 * isIdentifier('a.b'); // false
 * ```
 */
export function isIdentifier(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]+$/.test(value);
}
