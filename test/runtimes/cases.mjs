// Runs inside Bun, Deno and workerd (plain JavaScript, no runtime API): the real-document vector
// cases through the built library's own vector runner, plus tampered documents whose error code
// must equal the one Node gave. `lib` is the package entry (dist/index.js, or a bundle of it).

/** base64 -> bytes with `atob`, which every runtime here has. */
function fromBase64(b64) {
  const text = atob(b64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * Run the payload the Node test prepared: `{ caseFile, files, tampered }`.
 * Returns counts and the ids (with messages) of anything that did not match.
 */
export async function runRuntimeCases(lib, payload) {
  const source = new URL('file:///vectors/real/cases.json');
  const parsed = lib.parseVectorFile(payload.caseFile, source);
  const io = {
    async read(url) {
      const key = decodeURIComponent(url.pathname).replace(/^\/vectors\/real\//, '');
      const b64 = payload.files[key];
      if (b64 === undefined) throw new Error(`the payload has no file ${key}`);
      return fromBase64(b64);
    },
  };
  const report = await lib.runCases(parsed.cases, lib.libraryExecutor(io));
  const byKind = {};
  for (const r of report.results) {
    byKind[r.kind] ??= { passed: 0, failed: 0 };
    byKind[r.kind][r.status === 'pass' ? 'passed' : 'failed']++;
  }
  const tampered = { same: 0, differ: [] };
  for (const t of payload.tampered) {
    let code = 'accepted';
    try {
      await lib.verifyAttestation(fromBase64(t.base64), { currentDate: 'document' });
    } catch (e) {
      code = e instanceof lib.EnclaveVerifyError ? e.code : `thrown ${e?.name}: ${e?.message}`;
    }
    if (code === t.code) tampered.same++;
    else tampered.differ.push({ id: t.id, expected: t.code, actual: code });
  }
  // Revocation with CRLs given offline (a good list and one revoking the zonal CA): loads the
  // checker on demand (a separate chunk in bundles) and reads CRLs with the strict DER reader.
  const rv = payload.revocation;
  const revocation = await lib.checkAttestation(fromBase64(rv.doc), {
    trustedRoots: [rv.rootPem],
    currentDate: new Date(rv.at),
    expectedPcrs: { 0: rv.pcr0 },
    checkRevocation: { crls: rv.crls.map(fromBase64), fetch: false },
  });
  return {
    revocation: {
      code: revocation.error?.code ?? null,
      statuses: revocation.revocation.map((s) => [s.status, s.code ?? null]),
    },
    passed: report.passed,
    failed: report.failed,
    skipped: report.skipped,
    byKind,
    failures: report.results
      .filter((r) => r.status !== 'pass')
      .map((r) => ({ id: r.id, status: r.status, message: r.message ?? '' })),
    tampered,
  };
}
