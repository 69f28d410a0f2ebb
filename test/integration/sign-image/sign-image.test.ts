/**
 * End to end: the sign-image stage (through the pipeline wrapper and a recording CodePipeline
 * stand-in) against the real Debian docker-registry (distribution 2.8: tag-schema referrers) and
 * the AWS Signer stand-in reached by the real SignerClient through AWS_ENDPOINT_URL_SIGNER, which
 * answers with AWS-shaped envelopes from the test signing authority. The signature is then found
 * and verified with the verifier, as `notation verify` would.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { signImageAction } from '../../../functions/sign-image/sign-image';
import { parseSignImageEnvironment } from '../../../functions/sign-image/params';
import type { SignImageDeps } from '../../../functions/sign-image/sign-image';
import { NOTARY_PAYLOAD_MEDIA_TYPE } from '../../../shared/notary/payload';
import { verifyImageReference } from '../../../shared/notary/verify-image-reference';
import { DistributionRegistry } from '../../../shared/oci/distribution-registry';
import { parseReference } from '../../../shared/oci/reference';
import { MediaType } from '../../../shared/oci/types';
import type { Descriptor } from '../../../shared/oci/types';
import { runPipelineAction } from '../../../shared/pipeline/action';
import { RecordingReporter } from '../../../shared/pipeline/recording-reporter';
import type { JobReport } from '../../../shared/pipeline/reporter';
import { AwsSignerPayloadSigner } from '../../../shared/signer/aws-signer-payload-signer';
import { AwsSignerRevocationChecker } from '../../../shared/signer/aws-signer-revocation-checker';
import { fakeContext, jobEvent } from '../../helpers/codepipeline-events';
import { describeWithDockerRegistry } from '../../helpers/docker-registry';
import { awsShapedSigning, startSignerStandIn } from '../../helpers/signer-stand-in';
import type { SignerStandIn } from '../../helpers/signer-stand-in';
import { loadTestSigningAuthority } from '../../helpers/test-signing-authority';
import { PROFILE_ARN, pushTestImage, testTrustStores } from './support';

const ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  AWS_CONFIG_FILE: '/nonexistent/stagesign-test-aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/stagesign-test-aws-credentials',
};

describeWithDockerRegistry(
  'sign-image end to end on docker-registry with the Signer stand-in',
  (registryInstance) => {
    let standIn: SignerStandIn;
    let saved: Record<string, string | undefined>;
    const requests: string[] = [];
    let registry: DistributionRegistry;
    let deps: SignImageDeps;

    beforeAll(async () => {
      standIn = await startSignerStandIn();
      const { chain, leafKey } = loadTestSigningAuthority();
      standIn.onSignPayload(awsShapedSigning({ privateKey: leafKey, certificateChain: chain }));
      saved = Object.fromEntries(
        [...Object.keys(ENV), 'AWS_ENDPOINT_URL_SIGNER', 'AWS_PROFILE', 'AWS_ENDPOINT_URL'].map((k) => [
          k,
          process.env[k],
        ]),
      );
      delete process.env.AWS_PROFILE;
      delete process.env.AWS_ENDPOINT_URL;
      Object.assign(process.env, ENV, { AWS_ENDPOINT_URL_SIGNER: standIn.endpoint });
      const counting: typeof fetch = async (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        requests.push(
          `${init?.method ?? 'GET'} ${url.pathname.replace(/sha256[:-][0-9a-f]{64}/g, '<digest>')}`,
        );
        return fetch(input, init);
      };
      registry = new DistributionRegistry({ plainHttp: true, fetch: counting });
      const signer = new AwsSignerPayloadSigner({ profileArn: PROFILE_ARN });
      deps = {
        registry,
        signerFor: () => signer,
        trustStores: testTrustStores(),
        environment: parseSignImageEnvironment({ SIGNING_PROFILE_ARN: PROFILE_ARN }),
      };
    });
    afterAll(async () => {
      await standIn?.close();
      for (const [k, v] of Object.entries(saved ?? {})) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    beforeEach(() => {
      standIn.requests.length = 0;
    });

    async function runStage(userParameters: Record<string, unknown>): Promise<JobReport> {
      const reporter = new RecordingReporter();
      requests.length = 0;
      await runPipelineAction(
        jobEvent(JSON.stringify(userParameters)),
        fakeContext(),
        signImageAction(deps),
        {
          reporter,
        },
      );
      expect(reporter.reports).toHaveLength(1);
      return reporter.reports[0]!;
    }

    async function verify(reference: string) {
      return verifyImageReference({
        registry,
        reference,
        policyDocument: {
          version: '1.0',
          trustPolicies: [
            {
              name: 'signed-by-the-stage',
              registryScopes: ['*'],
              signatureVerification: { level: 'strict' },
              trustStores: ['signingAuthority:test-signer-ts'],
              trustedIdentities: [PROFILE_ARN],
            },
          ],
        },
        trustStores: testTrustStores(),
        revocationChecker: new AwsSignerRevocationChecker(),
        now: new Date(),
      });
    }

    let image: Descriptor;

    it('signs the image digest through SignPayload and the signature verifies like notation verify', async () => {
      const ref = parseReference(`${registryInstance().host}/demo/app:v1`);
      image = await pushTestImage(registry, ref, 'v1');
      const report = await runStage({ image: `${registryInstance().host}/demo/app:v1` });
      const signingRequests = [...requests];

      expect(report.kind).toBe('success');
      if (report.kind !== 'success') return;
      const pinned = `${registryInstance().host}/demo/app@${image.digest}`;
      expect(report.executionDetails?.summary).toBe(`Successfully signed ${pinned}`);

      const [call, ...more] = standIn.signPayloadRequests();
      expect(more).toEqual([]);
      expect(call).toMatchObject({
        profileName: 'stagesign_test',
        profileOwner: '111122223333',
        payloadFormat: NOTARY_PAYLOAD_MEDIA_TYPE,
      });
      expect(call!.raw.signingRegion).toBe('us-west-2');
      expect(new TextDecoder().decode(call!.payload)).toBe(
        `{"targetArtifact":{"mediaType":"${MediaType.ImageManifest}","digest":"${image.digest}","size":${image.size}}}`,
      );
      expect(report.executionDetails?.externalExecutionId).toBe(
        report.outputVariables?.SIGNING_JOB_ARN?.split('/').at(-1),
      );

      const verdict = await verify(pinned);
      expect(verdict).toMatchObject({
        outcome: 'verified',
        message: `Successfully verified signature for ${pinned}`,
        signatureDigest: report.outputVariables?.SIGNATURE_DIGEST,
        signingJobArn: report.outputVariables?.SIGNING_JOB_ARN,
      });
      // docker-registry 2.8 has no Referrers API: the signature is indexed under the sha256-<hex> tag.
      expect(signingRequests).toContain('PUT /v2/demo/app/manifests/<digest>');
      console.log(
        `sign one image on docker-registry: ${signingRequests.length} registry requests\n  ${signingRequests.join('\n  ')}`,
      );
      expect(signingRequests).toHaveLength(10);
    });

    it('re-running is idempotent: no SignPayload call and still one signature', async () => {
      const report = await runStage({ image: `${registryInstance().host}/demo/app:v1` });
      expect(report.kind).toBe('success');
      expect(standIn.signPayloadRequests()).toHaveLength(0);
      console.log(
        `idempotent re-run on docker-registry: ${requests.length} registry requests\n  ${requests.join('\n  ')}`,
      );
      const ref = parseReference(`${registryInstance().host}/demo/app:v1`);
      expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(1);
    });

    it('forceResign adds a second signature', async () => {
      const report = await runStage({ image: `${registryInstance().host}/demo/app:v1`, forceResign: true });
      expect(report.kind).toBe('success');
      expect(standIn.signPayloadRequests()).toHaveLength(1);
      const ref = parseReference(`${registryInstance().host}/demo/app:v1`);
      expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(2);
    });

    it('with one bad reference among several, signs the good one and fails listing every outcome', async () => {
      const host = registryInstance().host;
      const other = await pushTestImage(registry, parseReference(`${host}/demo/other:1`), '1', 'other');
      const report = await runStage({ images: [`${host}/demo/other:1`, `${host}/demo/absent:1`] });
      expect(report.kind === 'failure' && report.failureDetails.type).toBe('JobFailed');
      expect(report.kind === 'failure' && report.code).toBe('IMAGE_NOT_FOUND');
      const message = report.kind === 'failure' ? report.failureDetails.message : '';
      expect(message).toMatch(/^Signing failed for 1 of 2 images; the others are signed:\n/);
      expect(message).toContain(
        `- ${host}/demo/other:1 (UserParameters.images[0]): signed ${host}/demo/other@${other.digest}`,
      );
      expect(message).toMatch(
        /- .*\/demo\/absent:1 \(UserParameters.images\[1\]\): failed: image .*\/demo\/absent:1 was not found/,
      );
      expect((await verify(`${host}/demo/other@${other.digest}`)).outcome).toBe('verified');
    });

    it('maps Signer AccessDeniedException over the wire to PermissionError', async () => {
      const { signerError } = await import('../../helpers/signer-stand-in');
      standIn.onSignPayload(() =>
        signerError('AccessDeniedException', 'User is not authorized to perform: signer:SignPayload'),
      );
      try {
        const report = await runStage({ image: `${registryInstance().host}/demo/app:v1`, forceResign: true });
        expect(report.kind === 'failure' && report.code).toBe('SIGNER_ACCESS_DENIED');
        expect(report.kind === 'failure' && report.failureDetails).toMatchObject({
          type: 'PermissionError',
          message: expect.stringContaining('signer:SignPayload'),
        });
      } finally {
        const { chain, leafKey } = loadTestSigningAuthority();
        standIn.onSignPayload(awsShapedSigning({ privateKey: leafKey, certificateChain: chain }));
      }
    });
  },
);
