import { beforeEach, describe, expect, it } from 'vitest';
import { PermissionError } from '../../../../shared/errors';
import { parseReference } from '../../../../shared/oci/reference';
import type { Reference } from '../../../../shared/oci/reference';
import type { Descriptor } from '../../../../shared/oci/types';
import { RecordingReporter, runPipelineAction } from '../../../../shared/pipeline';
import type { ArtifactStore, JobReport } from '../../../../shared/pipeline';
import { createLogger } from '../../../../shared/log';
import { parseVerifyImageEnvironment } from '../../../../functions/verify-image/params';
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

/** The fixture root under the built-in AWS store name, so the default policy trusts fixture signatures. */
const FIXTURE_AS_AWS_ROOT = JSON.stringify({ 'signingAuthority:aws-signer-ts': fixtureRootPem() });
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
    options: { artifacts?: ArtifactStore; inputArtifacts?: unknown[]; deps?: Partial<VerifyImageDeps> } = {},
  ): Promise<JobReport> {
    const deps: VerifyImageDeps = {
      registryFor: () => registry,
      revocationChecker: revocation,
      parameters,
      environment: parseVerifyImageEnvironment(env),
      ...options.deps,
    };
    const reporter = new RecordingReporter();
    const event = jobEvent(userParameters === undefined ? undefined : JSON.stringify(userParameters), {
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

    it("takes the images from the sign stage's signedImages variable", async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      const signedImages = JSON.stringify([{ image: `${NAME}:v1`, digest: app.digest }]);
      const report = success(await run({ signedImages }));
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
        await run({ image: `${NAME}@${app.digest}` }, undefined, { deps: { registryFor: () => denying } }),
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

    it('prefers trustPolicyPath in the input artifact over TRUST_POLICY', async () => {
      await pushSignature(registry, REPO, app, awsEnvelope(app));
      const artifacts = artifactStore({ 'notation/trustpolicy.json': JSON.stringify(fixturePolicy()) });
      const report = await run(
        { image: `${NAME}@${app.digest}`, trustPolicyPath: 'notation/trustpolicy.json' },
        { TRUST_POLICY: untrusting, TRUST_STORES: FIXTURE_STORES },
        { artifacts, inputArtifacts: [ARTIFACT] },
      );
      expect(report.kind).toBe('success');
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
      const env = { SIGNING_PROFILE_ARN: AWS_FIXTURE.profileArn, TRUST_STORES: FIXTURE_AS_AWS_ROOT };
      expect((await run({ image: `${NAME}@${app.digest}` }, env)).kind).toBe('success');
      const other = {
        ...env,
        SIGNING_PROFILE_ARN: 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/other_profile',
      };
      const details = failure(await run({ image: `${NAME}@${app.digest}` }, other));
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
});
