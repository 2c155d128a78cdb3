/**
 * `enclave-verify measure`: PCR0/1/2 (and PCR8) of an EIF, or of the parts eif_build would
 * assemble, printed in our own formats or exactly as the AWS tools print them.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { printable } from '../../deployment/response.js';
import type { EifMeasurement } from '../../measure/eif-reader.js';
import { describeEif, formatNitroCli, formatPcrsLines, measurementsRecord } from '../../measure/format.js';
import { measureEifFile } from '../../measure/node/measure-file.js';
import { type MeasuredImage, measureEifParts } from '../../measure/node/parts.js';
import { progressBar } from '../../measure/node/progress.js';
import { decodeUtf8, toHex } from '../../util/bytes.js';
import { cannotRead, outputFormat, parseFlags, readSigningCertificate, usageError } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, reportError, unneutralised } from '../context.js';

const HELP = `usage: enclave-verify measure <file.eif> [options]
       enclave-verify measure --kernel FILE --cmdline STRING --ramdisk FILE [--ramdisk FILE]... [options]

Compute the PCRs an enclave image measures: PCR0 (kernel, cmdline, all ramdisks), PCR1
(kernel, cmdline, first ramdisk), PCR2 (other ramdisks) and, for signed images, PCR8 (the
signing certificate). An EIF is read once, strictly (layout, section rules, CRC, metadata,
signature); from parts, the PCRs are those of the image eif_build would build.

options:
  --format F                 human (default), json, nitro-cli (build-enclave's Measurements),
                             describe-eif (nitro-cli describe-eif; EIF only), pcrs (eif_build .pcrs lines)
  --json                     same as --format json
  --kernel FILE              kernel image (bzImage / Image), measuring from parts
  --cmdline STRING           kernel command line, exactly as measured (no trailing newline)
  --ramdisk FILE             ramdisk, in boot order; repeat for each
  --signing-certificate PEM  with parts: also compute PCR8 for this certificate
  --allow-bad-crc            report a CRC mismatch (CheckCRC false) instead of failing
  --no-progress              never draw the progress bar (drawn on a TTY for files of 64 MiB and more)
  --help                     show this help

Exit codes: 0 measured, 1 the image is malformed (ERR_EIF_*) or its signature does not verify,
2 unusable input (usage, unreadable file).
`;

const FORMATS = ['human', 'json', 'nitro-cli', 'describe-eif', 'pcrs'] as const;
type Format = (typeof FORMATS)[number];

const usage = (message: string) => usageError('measure', message);

function human(m: MeasuredImage): string {
  const lines: string[] = [];
  const eif = m.eif;
  if (eif) {
    const arch = eif.header.flags & 1 ? 'aarch64' : 'x86_64';
    lines.push(
      `EIF ${m.path}: ${eif.fileSize} bytes, version ${eif.header.version}, ${arch}, CRC ${eif.crc.ok ? 'ok' : `MISMATCH (header ${eif.crc.stored.toString(16).padStart(8, '0')}, computed ${eif.crc.computed.toString(16).padStart(8, '0')})`}`,
    );
    for (const s of eif.sections)
      lines.push(
        `  section ${String(s.index).padStart(2)} ${s.kind.padEnd(9)} ${String(s.size).padStart(12)} bytes at ${s.offset}`,
      );
    const cmdline = decodeUtf8(eif.cmdline);
    lines.push(
      `  cmdline: ${cmdline === undefined ? `(not UTF-8) ${toHex(eif.cmdline)}` : JSON.stringify(cmdline)}`,
    );
    if (eif.metadata) {
      const b = eif.metadata.BuildMetadata;
      lines.push(
        `  image: ${eif.metadata.ImageName} ${eif.metadata.ImageVersion}, built ${b.BuildTime} by ${b.BuildTool} ${b.BuildToolVersion}`,
      );
    }
    if (eif.signature) {
      const c = eif.signature.certificate;
      const who = Object.entries(c.issuer)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
      lines.push(`  signed by certificate issued by ${who} (${c.notBefore} .. ${c.notAfter})`);
      lines.push(
        `  signature check: ${eif.signature.signatureCheck ? 'valid, signs this PCR0' : `FAILED: ${eif.signature.reason}`}`,
      );
    } else lines.push('  not signed (no PCR8)');
  } else {
    lines.push('From parts (the image eif_build would build):');
    for (const p of m.parts)
      lines.push(`  ${p.kind.padEnd(9)} ${String(p.size).padStart(12)} bytes${p.path ? `  ${p.path}` : ''}`);
  }
  const rec = measurementsRecord(m.pcrs);
  for (const k of ['PCR0', 'PCR1', 'PCR2', 'PCR8']) if (rec[k]) lines.push(`${k} ${rec[k]}`);
  // Metadata and certificate names come from the image: no control characters to the terminal.
  return `${lines.map(printable).join('\n')}\n`;
}

function json(m: MeasuredImage): Record<string, unknown> {
  const eif = m.eif;
  const pcrs = Object.fromEntries(
    Object.entries(measurementsRecord(m.pcrs)).filter(([k]) => k !== 'HashAlgorithm'),
  );
  if (!eif) return { ok: true, source: 'parts', parts: m.parts, pcrs };
  const signatureFails = eif.signature !== undefined && !eif.signature.signatureCheck;
  return {
    ok: !signatureFails,
    // The same code and class a reject always carries, so machines can switch on it.
    ...(signatureFails
      ? {
          code: 'ERR_EIF_SIGNATURE',
          message: `the EIF signature does not verify: ${eif.signature?.reason}`,
        }
      : {}),
    source: 'eif',
    path: m.path,
    size: eif.fileSize,
    version: eif.header.version,
    arch: eif.header.flags & 1 ? 'aarch64' : 'x86_64',
    crc: {
      stored: eif.crc.stored.toString(16).padStart(8, '0'),
      computed: eif.crc.computed.toString(16).padStart(8, '0'),
      ok: eif.crc.ok,
    },
    sections: eif.sections.map((s) => ({ index: s.index, kind: s.kind, offset: s.offset, size: s.size })),
    cmdline: decodeUtf8(eif.cmdline) ?? null,
    metadata: eif.metadata ?? null,
    signature: eif.signature
      ? {
          signatureCheck: eif.signature.signatureCheck,
          ...(eif.signature.reason ? { reason: eif.signature.reason } : {}),
          issuer: eif.signature.certificate.issuer,
          pcr8: toHex(eif.signature.pcr8),
        }
      : null,
    pcrs,
  };
}

async function measureWithProgress(
  path: string,
  ctx: CliContext,
  allowBadCrc: boolean,
  showProgress: boolean,
): Promise<EifMeasurement> {
  const size = await stat(path).then(
    (s) => s.size,
    (e: Error) => {
      throw cannotRead(path, e);
    },
  );
  const bar =
    showProgress && ctx.stderr.isTTY && size >= 64 * 1024 * 1024
      ? progressBar(unneutralised(ctx.stderr), 'measuring')
      : undefined;
  try {
    return await measureEifFile(path, {
      allowCrcMismatch: allowBadCrc,
      ...(bar ? { onProgress: bar.update } : {}),
    });
  } finally {
    bar?.end();
  }
}

/** Run `measure`. @example await run(['enclave.eif', '--format', 'nitro-cli'], ctx) */
export const run: Command = async (argv, ctx) => {
  let wantsJson = argv.includes('--json') || argv.some((a, i) => a === '--format' && argv[i + 1] === 'json');
  try {
    const { values, positionals } = parseFlags(
      {
        args: argv,
        allowPositionals: true,
        options: {
          format: { type: 'string' },
          json: { type: 'boolean' },
          kernel: { type: 'string' },
          cmdline: { type: 'string' },
          ramdisk: { type: 'string', multiple: true },
          'signing-certificate': { type: 'string' },
          'allow-bad-crc': { type: 'boolean' },
          'no-progress': { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      },
      usage,
    );
    if (values.help) {
      ctx.stdout.write(HELP);
      return EXIT.VERIFIED;
    }
    const format: Format = outputFormat(values, FORMATS, 'human', usage);
    wantsJson = format === 'json';
    const fromParts =
      values.kernel !== undefined || values.cmdline !== undefined || values.ramdisk !== undefined;
    let m: MeasuredImage;
    if (fromParts) {
      if (positionals.length > 0)
        throw usage('give either an EIF file or --kernel/--cmdline/--ramdisk, not both');
      if (values.kernel === undefined || values.cmdline === undefined || !values.ramdisk?.length) {
        throw usage('measuring from parts needs --kernel, --cmdline and at least one --ramdisk');
      }
      if (format === 'describe-eif')
        throw usage('--format describe-eif describes an EIF file; parts have no header, CRC or metadata');
      const cert = values['signing-certificate'];
      if (cert !== undefined) await readSigningCertificate(resolve(ctx.cwd, cert), cert);
      m = await measureEifParts({
        kernel: resolve(ctx.cwd, values.kernel),
        cmdline: values.cmdline,
        ramdisks: values.ramdisk.map((r) => resolve(ctx.cwd, r)),
        ...(values['signing-certificate'] !== undefined
          ? { signingCertificate: resolve(ctx.cwd, values['signing-certificate']) }
          : {}),
      });
    } else {
      if (positionals.length !== 1) throw usage('give one EIF file (or --kernel, --cmdline and --ramdisk)');
      if (values['signing-certificate'] !== undefined)
        throw usage('--signing-certificate goes with parts; an EIF carries its own certificate');
      const path = resolve(ctx.cwd, positionals[0]!);
      const eif = await measureWithProgress(
        path,
        ctx,
        values['allow-bad-crc'] === true,
        values['no-progress'] !== true,
      );
      m = {
        source: 'eif',
        path,
        pcrs: eif.pcrs,
        eif,
        parts: eif.sections.map((s) => ({ kind: s.kind, size: s.size })),
      };
    }
    switch (format) {
      case 'human':
        ctx.stdout.write(human(m));
        break;
      case 'json':
        ctx.stdout.write(`${JSON.stringify(json(m))}\n`);
        break;
      case 'nitro-cli':
        ctx.stdout.write(formatNitroCli(m.pcrs));
        break;
      case 'describe-eif':
        ctx.stdout.write(`${JSON.stringify(describeEif(m.eif!), null, 2)}\n`);
        break;
      case 'pcrs':
        ctx.stdout.write(formatPcrsLines(m.pcrs));
        break;
    }
    if (m.eif?.signature && !m.eif.signature.signatureCheck) {
      if (format !== 'json')
        ctx.stderr.write(
          `enclave-verify: ERR_EIF_SIGNATURE: the EIF signature does not verify: ${printable(m.eif.signature.reason ?? '')}\n`,
        );
      return EXIT.REJECTED;
    }
    return EXIT.VERIFIED;
  } catch (e) {
    return reportError(ctx, e, wantsJson);
  }
};
