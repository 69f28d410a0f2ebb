/**
 * verify-image builds its SSM client only when TRUST_POLICY_PARAMETER or TRUST_STORES_PARAMETER
 * is set (handler.ts); otherwise it holds NO_PARAMETERS, which nothing may call. The handler
 * suites run with neither set, so any read of a parameter there would fail with this error.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../../shared/errors';
import { NO_PARAMETERS } from '../../../../functions/verify-image/trust-policy-source';

describe('NO_PARAMETERS', () => {
  it('refuses every read with a configuration error naming the variables to set', async () => {
    const read = NO_PARAMETERS.read('/stagesign/trust-policy');
    await expect(read).rejects.toBeInstanceOf(ConfigurationError);
    await expect(read).rejects.toMatchObject({
      code: 'SSM_PARAMETER_NOT_CONFIGURED',
      message:
        'SSM parameter /stagesign/trust-policy was asked for, but neither TRUST_POLICY_PARAMETER nor TRUST_STORES_PARAMETER is set. Set the one that names it.',
    });
  });
});
