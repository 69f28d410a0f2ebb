/**
 * The shared verifier against real servers on 127.0.0.1: Debian's docker-registry
 * (distribution 2.8: no Referrers API, so signatures are found through the `sha256-<hex>` tag
 * schema) and the AWS Signer stand-in answering GetRevocationStatus over HTTP, reached through
 * `AWS_ENDPOINT_URL_SIGNER` exactly as a deployed function reaches a configured endpoint.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DistributionRegistry } from '../../../shared/oci/distribution-registry';
import { parseReference } from '../../../shared/oci/reference';
import type { Descriptor } from '../../../shared/oci/types';
import { verifyImageReference } from '../../../shared/notary/verify-image-reference';
import type { VerifyImageReferenceOptions } from '../../../shared/notary/verify-image-reference';
import { AwsSignerRevocationChecker } from '../../../shared/signer/aws-signer-revocation-checker';
import { describeWithDockerRegistry } from '../../helpers/docker-registry';
import { signerError, startSignerStandIn } from '../../helpers/signer-stand-in';
import type { SignerStandIn } from '../../helpers/signer-stand-in';
import {
  AWS_FIXTURE,
  awsEnvelope,
  fixturePolicy,
  fixtureTrustStores,
  MemoryRegistry,
  NOW,
  pushImage,
  pushSignature,
  tamper,
  verifyWithFixtures,
} from '../../unit/functions/verify-image/signed-images';

describeWithDockerRegistry('verifyImageReference against a real docker-registry (tag schema)', (docker) => {
  const registry = new DistributionRegistry({ plainHttp: true });
  let name: string;
  let image: Descriptor;

  beforeEach(async () => {
    name = `${docker().host}/app${Math.random().toString(36).slice(2, 8)}`;
    image = await pushImage(registry, parseReference(`${name}:v1`), { tag: 'v1', seed: name });
  });

  const verify = (reference: string) => verifyWithFixtures(registry, reference);

  it('verifies a signed image found through the referrers tag schema', async () => {
    const sig = await pushSignature(registry, parseReference(`${name}:v1`), image, awsEnvelope(image));
    const result = await verify(`${name}@${image.digest}`);
    expect(result.outcome).toBe('verified');
    expect(result.message).toBe(`Successfully verified signature for ${name}@${image.digest}`);
    expect(result.signatureDigest).toBe(sig.digest);
  });

  it("fails an unsigned image with notation's no-signature message", async () => {
    const result = await verify(`${name}@${image.digest}`);
    expect(result.message).toBe(
      `signature verification failed: no signature is associated with "${name}@${image.digest}", make sure the artifact was signed successfully`,
    );
  });

  it('resolves a tag, warns about it, and verifies the digest behind it', async () => {
    await pushSignature(registry, parseReference(`${name}:v1`), image, awsEnvelope(image));
    const result = await verify(`${name}:v1`);
    expect(result.outcome).toBe('verified');
    expect(result.digestReference).toBe(`${name}@${image.digest}`);
    expect(result.tagWarning).toContain('rather than a tag(:v1)');
  });

  it('passes on the second signature when the first one was tampered with (legacy shape included)', async () => {
    const repo = parseReference(`${name}:v1`);
    const bad = await pushSignature(registry, repo, image, tamper(awsEnvelope(image)), { shape: 'legacy' });
    const good = await pushSignature(
      registry,
      repo,
      image,
      awsEnvelope(image, { jobArn: `${AWS_FIXTURE.jobArn}9` }),
    );
    const result = await verify(`${name}@${image.digest}`);
    expect(result.outcome).toBe('verified');
    expect(result.signatureDigest).toBe(good.digest);
    expect(result.failures.map((f) => f.signatureDigest)).toEqual([bad.digest]);
  });
});

describe('revocation through the AWS Signer stand-in over HTTP', () => {
  const FAKE_ENV: Record<string, string> = {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    AWS_CONFIG_FILE: '/nonexistent/stagesign-test-aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/stagesign-test-aws-credentials',
  };
  const CLEARED = [
    'AWS_PROFILE',
    'AWS_ENDPOINT_URL',
    'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
    'AWS_SESSION_TOKEN',
  ];
  const saved: Record<string, string | undefined> = {};
  let standIn: SignerStandIn;
  const registry = new MemoryRegistry();
  const repo = parseReference('111122223333.dkr.ecr.us-west-2.amazonaws.com/app:v1');
  let image: Descriptor;

  beforeAll(async () => {
    standIn = await startSignerStandIn();
    for (const key of [...Object.keys(FAKE_ENV), ...CLEARED, 'AWS_ENDPOINT_URL_SIGNER'])
      saved[key] = process.env[key];
    for (const key of CLEARED) delete process.env[key];
    Object.assign(process.env, FAKE_ENV, { AWS_ENDPOINT_URL_SIGNER: standIn.endpoint });
    image = await pushImage(registry, repo, { tag: 'v1' });
    await pushSignature(registry, repo, image, awsEnvelope(image));
  });

  afterAll(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await standIn.close();
  });

  const verify = (overrides: Partial<VerifyImageReferenceOptions> = {}) =>
    verifyImageReference({
      registry,
      reference: `111122223333.dkr.ecr.us-west-2.amazonaws.com/app@${image.digest}`,
      policyDocument: fixturePolicy(),
      trustStores: fixtureTrustStores(),
      // Built after the endpoint variable is set, as a Lambda container builds it at cold start.
      revocationChecker: new AwsSignerRevocationChecker({ retry: { maxAttempts: 1 } }),
      now: NOW,
      ...overrides,
    });

  it('asks GetRevocationStatus with the composite certificate hashes and passes when nothing is revoked', async () => {
    standIn.onGetRevocationStatus(() => ({ revokedEntities: [] }));
    const before = standIn.revocationRequests().length;
    const result = await verify();
    expect(result.outcome).toBe('verified');
    const requests = standIn.revocationRequests().slice(before);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      jobArn: AWS_FIXTURE.jobArn,
      profileVersionArn: AWS_FIXTURE.profileVersionArn,
      platformId: 'Notation-OCI-SHA384-ECDSA',
    });
    expect(requests[0]!.certificateHashes).toHaveLength(4);
    for (const hash of requests[0]!.certificateHashes) expect(hash).toMatch(/^[0-9a-f]{192}$/);
  });

  it("fails a revoked signature at strict with the plugin's reason", async () => {
    standIn.onGetRevocationStatus(() => ({ revokedEntities: [AWS_FIXTURE.jobArn] }));
    const result = await verify();
    expect(result.code).toBe('ALL_SIGNATURES_FAILED');
    expect(result.failures[0]!.lines[0]).toContain(
      `revocation check by verification plugin "com.amazonaws.signer.notation.plugin" failed with reason "Resource(s) ${AWS_FIXTURE.jobArn} have been revoked."`,
    );
  });

  it('passes a revoked signature at permissive with a logged-failure warning', async () => {
    standIn.onGetRevocationStatus(() => ({ revokedEntities: [AWS_FIXTURE.jobArn] }));
    const result = await verify({ policyDocument: fixturePolicy({ level: 'permissive' }) });
    expect(result.outcome).toBe('verified');
    expect(result.warnings[0]).toMatch(
      /^Warning: revocation was set to "log" and failed with error: revocation check by verification plugin/,
    );
  });

  it('fails closed at strict when GetRevocationStatus is denied', async () => {
    standIn.onGetRevocationStatus(() =>
      signerError('AccessDeniedException', 'not authorized to perform signer:GetRevocationStatus'),
    );
    const result = await verify();
    expect(result.outcome).toBe('failed');
    expect(result.failures[0]!.lines.join('\n')).toContain('GetRevocationStatus');
  });
});
