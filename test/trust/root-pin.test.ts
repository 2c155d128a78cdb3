import { expect, test, vi } from 'vitest';
import { isEnclaveVerifyError } from '../../src/errors.js';

// Replace the embedded root with another certificate: the pin check must refuse it.
vi.mock('../../src/trust/aws-root.js', async () => {
  const { createTestPki } = await import('../../src/forge/pki.js');
  const pki = await createTestPki();
  return {
    AWS_NITRO_ROOT_G1_PEM: pki.rootPem,
    AWS_NITRO_ROOT_G1_SHA256: '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b',
  };
});

test('a tampered embedded root fails its SHA-256 pin with ERR_ROOT_PIN_MISMATCH', async () => {
  const { awsNitroRoot } = await import('../../src/trust/roots.js');
  let code = '';
  try {
    await awsNitroRoot();
  } catch (e) {
    if (isEnclaveVerifyError(e)) code = e.code;
  }
  expect(code).toBe('ERR_ROOT_PIN_MISMATCH');
});
