/** Shared test data of the canary tests: the public vectors as the project carries them. */
import { readFileSync } from 'node:fs';

export const CANARY_VECTORS = new URL('../../vectors/real/canary/', import.meta.url);

export function vectorText(name: string): string {
  return readFileSync(new URL(name, CANARY_VECTORS), 'utf8');
}

export interface StatementVector {
  master_seed: string;
  ml_dsa_randomizer: string;
  signed_message: string;
  verification_time: string;
  keys: unknown;
  statement: unknown;
}

export const statementVector = (): StatementVector => JSON.parse(vectorText('statement-v0-vector.json'));

/** Expected PCRs of the evidence vector (CANARY vectors' PROVENANCE: from evidence.rs tests). */
export const EVIDENCE_PCRS = {
  0: 'ef093e4c1fd13878956589833c0e396b935cdf5ae45c1cc595e1a19a6da5812850f0ef3e77df918cb2a86d88ddf9cc03',
  1: 'ef093e4c1fd13878956589833c0e396b935cdf5ae45c1cc595e1a19a6da5812850f0ef3e77df918cb2a86d88ddf9cc03',
  2: '21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a',
};
export const CONFIG_DIGEST = 'sha256:06ebfb6a52579818605147972497a192c5f893d86a1c92c10be6fa4cdc69fde2';
export const KEYSET_DIGEST = 'sha256:ff344d8a5b80300d6451bceb0c87232a58d3bbdc953801a85dc5b3980bd01b74';
