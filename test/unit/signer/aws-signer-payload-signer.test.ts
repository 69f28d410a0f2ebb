import { GetRevocationStatusCommand, SignerClient, SignPayloadCommand } from '@aws-sdk/client-signer';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, DependencyError } from '../../../shared/errors';
import { AwsSignerPayloadSigner } from '../../../shared/signer/aws-signer-payload-signer';
import { AwsSignerRevocationChecker } from '../../../shared/signer/aws-signer-revocation-checker';

const PROFILE_ARN = 'arn:aws-us-gov:signer:us-gov-east-1:111122223333:/signing-profiles/gov_profile';
const signerMock = mockClient(SignerClient);

afterEach(() => {
  signerMock.reset();
});

function recordingFactory() {
  const regions: string[] = [];
  const client = new SignerClient({ region: 'us-east-1' });
  return {
    regions,
    factory: (region: string) => {
      regions.push(region);
      return client;
    },
  };
}

describe('AwsSignerPayloadSigner', () => {
  it('rejects a profile-version ARN when constructed', () => {
    expect(() => new AwsSignerPayloadSigner({ profileArn: `${PROFILE_ARN}/Version1` })).toThrow(
      ConfigurationError,
    );
  });

  it('signs in the region of the signing profile with the Notary payload format', async () => {
    signerMock
      .on(SignPayloadCommand)
      .resolves({ jobId: 'j', signature: new Uint8Array([1, 2, 3]), metadata: {} });
    const { regions, factory } = recordingFactory();
    const payload = new TextEncoder().encode('{"targetArtifact":{}}');

    await new AwsSignerPayloadSigner({ profileArn: PROFILE_ARN, clientForRegion: factory }).sign(payload);

    expect(regions).toEqual(['us-gov-east-1']);
    expect(signerMock.commandCalls(SignPayloadCommand)[0]!.args[0].input).toEqual({
      profileName: 'gov_profile',
      profileOwner: '111122223333',
      payload,
      payloadFormat: 'application/vnd.cncf.notary.payload.v1+json',
    });
  });

  it('returns empty annotations when Signer sends no metadata', async () => {
    signerMock.on(SignPayloadCommand).resolves({ jobId: 'j', signature: new Uint8Array([1]) });
    const { factory } = recordingFactory();

    const signed = await new AwsSignerPayloadSigner({
      profileArn: PROFILE_ARN,
      clientForRegion: factory,
    }).sign(new Uint8Array([1]));

    expect(signed.annotations).toEqual({});
  });

  it('fails closed with a DependencyError when Signer returns no signature', async () => {
    signerMock.on(SignPayloadCommand).resolves({ jobId: 'j', signature: new Uint8Array() });
    const { factory } = recordingFactory();

    await expect(
      new AwsSignerPayloadSigner({ profileArn: PROFILE_ARN, clientForRegion: factory }).sign(
        new Uint8Array([1]),
      ),
    ).rejects.toThrow(DependencyError);
  });
});

describe('AwsSignerRevocationChecker', () => {
  it('asks the region of the query with every field of the query', async () => {
    signerMock.on(GetRevocationStatusCommand).resolves({ revokedEntities: ['arn:aws:signer:x'] });
    const { regions, factory } = recordingFactory();
    const query = {
      certificateHashes: ['a'.repeat(192)],
      jobArn: 'arn:aws:signer:ap-south-1:111122223333:/signing-jobs/j',
      profileVersionArn: 'arn:aws:signer:ap-south-1:111122223333:/signing-profiles/p/v',
      platformId: 'Notation-OCI-SHA384-ECDSA' as const,
      signatureTimestamp: new Date('2024-05-01T10:00:00Z'),
      region: 'ap-south-1',
    };

    const result = await new AwsSignerRevocationChecker({ clientForRegion: factory }).getRevocationStatus(
      query,
    );

    expect(result).toEqual({ revokedEntities: ['arn:aws:signer:x'] });
    expect(regions).toEqual(['ap-south-1']);
    expect(signerMock.commandCalls(GetRevocationStatusCommand)[0]!.args[0].input).toEqual({
      certificateHashes: query.certificateHashes,
      jobArn: query.jobArn,
      profileVersionArn: query.profileVersionArn,
      platformId: 'Notation-OCI-SHA384-ECDSA',
      signatureTimestamp: query.signatureTimestamp,
    });
  });
});
