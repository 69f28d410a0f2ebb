import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, DependencyError, PermissionError } from '../../../shared/errors';
import { SsmParameterReader } from '../../../shared/aws/ssm-parameter-reader';

const ssm = mockClient(SSMClient);

describe('SsmParameterReader', () => {
  let now = 0;
  beforeEach(() => {
    ssm.reset();
    now = 0;
  });
  afterAll(() => ssm.restore());

  const reader = () =>
    new SsmParameterReader(new SSMClient({ region: 'us-east-1' }), { ttlMs: 60_000, now: () => now });

  it('asks for the decrypted value and reuses it until the cache expires', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '{"version":"1.0"}' } });
    const r = reader();
    expect(await r.read('/stagesign/policy')).toBe('{"version":"1.0"}');
    now = 59_999;
    await r.read('/stagesign/policy');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    expect(ssm.commandCalls(GetParameterCommand)[0]!.args[0].input).toEqual({
      Name: '/stagesign/policy',
      WithDecryption: true,
    });
    now = 60_000;
    await r.read('/stagesign/policy');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it.each([
    { name: 'ParameterNotFound', type: ConfigurationError, says: /does not exist/ },
    {
      name: 'AccessDeniedException',
      type: PermissionError,
      says: /allow ssm:GetParameter on this parameter/,
    },
    {
      name: 'ThrottlingException',
      type: DependencyError,
      says: /SSM GetParameter \/p failed: ThrottlingException/,
    },
  ])('maps $name to a $type.name', async ({ name, type, says }) => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('boom'), { name }));
    const error = await reader()
      .read('/p')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(says);
  });

  it('refuses an empty parameter', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: ' ' } });
    await expect(reader().read('/p')).rejects.toThrow(/has no value/);
  });
});
