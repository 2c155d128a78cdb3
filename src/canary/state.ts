/**
 * The target state rules of Caution Canary v0 (CANARY.md section 7, canary's `state.rs`): how
 * a stream of probe outcomes becomes the status a monitor publishes for a target. Pure and
 * time-injected: every question takes `now`, so the 180 s boundary is testable exactly.
 *
 *   current definitive result (newest wins) > persistent outage (>= 3 transport failures) > STALE
 */
import {
  type CanaryStatus,
  type DefinitiveReason,
  isDefinitiveReason,
  STATEMENT_VALIDITY_SECONDS,
  type TransportReason,
} from './reasons.js';

/** How long a definitive result stays current, from its `observed_at`. */
export const DEFINITIVE_TTL_MS = STATEMENT_VALIDITY_SECONDS * 1000;
/** Consecutive transport failures after which a target without a current result is UNREACHABLE. */
export const UNREACHABLE_AFTER = 3;

export type { CanaryStatus, DefinitiveReason, TransportReason } from './reasons.js';
export { isDefinitiveReason } from './reasons.js';

/** What one probe concluded. INTERNAL_ERROR (a bug or resource failure on our side) judges nothing. */
export type AttemptReason = DefinitiveReason | TransportReason | 'INTERNAL_ERROR';
/** Every reason a published status can carry. */
export type StatusReason = AttemptReason | 'PENDING' | 'STALE';

/** One finished probe, as the state rules see it. */
export interface AttemptOutcome {
  reason: AttemptReason;
  /** When the evidence was observed (definitive reasons only; whole seconds in Canary). */
  observedAt?: Date;
}

/** The published view of a target at some instant. */
export interface TargetView {
  status: CanaryStatus;
  reason: StatusReason;
  /** `observed_at` of the current definitive result; null for PENDING/UNREACHABLE/STALE. */
  observedAt: Date | null;
  /** The current definitive result's expiry, or `now + 180 s` for derived states. */
  expiresAt: Date;
  /** A transport (or internal) failure seen while a definitive result is still current. */
  transportWarning: TransportReason | 'INTERNAL_ERROR' | null;
}

/** Serialisable memory of the rules, so a monitor can persist and reload it. */
export interface TargetMemory {
  /** Number of completed probes (any outcome). */
  completed: number;
  /** Newest definitive result. */
  definitive: { reason: DefinitiveReason; observedAt: Date } | undefined;
  /** Consecutive non-definitive failures since the last definitive result. */
  failures: number;
  /** The newest of those failures. */
  lastFailure: TransportReason | 'INTERNAL_ERROR' | undefined;
}

/**
 * The state machine of one target. Feed it every finished probe with {@link record}, ask it
 * what to publish with {@link view}.
 *
 * @example
 * ```ts
 * const s = new TargetState();
 * s.record({ reason: 'ALL_CHECKS_PASSED', observedAt: new Date('2026-01-01T00:00:00Z') });
 * s.view(new Date('2026-01-01T00:02:59Z')).status; // 'VERIFIED'
 * s.view(new Date('2026-01-01T00:03:00Z')).status; // 'STALE'
 * ```
 */
export class TargetState {
  private memory: TargetMemory = { completed: 0, definitive: undefined, failures: 0, lastFailure: undefined };

  /** A copy of the rules' memory. */
  snapshot(): TargetMemory {
    return { ...this.memory, definitive: this.memory.definitive && { ...this.memory.definitive } };
  }

  /**
   * Take one finished probe into account. A definitive result older than the newest one is
   * ignored (a late answer must not undo a newer verdict) and returns false.
   */
  record(outcome: AttemptOutcome): boolean {
    const m = this.memory;
    if (isDefinitiveReason(outcome.reason)) {
      const observedAt = outcome.observedAt;
      if (!observedAt || Number.isNaN(observedAt.getTime())) {
        throw new TypeError(`a ${outcome.reason} outcome needs a valid observedAt`);
      }
      m.completed++;
      if (m.definitive && observedAt.getTime() < m.definitive.observedAt.getTime()) return false;
      m.definitive = { reason: outcome.reason, observedAt: new Date(observedAt.getTime()) };
      m.failures = 0;
      m.lastFailure = undefined;
      return true;
    }
    m.completed++;
    m.failures++;
    m.lastFailure = outcome.reason as TransportReason | 'INTERNAL_ERROR';
    return true;
  }

  /**
   * What to publish at `now`, by CANARY.md section 7's precedence.
   */
  view(now: Date): TargetView {
    const m = this.memory;
    const t = now.getTime();
    const derived = (status: CanaryStatus, reason: StatusReason): TargetView => ({
      status,
      reason,
      observedAt: null,
      expiresAt: new Date(t + DEFINITIVE_TTL_MS),
      transportWarning: null,
    });
    if (m.completed === 0) return derived('PENDING', 'PENDING');
    const d = m.definitive;
    // Current while now < observed_at + 180 s: at exactly +180 s it is not.
    if (d && t < d.observedAt.getTime() + DEFINITIVE_TTL_MS) {
      return {
        status: d.reason === 'ALL_CHECKS_PASSED' ? 'VERIFIED' : 'FAILED',
        reason: d.reason,
        observedAt: d.observedAt,
        expiresAt: new Date(d.observedAt.getTime() + DEFINITIVE_TTL_MS),
        transportWarning: m.failures > 0 ? (m.lastFailure ?? null) : null,
      };
    }
    if (m.failures >= UNREACHABLE_AFTER && m.lastFailure !== undefined) {
      return derived('UNREACHABLE', m.lastFailure);
    }
    return derived('STALE', 'STALE');
  }
}
