/**
 * `/metrics` in the Prometheus text format (0.0.4): snake_case names with unit suffixes,
 * `_total` counters, the target id as a label.
 */
import { CANARY_STATUSES } from '../reasons.js';
import type { CanaryMonitor } from './monitor.js';

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function family(out: string[], name: string, type: 'gauge' | 'counter', help: string): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

/**
 * Render the monitor's metrics.
 *
 * @example
 * ```ts
 * res.end(renderMetrics(monitor)); // content-type text/plain; version=0.0.4
 * ```
 */
export function renderMetrics(monitor: CanaryMonitor): string {
  const out: string[] = [];
  const now = monitor.time().getTime();
  const ids = monitor.targetIds;
  family(
    out,
    'canary_target_state',
    'gauge',
    'Published status of each target: 1 for the status it is in, 0 otherwise.',
  );
  for (const id of ids) {
    const status = monitor.statement(id).payload.status;
    for (const s of CANARY_STATUSES) {
      out.push(`canary_target_state{target_id="${label(id)}",state="${s}"} ${status === s ? 1 : 0}`);
    }
  }
  family(
    out,
    'canary_target_last_probe_latency_seconds',
    'gauge',
    'Time from request to complete answer of the last probe that got an answer.',
  );
  for (const id of ids) {
    const ms = monitor.details(id).lastLatencyMs;
    if (ms !== undefined)
      out.push(`canary_target_last_probe_latency_seconds{target_id="${label(id)}"} ${ms / 1000}`);
  }
  family(
    out,
    'canary_probes_total',
    'counter',
    'Completed probes of each target by the reason they concluded.',
  );
  for (const id of ids) {
    for (const [reason, n] of [...monitor.details(id).counts].sort()) {
      out.push(`canary_probes_total{target_id="${label(id)}",reason="${label(reason)}"} ${n}`);
    }
  }
  family(
    out,
    'canary_target_seconds_since_last_verified',
    'gauge',
    'Seconds since the evidence of the last probe that passed every check (absent if none yet).',
  );
  for (const id of ids) {
    const at = monitor.details(id).lastVerifiedAt;
    if (at)
      out.push(
        `canary_target_seconds_since_last_verified{target_id="${label(id)}"} ${(now - at.getTime()) / 1000}`,
      );
  }
  family(out, 'canary_probes_in_flight', 'gauge', 'Probes running now over all targets.');
  out.push(`canary_probes_in_flight ${monitor.schedule?.active ?? 0}`);
  family(
    out,
    'canary_probe_slots_skipped_total',
    'counter',
    "Probe slots skipped because the target's previous probe was still running.",
  );
  out.push(`canary_probe_slots_skipped_total ${monitor.schedule?.skipped ?? 0}`);
  return `${out.join('\n')}\n`;
}
