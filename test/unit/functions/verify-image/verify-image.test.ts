import { beforeEach, describe, expect, it } from 'vitest';
import { abortedError } from '../../../../shared/abort';
import { PermissionError } from '../../../../shared/errors';
import type { RevocationChecker } from '../../../../shared/notary/types';
import { parseReference } from '../../../../shared/oci/reference';
import type { Reference } from '../../../../shared/oci/reference';
import type { Descriptor } from '../../../../shared/oci/types';
import { RecordingReporter, runPipelineAction } from '../../../../shared/pipeline';
import type { ArtifactStore, JobReport } from '../../../../shared/pipeline';
import { createLogger } from '../../../../shared/log';
import { TrustStoreSet, trustStoreFromPem } from '../../../../shared/notary/trust-store';
import { parseTrustPolicy } from '../../../../shared/notary/trust-policy';
import { parseVerifyImageEnvironment, SIGNED_IMAGES_FORM } from '../../../../functions/verify-image/params';
import { readVerifiedImages, writeSignedImages } from '../../../../shared/pipeline/handoff';
import type { SignedImage } from '../../../../shared/pipeline/handoff';

/** How a deploy stage reads VERIFIED_IMAGES: through the same module verify writes it with. */
const where = {
  field: 'UserParameters.verifiedImages',
  form: '{"verifiedImages": #{VerifyVariables.VERIFIED_IMAGES}}',
  code: 'DEPLOY_PARAMETERS_INVALID',
};
import { verifyImageAction } from '../../../../functions/verify-image/verify-image';
import type { VerifyImageDeps } from '../../../../functions/verify-image/verify-image';
import type { ParameterReader } from '../../../../functions/verify-image/trust-policy-source';
import { fakeContext, jobEvent } from '../../../helpers/codepipeline-events';
import {
  AWS_FIXTURE,
  awsEnvelope,
  fixturePolicy,
  fixtureRootPem,
  MemoryRegistry,
  NOW,
  pushImage,
  pushSignature,
  RecordingRevocationChecker,
  tamper,
} from './signed-images';

const NAME = '111122223333.dkr.ecr.us-west-2.amazonaws.com/app';
const REPO: Reference = parseReference(`${NAME}:latest`);
const WORKER = '111122223333.dkr.ecr.us-west-2.amazonaws.com/worker';
const WORKER_REPO: Reference = parseReference(`${WORKER}:latest`);
const ARTIFACT = {
  name: 'BuildOutput',
  revision: null,
  location: { type: 'S3', s3Location: { bucketName: 'bucket', objectKey: 'key' } },
};

/**
 * The fixture root in place of the built-in AWS Signer root (injected as a dependency, which
 * configuration cannot do), so the default policy trusts fixture signatures.
 */
const FIXTURE_AS_BUILT_IN = () =>
  new TrustStoreSet([trustStoreFromPem('signingAuthority', 'aws-signer-ts', fixtureRootPem())]);
/** The fixture root under the name the fixture policy uses. */
const FIXTURE_STORES = JSON.stringify({ 'signingAuthority:test-signer-ts': fixtureRootPem() });
/** A policy in the environment plus the fixture trust store: the common configuration. */
const policyEnv = (policy = fixturePolicy()) => ({
  TRUST_POLICY: JSON.stringify(policy),
  TRUST_STORES: FIXTURE_STORES,
});

class FakeParameters implements ParameterReader {
  readonly reads: string[] = [];
  constructor(private readonly values: Record<string, string>) {}
  read(name: string): Promise<string> {
    this.reads.push(name);
    const value = this.values[name];
    return value === undefined ? Promise.reject(new Error(`no parameter ${name}`)) : Promise.resolve(value);
  }
}

function artifactStore(files: Record<string, string>): ArtifactStore & { reads: number } {
  const store = {
    reads: 0,
    read() {
      store.reads++;
      return Promise.resolve(
        new Map(Object.entries(files).map(([k, v]) => [k, new TextEncoder().encode(v)])),
      );
    },
    write() {
      return Promise.reject(new Error('verify-image writes no artifacts'));
    },
  };
  return store;
}

describe('the verify-image stage', () => {
  let registry: MemoryRegistry;
  let app: Descriptor;
  let worker: Descriptor;
  let revocation: RecordingRevocationChecker;
  let parameters: FakeParameters;

  beforeEach(async () => {
    registry = new MemoryRegistry();
    revocation = new RecordingRevocationChecker();
    parameters = new FakeParameters({});
    app = await pushImage(registry, REPO, { tag: 'v1' });
    worker = await pushImage(registry, WORKER_REPO, { seed: 'worker', tag: 'v1' });
  });

  async function run(
    userParameters: Record<string, unknown> | undefined,
    env: Record<string, string> = policyEnv(),
    options: {
      artifacts?: ArtifactStore;
      inputArtifacts?: unknown[];
      deps?: Partial<VerifyImageDeps>;
      /** UserParameters text exactly as CodePipeline sends it (instead of `userParameters`). */
      rawUserParameters?: string;
    } = {},
  ): Promise<JobReport> {
    const deps: VerifyImageDeps = {
      registry,
      revocation,
      parameters,
      environment: parseVerifyImageEnvironment(env),
      ...options.deps,
    };
    const reporter = new RecordingReporter();
    const text =
      options.rawUserParameters ??
      (userParameters === undefined ? undefined : JSON.stringify(userParameters));
    const event = jobEvent(text, {
      inputArtifacts: options.inputArtifacts ?? [],
    });
    const result = await runPipelineAction(event, fakeContext(), verifyImageAction(deps), {
      reporter,
      clock: () => NOW,
      logger: createLogger('verify-image'),
      ...(options.artifacts ? { artifacts: options.artifacts } : {}),
    });
    expect(result.delivered).toBe(true);
    expect(reporter.reports).toHaveLength(1);
    return reporter.reports[0]!;
  }

  /** What CodePipeline is sent, plus the stable code the wrapper keeps for logs and tests. */
  const failure = (report: JobReport) => {
    if (report.kind !== 'failure') throw new Error(`expected a failure, got ${JSON.stringify(report)}`);
    return { ...report.failureDetails, code: report.code };
  };
  /** The message begins with `text` exactly (notation's wording, no code in front of it). */
  const expectStartsWith = (message: string, text: string) =>
    expect(message.slice(0, text.length)).toBe(text);
  const success = (report: JobReport) => {
    if (report.kind !== 'success') throw new Error(`expected a success, got ${JSON.stringify(report)}`);
    return report;
  };

  describe('when every image has a valid signature', () => {
    it('reports the success line and the verified digest as output variables', async () => {
      const sig = await pushSignature(registry, REPO, app, awsEnvelope(app));
      const report = success(await run({ image: `${NAME}@${app.digest}` }));
      expect(report.executionDetails?.summary).toBe(
        `Successfully verified signature for ${NAME}@${app.digest}`,
      );
      expect(report.outputVariables?.IMAGE_URI).toBe(`${NAME}@${app.digest}`);
      expect(report.outputVariables?.IMAGE_DIGEST).toBe(app.digest);
      expect(report.outputVariables?.VERIFIED).toBe('true');
      expect(JSON.parse(report.outputVariables!.VERIFIED_IMAGES!)).toEqual([
        {
          image: `${NAME}@${app.digest}`,
          imageUri: `${NAME}@${app.digest}`,
          digest: app.digest,
          signatureDigest: sig.digest,
          signingProfileVersionArn: AWS_FIXTURE.profileVersionArn,
          signingTime: AWS_FIXTURE.signingTime,
        },
      ]);
    });

    it('verifies several images, warns about tags, and sets no single-image variables', async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      await pushSignature(registry, WORKER_REPO, worker, awsEnvelope(worker));
      const report = success(await run({ images: [`${NAME}@${app.digest}`, `${WORKER}:v1`] }));
      expect(report.executionDetails?.summary?.split('\n')).toEqual([
        `Successfully verified signature for ${NAME}@${app.digest}`,
        'Warning: Always verify the artifact using digest(@sha256:...) rather than a tag(:v1) because resolved digest may not point to the same signed artifact, as tags are mutable.',
        `Successfully verified signature for ${WORKER}@${worker.digest}`,
      ]);
      expect(report.outputVariables?.IMAGE_URI).toBeUndefined();
      const verified = JSON.parse(report.outputVariables!.VERIFIED_IMAGES!) as Array<{
        image: string;
        imageUri: string;
      }>;
      expect(verified.map((v) => [v.image, v.imageUri])).toEqual([
        [`${NAME}@${app.digest}`, `${NAME}@${app.digest}`],
        [`${WORKER}:v1`, `${WORKER}@${worker.digest}`],
      ]);
    });

    it("takes the images from the sign stage's SIGNED_IMAGES, substituted unquoted as documented", async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      // What CodePipeline sends for {"signedImages": #{SignVariables.SIGNED_IMAGES}}.
      const variable = JSON.stringify([
        { source: `${NAME}:v1`, imageUri: `${NAME}@${app.digest}`, digest: app.digest },
      ]);
      const rawUserParameters = SIGNED_IMAGES_FORM.replace('#{SignVariables.SIGNED_IMAGES}', variable);
      const report = success(await run(undefined, undefined, { rawUserParameters }));
      expect(report.outputVariables?.IMAGE_URI).toBe(`${NAME}@${app.digest}`);
      expect(report.executionDetails?.summary).not.toContain('Warning');
    });

    it('takes the images from imagedefinitions.json in the input artifact', async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      const artifacts = artifactStore({
        'imagedefinitions.json': JSON.stringify([{ name: 'web', imageUri: `${NAME}@${app.digest}` }]),
      });
      const report = success(await run(undefined, undefined, { artifacts, inputArtifacts: [ARTIFACT] }));
      expect(report.outputVariables?.IMAGE_DIGEST).toBe(app.digest);
    });

    it('keeps the container name of imagedefinitions.json in VERIFIED_IMAGES', async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      const artifacts = artifactStore({
        'imagedefinitions.json': JSON.stringify([{ name: 'web', imageUri: `${NAME}@${app.digest}` }]),
      });
      const report = success(await run(undefined, undefined, { artifacts, inputArtifacts: [ARTIFACT] }));
      expect(readVerifiedImages(JSON.parse(report.outputVariables!.VERIFIED_IMAGES!), where)).toEqual([
        expect.objectContaining({ name: 'web', imageUri: `${NAME}@${app.digest}`, digest: app.digest }),
      ]);
    });

    it('verifies an image two containers share once, and lists it under both names', async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      const artifacts = artifactStore({
        'imagedefinitions.json': JSON.stringify([
          { name: 'web', imageUri: `${NAME}@${app.digest}` },
          { name: 'worker', imageUri: `${NAME}@${app.digest}` },
        ]),
      });
      const report = success(await run(undefined, undefined, { artifacts, inputArtifacts: [ARTIFACT] }));
      expect(report.executionDetails?.summary?.split('\n')).toEqual([
        `Successfully verified signature for ${NAME}@${app.digest}`,
      ]);
      expect(report.outputVariables?.IMAGE_URI).toBe(`${NAME}@${app.digest}`);
      expect(
        readVerifiedImages(JSON.parse(report.outputVariables!.VERIFIED_IMAGES!), where).map((e) => [
          e.name,
          e.imageUri,
        ]),
      ).toEqual([
        ['web', `${NAME}@${app.digest}`],
        ['worker', `${NAME}@${app.digest}`],
      ]);
    });

    it("keeps the container name the sign stage's SIGNED_IMAGES carries", async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      const signed: SignedImage[] = [
        {
          name: 'web',
          source: `${NAME}:v1`,
          imageUri: `${NAME}@${app.digest}`,
          digest: app.digest,
          signatureDigest: app.digest,
          reused: false,
          signedAt: '2026-01-15T09:59:00Z',
        },
      ];
      const rawUserParameters = SIGNED_IMAGES_FORM.replace(
        '#{SignVariables.SIGNED_IMAGES}',
        writeSignedImages(signed),
      );
      const report = success(await run(undefined, undefined, { rawUserParameters }));
      expect(readVerifiedImages(JSON.parse(report.outputVariables!.VERIFIED_IMAGES!), where)).toEqual([
        expect.objectContaining({ name: 'web', imageUri: `${NAME}@${app.digest}` }),
      ]);
    });

    it('passes an expired signature at permissive and shows the logged failure as a warning', async () => {
      await pushSignature(
        registry,
        REPO,
        app,
        awsEnvelope(app, { expiry: new Date('2025-12-01T00:00:00Z') }),
      );
      const report = success(
        await run({ image: `${NAME}@${app.digest}` }, policyEnv(fixturePolicy({ level: 'permissive' }))),
      );
      expect(report.executionDetails?.summary?.split('\n')).toEqual([
        'Warning: expiry was set to "log" and failed with error: digital signature has expired on "Mon, 01 Dec 2025 00:00:00 +0000"',
        `Successfully verified signature for ${NAME}@${app.digest}`,
      ]);
    });
  });

  describe('when an image fails verification', () => {
    it("fails the job with notation's no-signature message first and the images that passed last", async () => {
      await pushSignature(registry, WORKER_REPO, worker, awsEnvelope(worker));
      const details = failure(await run({ images: [`${NAME}@${app.digest}`, `${WORKER}@${worker.digest}`] }));
      expect(details.type).toBe('JobFailed');
      expect(details.code).toBe('NO_SIGNATURE');
      const notation = `signature verification failed: no signature is associated with "${NAME}@${app.digest}", make sure the artifact was signed successfully`;
      expectStartsWith(details.message, notation);
      expect(details.message.split('\n')).toEqual([
        notation,
        '',
        `Successfully verified signature for ${WORKER}@${worker.digest}`,
      ]);
    });

    it("gives the all-signatures message followed by each signature's reasons", async () => {
      const bad = await pushSignature(registry, REPO, app, tamper(awsEnvelope(app)));
      const details = failure(await run({ image: `${NAME}@${app.digest}` }));
      expect(details.code).toBe('ALL_SIGNATURES_FAILED');
      // The user reads notation's message first, exactly; the stable code travels separately.
      const notation = `signature verification failed for all the signatures associated with ${NAME}@${app.digest}`;
      expectStartsWith(details.message, `${notation}\n`);
      const lines = details.message.split('\n');
      expect(lines[0]).toBe(notation);
      expect(lines[2]).toBe(`${NAME}@${app.digest}:`);
      expect(lines[3]).toMatch(
        new RegExp(`^  Signature ${bad.digest} failed verification with error: signature is invalid`),
      );
      expect(lines.some((l) => l.startsWith('  integrity validation failed. Failure reason: '))).toBe(true);
    });

    it("puts every failed image's verdict before any detail, within 5000 characters", async () => {
      const images: string[] = [];
      for (let i = 0; i < 12; i++) {
        const repo = parseReference(`${NAME}${i}:latest`);
        const desc = await pushImage(registry, repo, { seed: `s${i}` });
        for (let j = 0; j < 6; j++)
          await pushSignature(
            registry,
            repo,
            desc,
            tamper(awsEnvelope(desc, { jobArn: `${AWS_FIXTURE.jobArn}${j}` })),
          );
        images.push(`${NAME}${i}@${desc.digest}`);
      }
      const details = failure(await run({ images }));
      expect(details.message.length).toBeLessThanOrEqual(5000);
      expect(details.code).toBe('ALL_SIGNATURES_FAILED');
      const verdicts = images.map(
        (image) => `signature verification failed for all the signatures associated with ${image}`,
      );
      expectStartsWith(details.message, verdicts.join('\n'));
      const lines = details.message.split('\n');
      expect(lines.slice(0, 12)).toEqual(verdicts);
    });

    it('reports a PermissionError when the registry denies access', async () => {
      const denying = new MemoryRegistry();
      denying.resolve = () =>
        Promise.reject(new PermissionError('REGISTRY_DENIED', 'registry denied ecr:BatchGetImage on app'));
      const details = failure(
        await run({ image: `${NAME}@${app.digest}` }, undefined, { deps: { registry: denying } }),
      );
      expect(details.type).toBe('PermissionError');
      expect(details.code).toBe('REGISTRY_DENIED');
      expect(details.message).toBe('signature verification failed: registry denied ecr:BatchGetImage on app');
    });
  });

  describe('trust policy sources', () => {
    const untrusting = JSON.stringify(
      fixturePolicy({ identities: ['arn:aws:signer:us-west-2:111122223333:/signing-profiles/nobody'] }),
    );

    it('prefers trustPolicyPath in the input artifact over TRUST_POLICY when it only tightens it', async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      // The deployment trusts any identity; the artifact narrows that to one that signed nothing.
      const artifacts = artifactStore({ 'notation/trustpolicy.json': untrusting });
      const details = failure(
        await run(
          { image: `${NAME}@${app.digest}`, trustPolicyPath: 'notation/trustpolicy.json' },
          {
            TRUST_POLICY: JSON.stringify(fixturePolicy({ identities: ['*'] })),
            TRUST_STORES: FIXTURE_STORES,
          },
          { artifacts, inputArtifacts: [ARTIFACT] },
        ),
      );
      expect(details.code).toBe('ALL_SIGNATURES_FAILED');
    });

    // issue 9 item 1: an artifact policy may only tighten the deployment's own policy.
    describe('a policy in the input artifact that would relax the deployment policy', () => {
      const stranger = 'arn:aws:signer:us-west-2:999999999999:/signing-profiles/stranger';
      const relaxed = async (artifactPolicy: object, deployment: Record<string, string>) =>
        failure(
          await run(
            { image: `${NAME}@${app.digest}`, trustPolicyPath: 'trustpolicy.json' },
            { TRUST_STORES: FIXTURE_STORES, ...deployment },
            {
              artifacts: artifactStore({ 'trustpolicy.json': JSON.stringify(artifactPolicy) }),
              inputArtifacts: [ARTIFACT],
            },
          ),
        );

      it.each([
        {
          attack: '(a) override revocation "skip" to pass a revoked signature',
          artifact: fixturePolicy({ revocation: 'skip' }),
          says: 'does not enforce revocation (level "strict" with override {revocation: "skip"}), which the deployment\'s statement enforces (level "strict")',
        },
        {
          attack: '(b) level "permissive" to pass expired or revoked signatures',
          artifact: fixturePolicy({ level: 'permissive' }),
          says: 'does not enforce authenticTimestamp, expiry, revocation (level "permissive")',
        },
        {
          attack: "(c) trust any AWS account's signing profile",
          artifact: fixturePolicy({ identities: [stranger] }),
          says: `trusts identity "${stranger}", which the deployment's statement does not`,
        },
        {
          attack: '(c) trust any identity',
          artifact: fixturePolicy({ identities: ['*'] }),
          says: 'trusts identity "*", which the deployment\'s statement does not',
        },
        {
          attack: 'trust another trust store',
          artifact: fixturePolicy({
            trustStores: [AWS_FIXTURE.trustStore, 'signingAuthority:aws-signer-ts'],
          }),
          says: 'trusts trust store "signingAuthority:aws-signer-ts"',
        },
      ])('refuses $attack with TRUST_POLICY_RELAXED naming the statement', async ({ artifact, says }) => {
        await pushSignature(registry, REPO, app, awsEnvelope(app));
        const details = await relaxed(artifact, { TRUST_POLICY: JSON.stringify(fixturePolicy()) });
        expect(details.type).toBe('ConfigurationError');
        expect(details.code).toBe('TRUST_POLICY_RELAXED');
        expect(details.message).toContain(
          'The trust policy file trustpolicy.json of input artifact BuildOutput: trust policy statement "fixture" ',
        );
        expect(details.message).toContain(says);
        expect(details.message).toContain('compared with statement "fixture" of TRUST_POLICY');
      });

      it("compares with the default policy (SIGNING_PROFILE_ARN) too: a stranger's profile is refused", async () => {
        const details = await relaxed(
          fixturePolicy({ identities: [stranger], trustStores: ['signingAuthority:aws-signer-ts'] }),
          { SIGNING_PROFILE_ARN: AWS_FIXTURE.profileArn },
        );
        expect(details.code).toBe('TRUST_POLICY_RELAXED');
        expect(details.message).toContain(`trusts identity "${stranger}"`);
        expect(details.message).toContain('statement "stagesign-default" of the default policy');
      });

      it('compares per scope: a * statement is held to every deployment statement it may stand in for', async () => {
        const deployment = parseTrustPolicy({
          version: '1.0',
          trustPolicies: [
            { ...fixturePolicy().trustPolicies[0]!, name: 'app', registryScopes: [NAME] },
            { name: 'rest', registryScopes: ['*'], signatureVerification: { level: 'skip' } },
          ],
        });
        const details = await relaxed(fixturePolicy({ level: 'permissive' }), {
          TRUST_POLICY: JSON.stringify(deployment),
        });
        expect(details.code).toBe('TRUST_POLICY_RELAXED');
        expect(details.message).toContain('compared with statement "app" of TRUST_POLICY');
      });

      it('refuses a statement for an image the deployment policy has no statement for', async () => {
        const details = await relaxed(fixturePolicy(), {
          TRUST_POLICY: JSON.stringify(fixturePolicy({ scopes: [`${NAME}-other`] })),
        });
        expect(details.code).toBe('TRUST_POLICY_RELAXED');
        expect(details.message).toContain(
          `covers ${NAME}@${app.digest}, for which the deployment's policy has no statement`,
        );
      });

      it('accepts an equal or stricter policy and verifies with it', async () => {
        await pushSignature(registry, REPO, app, awsEnvelope(app));
        const stricter = parseTrustPolicy({
          version: '1.0',
          trustPolicies: [{ ...fixturePolicy().trustPolicies[0]!, name: 'app-only', registryScopes: [NAME] }],
        });
        for (const artifact of [fixturePolicy(), stricter]) {
          const report = await run(
            { image: `${NAME}@${app.digest}`, trustPolicyPath: 'trustpolicy.json' },
            {
              TRUST_STORES: FIXTURE_STORES,
              TRUST_POLICY: JSON.stringify(fixturePolicy({ revocation: 'log' })),
            },
            {
              artifacts: artifactStore({ 'trustpolicy.json': JSON.stringify(artifact) }),
              inputArtifacts: [ARTIFACT],
            },
          );
          expect(report.kind).toBe('success');
        }
      });
    });

    it('names the file, statement and field of an invalid policy in the artifact', async () => {
      const policy = {
        version: '1.0',
        trustPolicies: [
          {
            name: 'bad',
            registryScopes: ['*'],
            signatureVerification: { level: 'strictest' },
            trustStores: [AWS_FIXTURE.trustStore],
            trustedIdentities: ['*'],
          },
        ],
      };
      const artifacts = artifactStore({ 'trustpolicy.json': JSON.stringify(policy) });
      const details = failure(
        await run(
          { image: `${NAME}@${app.digest}`, trustPolicyPath: 'trustpolicy.json' },
          {},
          { artifacts, inputArtifacts: [ARTIFACT] },
        ),
      );
      expect(details.type).toBe('ConfigurationError');
      expect(details.message).toContain(
        'trust policy file trustpolicy.json of input artifact BuildOutput is invalid',
      );
      expect(details.message).toContain('"bad"');
      expect(details.message).toContain('strictest');
    });

    it('reports an invalid TRUST_POLICY on every job as a ConfigurationError instead of crashing', async () => {
      const env = { TRUST_POLICY: '{"version":"1.0","trustPolicies":[{"name":"x"}]}' };
      for (let i = 0; i < 2; i++) {
        const details = failure(await run({ image: `${NAME}@${app.digest}` }, env));
        expect(details.type).toBe('ConfigurationError');
        expect(details.code).toBe('VERIFY_ENVIRONMENT_INVALID');
        expect(details.message).toMatch(/^TRUST_POLICY is invalid: .*"x"/);
      }
    });

    it('reads the policy from the SSM parameter when TRUST_POLICY is not set', async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      parameters = new FakeParameters({ '/stagesign/policy': JSON.stringify(fixturePolicy()) });
      const report = await run(
        { image: `${NAME}@${app.digest}` },
        { TRUST_POLICY_PARAMETER: '/stagesign/policy', TRUST_STORES: FIXTURE_STORES },
      );
      expect(report.kind).toBe('success');
      expect(parameters.reads).toEqual(['/stagesign/policy']);
    });

    it("defaults to trusting the stack signing profile for the images' repositories at strict", async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      const env = { SIGNING_PROFILE_ARN: AWS_FIXTURE.profileArn };
      const deps = { builtInTrustStores: FIXTURE_AS_BUILT_IN() };
      expect((await run({ image: `${NAME}@${app.digest}` }, env, { deps })).kind).toBe('success');
      const other = {
        ...env,
        SIGNING_PROFILE_ARN: 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/other_profile',
      };
      const details = failure(await run({ image: `${NAME}@${app.digest}` }, other, { deps }));
      expect(details.message).toContain("Signature publisher doesn't match any trusted identities.");
    });

    it('adds trust stores from the SSM parameter next to the built-in roots', async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      parameters = new FakeParameters({
        '/stagesign/stores': JSON.stringify({ 'signingAuthority:test-signer-ts': fixtureRootPem() }),
      });
      const report = await run(
        { image: `${NAME}@${app.digest}` },
        { TRUST_POLICY: JSON.stringify(fixturePolicy()), TRUST_STORES_PARAMETER: '/stagesign/stores' },
      );
      expect(report.kind).toBe('success');
    });

    describe('extra trust stores go next to the built-in AWS Signer roots, never in their place', () => {
      const asAwsRoot = JSON.stringify({ 'signingAuthority:aws-signer-ts': fixtureRootPem() });

      it('refuses a TRUST_STORES store named like a built-in root, so the default policy cannot be redirected', async () => {
        await pushSignature(registry, REPO, app, awsEnvelope(app));
        const details = failure(
          await run(
            { image: `${NAME}@${app.digest}` },
            { SIGNING_PROFILE_ARN: AWS_FIXTURE.profileArn, TRUST_STORES: asAwsRoot },
          ),
        );
        expect(details.type).toBe('ConfigurationError');
        expect(details.message).toMatch(
          /^TRUST_STORES is invalid: TRUST_STORES key "signingAuthority:aws-signer-ts" is the name of a built-in AWS Signer root.*Choose another name/,
        );
      });

      it('refuses such a store from the SSM parameter too', async () => {
        await pushSignature(registry, REPO, app, awsEnvelope(app));
        parameters = new FakeParameters({ '/stagesign/stores': asAwsRoot });
        const details = failure(
          await run(
            { image: `${NAME}@${app.digest}` },
            { SIGNING_PROFILE_ARN: AWS_FIXTURE.profileArn, TRUST_STORES_PARAMETER: '/stagesign/stores' },
          ),
        );
        expect(details.type).toBe('ConfigurationError');
        expect(details.code).toBe('TRUST_STORE_RESERVED');
        expect(details.message).toContain(
          'SSM parameter /stagesign/stores (TRUST_STORES_PARAMETER) key "signingAuthority:aws-signer-ts" is the name of a built-in AWS Signer root',
        );
      });
    });

    describe('a policy in the input artifact that would not enforce authenticity', () => {
      const skipping = (signatureVerification: Record<string, unknown>) =>
        JSON.stringify({
          version: '1.0',
          trustPolicies: [
            {
              name: 'lenient',
              registryScopes: ['*'],
              signatureVerification,
              ...(signatureVerification.level === 'skip'
                ? {}
                : { trustStores: [AWS_FIXTURE.trustStore], trustedIdentities: ['*'] }),
            },
          ],
        });

      it.each([
        { sv: { level: 'skip' }, says: 'sets level "skip"' },
        { sv: { level: 'audit' }, says: 'sets level "audit"' },
        {
          sv: { level: 'strict', override: { authenticity: 'log' } },
          says: 'overrides "authenticity" to "log"',
        },
      ])('refuses $sv unless the function opts in', async ({ sv, says }) => {
        const artifacts = artifactStore({ 'trustpolicy.json': skipping(sv) });
        const details = failure(
          await run(
            { image: `${NAME}@${app.digest}`, trustPolicyPath: 'trustpolicy.json' },
            { TRUST_STORES: FIXTURE_STORES },
            { artifacts, inputArtifacts: [ARTIFACT] },
          ),
        );
        expect(details.type).toBe('ConfigurationError');
        expect(details.code).toBe('TRUST_POLICY_SKIP_REFUSED');
        expect(details.message).toContain(
          `The trust policy file trustpolicy.json of input artifact BuildOutput: trust policy statement "lenient" ${says}`,
        );
        expect(details.message).toContain('ALLOW_ARTIFACT_TRUST_POLICY_SKIP=true');
      });

      it('is used when ALLOW_ARTIFACT_TRUST_POLICY_SKIP=true, and VERIFIED is false', async () => {
        const artifacts = artifactStore({ 'trustpolicy.json': skipping({ level: 'skip' }) });
        const report = success(
          await run(
            { image: `${NAME}@${app.digest}`, trustPolicyPath: 'trustpolicy.json' },
            { ALLOW_ARTIFACT_TRUST_POLICY_SKIP: 'true' },
            { artifacts, inputArtifacts: [ARTIFACT] },
          ),
        );
        expect(report.outputVariables?.VERIFIED).toBe('false');
      });
    });

    describe('a skip level from the deployment (TRUST_POLICY)', () => {
      it("keeps notation's success but says, and outputs VERIFIED=false, that nothing was verified", async () => {
        await pushSignature(registry, WORKER_REPO, worker, awsEnvelope(worker));
        const policy = {
          version: '1.0',
          trustPolicies: [
            { name: 'skip-app', registryScopes: [NAME], signatureVerification: { level: 'skip' } },
            {
              name: 'worker',
              registryScopes: [WORKER],
              signatureVerification: { level: 'strict' },
              trustStores: [AWS_FIXTURE.trustStore],
              trustedIdentities: [AWS_FIXTURE.profileArn],
            },
          ],
        };
        const report = success(
          await run(
            { images: [`${NAME}@${app.digest}`, `${WORKER}@${worker.digest}`] },
            { TRUST_POLICY: JSON.stringify(policy), TRUST_STORES: FIXTURE_STORES },
          ),
        );
        expect(report.executionDetails?.summary?.split('\n')).toEqual([
          `Trust policy is configured to skip signature verification for ${NAME}@${app.digest}`,
          `Successfully verified signature for ${WORKER}@${worker.digest}`,
          `Not verified: the trust policy skips signature verification for ${NAME}@${app.digest}; VERIFIED is false.`,
        ]);
        expect(report.outputVariables?.VERIFIED).toBe('false');
        const verified = JSON.parse(report.outputVariables!.VERIFIED_IMAGES!) as Array<{ skipped?: true }>;
        expect(verified.map((v) => v.skipped)).toEqual([true, undefined]);
      });

      it('still sets IMAGE_URI for a single skipped image, with VERIFIED=false beside it', async () => {
        const report = success(
          await run(
            { image: `${NAME}@${app.digest}` },
            { TRUST_POLICY: JSON.stringify(fixturePolicy({ level: 'skip' })) },
          ),
        );
        expect(report.outputVariables).toMatchObject({
          IMAGE_URI: `${NAME}@${app.digest}`,
          VERIFIED: 'false',
        });
      });
    });

    it('asks for configuration when there is no policy and no signing profile', async () => {
      const details = failure(await run({ image: `${NAME}@${app.digest}` }, {}));
      expect(details.type).toBe('ConfigurationError');
      expect(details.message).toContain('No trust policy is configured');
    });
  });

  it('verifies at most VERIFY_CONCURRENCY images at the same time', async () => {
    const images: string[] = [];
    for (let i = 0; i < 6; i++) {
      const repo = parseReference(`${NAME}-${i}:latest`);
      const desc = await pushImage(registry, repo, { seed: `c${i}` });
      await pushSignature(registry, repo, desc, awsEnvelope(desc));
      images.push(`${NAME}-${i}@${desc.digest}`);
    }
    let inFlight = 0;
    let maxInFlight = 0;
    const resolve = registry.resolve.bind(registry);
    registry.resolve = async (ref) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return resolve(ref);
    };
    const report = await run({ images }, { ...policyEnv(), VERIFY_CONCURRENCY: '2' });
    expect(report.kind).toBe('success');
    expect(maxInFlight).toBe(2);
  });
  describe('when the deadline comes while a revocation check hangs', () => {
    it('reports the timeout, aborts the check and makes no registry call afterwards', async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      let observeAbort!: (reason: unknown) => void;
      const abortSeen = new Promise<unknown>((resolve) => (observeAbort = resolve));
      const hanging: RevocationChecker = {
        // Never answers; ends only when the caller's signal aborts.
        getRevocationStatus: (_query, options) =>
          new Promise((_, reject) => {
            options?.signal?.addEventListener('abort', () => {
              observeAbort(options.signal?.reason);
              reject(abortedError('GetRevocationStatus', options.signal));
            });
          }),
      };
      const reporter = new RecordingReporter();
      const result = await runPipelineAction(
        jobEvent(JSON.stringify({ image: `${NAME}@${app.digest}` })),
        fakeContext(300),
        verifyImageAction({
          registry,
          revocation: hanging,
          parameters,
          environment: parseVerifyImageEnvironment(policyEnv()),
        }),
        { reporter, clock: () => NOW, deadlineMarginMs: 0, logger: createLogger('verify-image') },
      );
      expect(result.report).toMatchObject({
        kind: 'failure',
        code: 'STAGE_TIMED_OUT',
        failureDetails: {
          type: 'SystemUnavailable',
          message: expect.stringContaining('timed out while verifying'),
        },
      });
      const callsAtReport = { ...registry.calls };
      expect(await abortSeen).toBeInstanceOf(Error);
      // Let the aborted verification unwind completely before counting.
      await new Promise((resolve) => setImmediate(resolve));
      expect(registry.calls).toEqual(callsAtReport);
    });
  });
});
