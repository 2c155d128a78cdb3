/**
 * The JSON shapes a Canary node serves about its probes (CANARY.md section 8): one observation
 * per attempt, the evidence claims, and the history paging rules. Runtime-agnostic so readers
 * of stored history (verify-history, the web page) share them with the monitor.
 */
import type { CanaryStatus, StatusReason } from './state.js';

/** One attempt as `/targets/{id}/history` lists it. */
export interface Observation {
  /** Attempt number, per target, increasing from 1 and never reused. */
  id: number;
  target_id: string;
  /** RFC 3339, when the probe started. */
  attempted_at: string;
  /** `YYYY-MM-DDTHH:MM:SSZ` of the evidence, or null when no document was judged. */
  observed_at: string | null;
  /** Target status and reason right after this attempt. */
  status: CanaryStatus;
  reason: StatusReason;
  /** What this attempt itself concluded. */
  attempt_reason: string;
  latency_ms: number | null;
  evidence_digest: string | null;
  manifest_digest: string | null;
  config_digest: string;
  transport_warning: string | null;
}

/** PCR0/1/2 values or match flags, keyed `"0" "1" "2"`. */
export type PcrTriple<T> = { '0': T; '1': T; '2': T };

/** `/targets/{id}/evidence/claims`. */
export interface EvidenceClaims {
  version: 1;
  target_id: string;
  evidence_digest: string;
  authentication: { status: 'verified' | 'unavailable'; nonce_status: 'verified' | 'unavailable' };
  observed_pcrs: PcrTriple<string> | null;
  expected_pcrs: PcrTriple<string> | null;
  pcr_matches: PcrTriple<boolean> | null;
}

/** Largest `limit` of one history page. */
export const MAX_HISTORY_PAGE = 100;

/**
 * Read `?offset=N&limit=M` of a history request: offset a non-negative integer (default 0),
 * limit 1..100 (default 100), nothing else. `undefined` means the request is invalid (Canary
 * answers 400 `invalid_history_pagination`).
 *
 * @example
 * ```ts
 * parseHistoryPaging(new URLSearchParams('offset=5&limit=10')); // { offset: 5, limit: 10 }
 * parseHistoryPaging(new URLSearchParams('limit=0')); // undefined
 * ```
 */
export function parseHistoryPaging(query: URLSearchParams): { offset: number; limit: number } | undefined {
  let offset = 0;
  let limit = MAX_HISTORY_PAGE;
  for (const [key, value] of query) {
    if (!/^(0|[1-9][0-9]{0,8})$/.test(value)) return undefined;
    if (key === 'offset') offset = Number(value);
    else if (key === 'limit') limit = Number(value);
    else return undefined;
  }
  if (limit < 1 || limit > MAX_HISTORY_PAGE) return undefined;
  return { offset, limit };
}
