/**
 * `enclave-verify build-eif`: write an EIF byte-identical to what eif_build 0.3.1 writes for
 * the same arguments (signed images differ only in the random ECDSA bytes and the CRC).
 */
import { resolve } from 'node:path';
import { formatNitroCli, measurementsRecord } from '../../measure/format.js';
import { writeEifFile } from '../../measure/node/write-file.js';
import { printable } from '../../util/terminal-text.js';
import { parseFlags, readSigningCertificate, usageError } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, reportError } from '../context.js';

const HELP = `usage: enclave-verify build-eif --kernel FILE --cmdline STRING --ramdisk FILE [--ramdisk FILE]...
                                --output FILE [options]

Write an Enclave Image File exactly as eif_build 0.3.1 does for the same arguments.

options:
  --kernel FILE              kernel image (bzImage for x86_64, Image for aarch64)
  --cmdline STRING           kernel command line
  --ramdisk FILE             ramdisk (cpio.gz), in boot order; repeat for each
  --output FILE              the EIF to write
  --build-time T             BuildTime in the metadata (default: now, RFC 3339)
  --name N                   ImageName (default: the kernel file's base name); eif_build 0.3.1
                             also writes this value as ImageVersion ("1.0" without --name)
  --version V                accepted for eif_build compatibility; eif_build 0.3.1 ignores it
  --arch A                   x86_64 (default) or aarch64 (sets header flag bit 0)
  --metadata FILE            custom metadata JSON file (at most 4096 bytes), stored re-serialised
                             compact with sorted keys as eif_build does
  --signing-certificate PEM  sign PCR0 with this certificate ...
  --private-key PEM          ... and this EC private key (P-256, P-384 or P-521); adds PCR8
  --json                     print one JSON object (path, size, CRC, sections, PCRs)
  --help                     show this help

Without --json, prints "Output file: FILE" and the measurements as eif_build does.
`;

const usage = (message: string) => usageError('build-eif', message);

/** Run `build-eif`. @example await run(['--kernel', 'bzImage', '--cmdline', 'x', '--ramdisk', 'r', '--output', 'o.eif'], ctx) */
export const run: Command = async (argv, ctx) => {
  const wantsJson = argv.includes('--json');
  try {
    const parse = () =>
      parseFlags(
        {
          args: argv,
          options: {
            kernel: { type: 'string' },
            cmdline: { type: 'string' },
            ramdisk: { type: 'string', multiple: true },
            output: { type: 'string' },
            'build-time': { type: 'string' },
            name: { type: 'string' },
            version: { type: 'string' },
            arch: { type: 'string' },
            metadata: { type: 'string' },
            'signing-certificate': { type: 'string' },
            'private-key': { type: 'string' },
            json: { type: 'boolean' },
            help: { type: 'boolean', short: 'h' },
          },
        },
        usage,
      );
    const { values } = parse();
    if (values.help) {
      ctx.stdout.write(HELP);
      return EXIT.VERIFIED;
    }
    const missing = (['kernel', 'cmdline', 'output'] as const).filter((k) => values[k] === undefined);
    if (!values.ramdisk?.length) missing.push('ramdisk' as never);
    if (missing.length) throw usage(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
    const arch = values.arch ?? 'x86_64';
    if (arch !== 'x86_64' && arch !== 'aarch64') throw usage(`--arch must be x86_64 or aarch64, not ${arch}`);
    const path = (p: string) => resolve(ctx.cwd, p);
    const cert = values['signing-certificate'];
    if (cert !== undefined) await readSigningCertificate(path(cert), cert);
    const written = await writeEifFile({
      kernel: path(values.kernel!),
      cmdline: values.cmdline!,
      ramdisks: (values.ramdisk ?? []).map(path),
      output: path(values.output!),
      arch,
      ...(values['build-time'] !== undefined ? { buildTime: values['build-time'] } : {}),
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(values.metadata !== undefined ? { metadata: path(values.metadata) } : {}),
      ...(values['signing-certificate'] !== undefined
        ? { signingCertificate: path(values['signing-certificate']) }
        : {}),
      ...(values['private-key'] !== undefined ? { privateKey: path(values['private-key']) } : {}),
    });
    if (wantsJson) {
      const pcrs = Object.fromEntries(
        Object.entries(measurementsRecord(written.pcrs)).filter(([k]) => k !== 'HashAlgorithm'),
      );
      ctx.stdout.write(
        `${JSON.stringify({ ok: true, path: written.path, size: written.size, crc32: written.crc32.toString(16).padStart(8, '0'), sections: written.sections, pcrs })}\n`,
      );
    } else
      ctx.stdout.write(`Output file: ${printable(values.output ?? '')}\n${formatNitroCli(written.pcrs)}`);
    return EXIT.VERIFIED;
  } catch (e) {
    return reportError(ctx, e, wantsJson);
  }
};
