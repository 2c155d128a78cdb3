// The outcome of a call as a string, so a table of cases can assert exact error codes: 'accepted',
// or the EnclaveVerifyError code. Any other error is rethrown: a library bug must fail the test.
import { isEnclaveVerifyError } from '../../src/errors.js';

/** 'accepted' when `f` returns, else the code of the EnclaveVerifyError it throws. */
export function codeOf(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    if (isEnclaveVerifyError(e)) return e.code;
    throw e;
  }
}

/** 'accepted' when `p` resolves, else the code of the EnclaveVerifyError it rejects with. */
export async function codeOfAsync(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    if (isEnclaveVerifyError(e)) return e.code;
    throw e;
  }
}
