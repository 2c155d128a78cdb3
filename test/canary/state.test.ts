// CANARY.md section 7 rule by rule, with time injected: every assertion names an instant.
import { describe, expect, it } from 'vitest';
import { DEFINITIVE_TTL_MS, isDefinitiveReason, TargetState } from '../../src/canary/state.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const at = (s: number): Date => new Date(T0 + s * 1000);

describe('TargetState', () => {
  it('is PENDING until the first completed probe, with derived expiry now + 180 s', () => {
    const s = new TargetState();
    const v = s.view(at(10));
    expect(v).toEqual({
      status: 'PENDING',
      reason: 'PENDING',
      observedAt: null,
      expiresAt: at(190),
      transportWarning: null,
    });
  });

  it('keeps a success VERIFIED until exactly observed_at + 180 s, then STALE', () => {
    const s = new TargetState();
    s.record({ reason: 'ALL_CHECKS_PASSED', observedAt: at(0) });
    expect(s.view(at(0)).status).toBe('VERIFIED');
    expect(s.view(new Date(T0 + DEFINITIVE_TTL_MS - 1)).status).toBe('VERIFIED');
    expect(s.view(new Date(T0 + DEFINITIVE_TTL_MS - 1)).expiresAt).toEqual(at(180));
    const boundary = s.view(at(180));
    expect(boundary.status).toBe('STALE');
    expect(boundary.reason).toBe('STALE');
    expect(boundary.observedAt).toBeNull();
    expect(boundary.expiresAt).toEqual(at(360));
  });

  it('a failure replaces a fresh success at once, and one success recovers at once', () => {
    const s = new TargetState();
    s.record({ reason: 'ALL_CHECKS_PASSED', observedAt: at(0) });
    s.record({ reason: 'PCR_MISMATCH', observedAt: at(6) });
    expect(s.view(at(6))).toMatchObject({ status: 'FAILED', reason: 'PCR_MISMATCH', observedAt: at(6) });
    expect(s.view(at(6)).expiresAt).toEqual(at(186));
    s.record({ reason: 'ALL_CHECKS_PASSED', observedAt: at(12) });
    expect(s.view(at(12))).toMatchObject({ status: 'VERIFIED', reason: 'ALL_CHECKS_PASSED' });
  });

  it('ignores an older definitive result that arrives late', () => {
    const s = new TargetState();
    expect(s.record({ reason: 'ALL_CHECKS_PASSED', observedAt: at(20) })).toBe(true);
    expect(s.record({ reason: 'NONCE_MISMATCH', observedAt: at(10) })).toBe(false);
    expect(s.view(at(21))).toMatchObject({ status: 'VERIFIED', observedAt: at(20) });
  });

  it('transport failures never replace a current result; they show as a warning', () => {
    const s = new TargetState();
    s.record({ reason: 'ALL_CHECKS_PASSED', observedAt: at(0) });
    for (const r of ['TIMEOUT', 'HTTP_ERROR', 'UNREACHABLE', 'TIMEOUT'] as const) s.record({ reason: r });
    expect(s.view(at(179))).toMatchObject({
      status: 'VERIFIED',
      reason: 'ALL_CHECKS_PASSED',
      transportWarning: 'TIMEOUT',
    });
    // TTL over, four consecutive failures: the persistent outage shows, with the last reason.
    expect(s.view(at(180))).toMatchObject({ status: 'UNREACHABLE', reason: 'TIMEOUT', observedAt: null });
  });

  it('a FAILED result is also kept over transport failures until it expires', () => {
    const s = new TargetState();
    s.record({ reason: 'TLS_BINDING_MISMATCH', observedAt: at(0) });
    s.record({ reason: 'UNREACHABLE' });
    s.record({ reason: 'UNREACHABLE' });
    s.record({ reason: 'UNREACHABLE' });
    expect(s.view(at(100))).toMatchObject({ status: 'FAILED', transportWarning: 'UNREACHABLE' });
    expect(s.view(at(180))).toMatchObject({ status: 'UNREACHABLE', reason: 'UNREACHABLE' });
  });

  it('needs three consecutive transport failures for UNREACHABLE; fewer are STALE', () => {
    const s = new TargetState();
    s.record({ reason: 'HTTP_ERROR' });
    expect(s.view(at(1))).toMatchObject({ status: 'STALE', reason: 'STALE' });
    s.record({ reason: 'HTTP_ERROR' });
    expect(s.view(at(2))).toMatchObject({ status: 'STALE', reason: 'STALE' });
    s.record({ reason: 'TIMEOUT' });
    expect(s.view(at(3))).toMatchObject({
      status: 'UNREACHABLE',
      reason: 'TIMEOUT',
      expiresAt: at(183),
      transportWarning: null,
    });
  });

  it('a definitive result resets the failure counter', () => {
    const s = new TargetState();
    s.record({ reason: 'TIMEOUT' });
    s.record({ reason: 'TIMEOUT' });
    s.record({ reason: 'PCR_MISMATCH', observedAt: at(5) });
    s.record({ reason: 'TIMEOUT' });
    s.record({ reason: 'TIMEOUT' });
    expect(s.snapshot().failures).toBe(2);
    // Expired result, only two failures since it: STALE, not UNREACHABLE.
    expect(s.view(at(185))).toMatchObject({ status: 'STALE' });
    s.record({ reason: 'UNREACHABLE' });
    expect(s.view(at(185))).toMatchObject({ status: 'UNREACHABLE', reason: 'UNREACHABLE' });
  });

  it('one success recovers an UNREACHABLE target at once', () => {
    const s = new TargetState();
    for (let i = 0; i < 5; i++) s.record({ reason: 'UNREACHABLE' });
    expect(s.view(at(30)).status).toBe('UNREACHABLE');
    s.record({ reason: 'ALL_CHECKS_PASSED', observedAt: at(30) });
    expect(s.view(at(30))).toMatchObject({ status: 'VERIFIED', transportWarning: null });
  });

  it('counts INTERNAL_ERROR as a non-definitive failure', () => {
    const s = new TargetState();
    s.record({ reason: 'INTERNAL_ERROR' });
    s.record({ reason: 'INTERNAL_ERROR' });
    s.record({ reason: 'INTERNAL_ERROR' });
    expect(s.view(at(1))).toMatchObject({ status: 'UNREACHABLE', reason: 'INTERNAL_ERROR' });
  });

  it('refuses a definitive outcome without a valid observedAt', () => {
    const s = new TargetState();
    expect(() => s.record({ reason: 'PCR_MISMATCH' })).toThrow(/needs a valid observedAt/);
    expect(() => s.record({ reason: 'PCR_MISMATCH', observedAt: new Date(Number.NaN) })).toThrow(TypeError);
  });

  it('knows which reasons are definitive', () => {
    expect(isDefinitiveReason('TLS_BINDING_MISMATCH')).toBe(true);
    expect(isDefinitiveReason('INTERNAL_ERROR')).toBe(false);
    expect(isDefinitiveReason('STALE')).toBe(false);
  });
});
