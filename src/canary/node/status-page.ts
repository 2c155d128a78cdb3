/**
 * The monitor's status page at `/`: server-rendered HTML, no script, targets first (status,
 * reason, observed time, links to the raw artifacts), then the node's identity. Every text
 * that came from a config or an endpoint is HTML-escaped; the page is served with a CSP that
 * forbids scripts anyway.
 */
import type { CanaryMonitor } from './monitor.js';

/**
 * Escape text for HTML element content and quoted attribute values.
 *
 * @example
 * ```ts
 * escapeHtml('<b a="1">&'); // '&lt;b a=&quot;1&quot;&gt;&amp;'
 * ```
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const COLOURS: Record<string, string> = {
  VERIFIED: '#1a7f37',
  FAILED: '#cf222e',
  UNREACHABLE: '#bc4c00',
  STALE: '#9a6700',
  PENDING: '#57606a',
};

/**
 * Render the status page.
 *
 * @example
 * ```ts
 * res.end(renderStatusPage(monitor));
 * ```
 */
export function renderStatusPage(monitor: CanaryMonitor): string {
  const e = escapeHtml;
  const rows = monitor.targetIds.map((id) => {
    const p = monitor.statement(id).payload;
    const d = monitor.details(id);
    const view = monitor.view(id);
    const base = `/targets/${encodeURIComponent(id)}`;
    const links = [
      `<a href="${base}/statement">statement</a>`,
      ...(p.evidence_digest
        ? [`<a href="${base}/evidence">evidence</a>`, `<a href="${base}/evidence/claims">claims</a>`]
        : []),
      `<a href="${base}/history">history</a>`,
    ].join(' · ');
    const warning = view.transportWarning
      ? `<div class="warn">transport warning: ${e(view.transportWarning)}</div>`
      : '';
    const error =
      d.lastError && p.status !== 'VERIFIED' ? `<div class="err">${e(d.lastError.slice(0, 500))}</div>` : '';
    return `<tr>
<td><strong>${e(d.name)}</strong><div class="id">${e(id)} · ${e(d.url)}</div></td>
<td><span class="status" style="background:${COLOURS[p.status] ?? '#57606a'}">${e(p.status)}</span></td>
<td>${e(p.reason)}${warning}${error}</td>
<td>${p.observed_at ? e(p.observed_at) : '—'}<div class="id">expires ${e(p.expires_at)}</div></td>
<td>${links}</td>
</tr>`;
  });
  const generated = monitor.time().toISOString();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Canary monitor ${e(monitor.metadata.node_id)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1f2328}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
.status{color:#fff;border-radius:4px;padding:.1rem .45rem;font-weight:600;font-size:13px}
.id{color:#57606a;font-size:12px;word-break:break-all}.warn{color:#9a6700;font-size:13px}.err{color:#cf222e;font-size:12px;word-break:break-word}
code{font-size:12px;word-break:break-all}
</style>
</head>
<body>
<h1>Canary monitor <code>${e(monitor.metadata.node_id)}</code></h1>
<table>
<thead><tr><th>target</th><th>status</th><th>reason</th><th>observed</th><th>artifacts</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<h2>Node</h2>
<ul>
<li>identity: ${e(monitor.metadata.identity_mode)} · key epoch 0 · <a href="/keys.json">keys.json</a> (keyset <code>${e(monitor.keysetDigest)}</code>)</li>
<li>config: <a href="/config.json">config.json</a> (<code>${e(monitor.configDigest)}</code>)</li>
<li><a href="/status.json">status.json</a> · <a href="/metrics">metrics</a> · <a href="/health">health</a></li>
<li>generated ${e(generated)}; statements are signed with Ed25519 and ML-DSA-65 and expire 180 s after their observation. Check them with <code>enclave-verify canary verify</code>.</li>
</ul>
</body>
</html>
`;
}
