// The official EIF vectors (eif_build outputs with their inputs and expected measurements), as
// listed in vectors/real/eif/official/expected.json (copied from the public vectors, see PROVENANCE.md).
import { readFileSync } from 'node:fs';

export const OFFICIAL = new URL('../../vectors/real/eif/official/', import.meta.url);

/** One entry of expected.json. */
export interface OfficialCase {
  case: string;
  command: string;
  cmdline: string;
  kernel: string;
  ramdisks: string[];
  eif: string;
  eif_size: number;
  eif_sha256: string;
  crc32: string;
  pcrs: Record<string, string>;
}

export const OFFICIAL_CASES = JSON.parse(
  readFileSync(new URL('expected.json', OFFICIAL), 'utf8'),
) as OfficialCase[];
