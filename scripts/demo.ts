/**
 * `npm run demo`: the pipeline's sign and verify stages on your machine, no AWS account needed.
 *
 * 1. builds a small sample image into an OCI image layout in a scratch folder (`.stagesign-demo/`,
 *    or `STAGESIGN_DEMO_DIR`); creates (or reuses) a local ECDSA P-384 root CA and signing
 *    certificate; writes a notation-style trust policy and trust store;
 * 2. runs the **same** sign-image and verify-image stage code as the Lambda functions, on
 *    CodePipeline job events, through `runPipelineAction` and the local CodePipeline stand-in
 *    (`RecordingReporter`), with the OCI layout store in place of ECR and the local-key signer in
 *    place of AWS Signer — and prints what each stage reported;
 * 3. shows two rejections: an unsigned image, and a tampered one (a copy of the signature whose
 *    payload was rewritten to name altered content);
 * 4. runs `stagesign verify` on the signed image to show the command gives the stage's verdict.
 *
 * Exit status 0 when every step behaved as expected (signed, verified, both rejected), 1 otherwise.
 * `--verbose` also prints the stages' JSON logs.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { run as runCli } from '../cli/main';
import { ConfigurationError, DependencyError } from '../shared/errors';
import type { RevocationChecker } from '../shared/notary/types';
import { formatReference, parseReference } from '../shared/oci/reference';
import type { Reference } from '../shared/oci/reference';
import { MediaType } from '../shared/oci/types';
import type { Descriptor } from '../shared/oci/types';
import { runPipelineAction } from '../shared/pipeline/action';
import type { ActionSpec } from '../shared/pipeline/action';
import { RecordingReporter } from '../shared/pipeline/recording-reporter';
import type { JobReport } from '../shared/pipeline/reporter';
import { LocalKeySigner } from '../shared/signer/local-key-signer';
import { signImageAction } from '../functions/sign-image/sign-image';
import { parseSignImageEnvironment } from '../functions/sign-image/params';
import { parseVerifyImageEnvironment } from '../functions/verify-image/params';
import type { VerifyImageParams } from '../functions/verify-image/params';
import { verifyImageAction } from '../functions/verify-image/verify-image';
import { demoContext, demoJobEvent } from './demo-events';
import { buildSampleImage, pushSampleImage } from './demo-image';
import { LayoutDirectoryRegistry } from './demo-layout-registry';
import { forgeSignatureCopy } from './demo-tamper';
import { DEMO_SIGNER_SUBJECT, loadOrCreateDemoPki } from './demo-pki';

/** The demo's repository: an ordinary registry reference, stored as an OCI image layout on disk. */
export const DEMO_REPOSITORY = 'demo.stagesign.local/sample/app';
/**
 * The sign stage needs a signing profile ARN (it names the profile in its messages); in the demo
 * the local key signs instead, so this ARN is never sent anywhere.
 */
export const DEMO_PROFILE_ARN = `arn:aws:signer:us-east-1:000000000000:/signing-profiles/stagesign_demo`;

export interface DemoOptions {
  /** The scratch folder (keys are kept and reused; images, signatures and configuration are rewritten). */
  dir: string;
  /** Where the demo's lines go. */
  print(line: string): void;
  /** Also print the stages' JSON logs. */
  verbose?: boolean;
}

/** One step of the demo and whether it behaved as expected. */
export interface DemoStep {
  title: string;
  expected: 'success' | 'failure';
  ok: boolean;
  report: JobReport | undefined;
}

export interface DemoResult {
  ok: boolean;
  steps: DemoStep[];
  /** The signed image, digest-pinned. */
  signedImage?: string;
}

/** Runs the demo (see the module comment). Never throws for a misbehaving stage: the result says so. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { dir, print } = options;
  // Paths are shown relative to the working directory when inside it (the usual `npm run demo`).
  const rel = (p: string) => {
    const relative = path.relative(process.cwd(), p);
    return relative === '' ? '.' : relative.startsWith('..') ? p : relative;
  };
  const registryRoot = path.join(dir, 'registry');
  const configDir = path.join(dir, 'notation');
  // Images, signatures and configuration are rebuilt on each run (the key pair is reused).
  await rm(registryRoot, { recursive: true, force: true });
  await rm(configDir, { recursive: true, force: true });

  const now = new Date();
  const pki = await loadOrCreateDemoPki(path.join(dir, 'keys'), now);
  const registry = new LayoutDirectoryRegistry(registryRoot);
  const repository = parseReference(DEMO_REPOSITORY);
  const signed = await pushSampleImage(
    registry,
    repository,
    buildSampleImage('hello from the stagesign demo\n'),
    'v1',
  );
  const unsigned = await pushSampleImage(
    registry,
    repository,
    buildSampleImage('an image nobody signed\n'),
    'unsigned',
  );
  const policy = await writeNotationConfig(configDir, pki.rootPem);

  print("stagesign demo: the pipeline's sign and verify stages on your machine (no AWS account needed)");
  print(
    `  keys      ${rel(path.join(dir, 'keys'))}/ (ECDSA P-384 root CA and signing certificate, ${pki.created ? 'created' : 'reused'})`,
  );
  print(`  registry  ${rel(registryRoot)}/ (an OCI image layout per repository, standing in for Amazon ECR)`);
  print(`  images    ${DEMO_REPOSITORY}:v1 = ${signed.digest}, ${DEMO_REPOSITORY}:unsigned`);
  print(
    `  trust     ${rel(configDir)}/trustpolicy.oci.json and truststore/x509/ca/demo/ (notation's layout)`,
  );
  print('');

  const logger = new Logger({ serviceName: 'stagesign-demo', logLevel: options.verbose ? 'INFO' : 'SILENT' });
  const reporter = new RecordingReporter();
  const signer = new LocalKeySigner({
    privateKeyPem: pki.leafKeyPem,
    certificateChainPem: pki.chainPem,
    signingAgent: 'stagesign-demo',
  });
  const signSpec = signImageAction({
    registry,
    signerFor: () => signer,
    environment: parseSignImageEnvironment({ SIGNING_PROFILE_ARN: DEMO_PROFILE_ARN }),
  });
  const verifySpec = verifyImageSpec(registry, policy, pki.rootPem);

  const steps: DemoStep[] = [];
  const step = async <P>(
    title: string,
    spec: ActionSpec<P>,
    params: Record<string, unknown>,
    expected: DemoStep['expected'],
    expect: RegExp,
  ): Promise<JobReport | undefined> => {
    print(`${steps.length + 1}. ${title}`);
    const { report } = await runPipelineAction(
      demoJobEvent(`stagesign-${spec.stage}`, params),
      demoContext(spec.stage),
      spec,
      { reporter, logger },
    );
    const text = report === undefined ? '(nothing was reported)' : describeReport(report);
    const ok =
      report !== undefined &&
      (expected === 'success' ? report.kind === 'success' : report.kind === 'failure') &&
      expect.test(text);
    steps.push({ title, expected, ok, report });
    const [first, ...rest] = text.split('\n');
    print(`   ${ok ? '✔' : '✘'} ${first}`);
    for (const line of rest) print(line.trim() === '' ? '' : `       ${line}`);
    if (!ok) print(`   ✘ expected ${expected === 'success' ? 'a success' : 'a failure'} matching ${expect}`);
    print('');
    return report;
  };

  const signReport = await step(
    'sign-image stage signs demo.stagesign.local/sample/app:v1 (by digest; the local key stands in for AWS Signer)',
    signSpec,
    { image: `${DEMO_REPOSITORY}:v1` },
    'success',
    /Successfully signed /,
  );
  const signedImage = signReport?.kind === 'success' ? signReport.outputVariables?.['IMAGE_URI'] : undefined;
  const signatureDigest =
    signReport?.kind === 'success' ? signReport.outputVariables?.['SIGNATURE_DIGEST'] : undefined;

  await step(
    'verify-image stage verifies the signed image against the trust policy',
    verifySpec,
    { image: signedImage ?? `${DEMO_REPOSITORY}@${signed.digest}` },
    'success',
    /Successfully verified signature for /,
  );
  await step(
    'verify-image stage rejects an image that was never signed',
    verifySpec,
    { image: formatReference({ ...repository, digest: unsigned.digest }) },
    'failure',
    /signature verification failed: no signature is associated with/,
  );
  const tampered = await pushTamperedImage(registry, repository, signed, signatureDigest);
  await step(
    'verify-image stage rejects a tampered image (altered content carrying a copy of the signature, its payload rewritten)',
    verifySpec,
    { image: formatReference({ ...repository, digest: tampered.digest }) },
    'failure',
    /signature verification failed for all the signatures associated with/,
  );

  const layoutDir = registry.layoutDirectory(repository);
  const cliArgs = [
    'verify',
    '--oci-layout',
    `${rel(layoutDir)}@${signed.digest}`,
    '--scope',
    DEMO_REPOSITORY,
    '--config-dir',
    rel(configDir),
  ];
  print(`${steps.length + 1}. the same verifier on your laptop: npx stagesign ${cliArgs.join(' ')}`);
  const cli = await captureCli(cliArgs);
  const cliOk =
    cli.status === 0 && cli.out.some((line) => line.startsWith('Successfully verified signature for '));
  for (const line of [...cli.out, ...cli.err]) print(`   ${cliOk ? '✔' : '✘'} ${line}`);
  print('');
  steps.push({ title: 'stagesign verify agrees', expected: 'success', ok: cliOk, report: undefined });

  const ok = steps.every((s) => s.ok);
  print(
    ok
      ? `All ${steps.length} steps behaved as expected: signed, verified, and both bad images rejected.`
      : `${steps.filter((s) => !s.ok).length} of ${steps.length} steps did not behave as expected.`,
  );
  return { ok, steps, ...(signedImage !== undefined ? { signedImage } : {}) };
}

/** The trust policy and trust store, written in notation's configuration layout. Returns the policy JSON. */
async function writeNotationConfig(configDir: string, rootPem: string): Promise<string> {
  const policy = JSON.stringify(
    {
      version: '1.0',
      trustPolicies: [
        {
          name: 'stagesign-demo',
          registryScopes: [DEMO_REPOSITORY],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:demo'],
          trustedIdentities: [`x509.subject:${DEMO_SIGNER_SUBJECT}`],
        },
      ],
    },
    null,
    2,
  );
  const storeDir = path.join(configDir, 'truststore', 'x509', 'ca', 'demo');
  await mkdir(storeDir, { recursive: true });
  await writeFile(path.join(storeDir, 'demo-root.pem'), rootPem);
  await writeFile(path.join(configDir, 'trustpolicy.oci.json'), `${policy}\n`);
  return policy;
}

/**
 * The verify-image stage exactly as its handler builds it (`verifyImageAction`), wired with
 * the demo's registry, its trust policy (`TRUST_POLICY`) and trust store (`TRUST_STORES`).
 * Nothing here reaches AWS: no SSM parameter is configured, and the demo's signatures are
 * `notary.x509` ones, for which AWS Signer's revocation service is never asked.
 */
function verifyImageSpec(
  registry: LayoutDirectoryRegistry,
  policyJson: string,
  rootPem: string,
): ActionSpec<VerifyImageParams> {
  const environment = parseVerifyImageEnvironment({
    TRUST_POLICY: policyJson,
    TRUST_STORES: JSON.stringify({ 'ca:demo': rootPem }),
  });
  const revocation: RevocationChecker = {
    getRevocationStatus: () =>
      Promise.reject(
        new DependencyError('DEMO_NO_AWS', 'the demo has no AWS Signer to ask about revocation'),
      ),
  };
  return verifyImageAction({
    registry,
    revocation,
    parameters: {
      read: (name: string) =>
        Promise.reject(new ConfigurationError('DEMO_NO_SSM', `the demo has no SSM parameter ${name}`)),
    },
    environment,
  });
}

/**
 * The attack the verifier must catch: altered image content is pushed, and a copy of the genuine
 * signature is forged onto it ({@link forgeSignatureCopy}). Returns the altered image's descriptor.
 */
async function pushTamperedImage(
  registry: LayoutDirectoryRegistry,
  repository: Reference,
  signed: Descriptor,
  signatureDigest: string | undefined,
): Promise<Descriptor> {
  const altered = await pushSampleImage(
    registry,
    repository,
    buildSampleImage('hello from the stagesign demo, with a backdoor\n'),
    'tampered',
  );
  const referrers = await registry.listReferrers(repository, signed, MediaType.NotarySignature);
  const original = referrers.find((d) => d.digest === signatureDigest) ?? referrers[0];
  if (original === undefined) return altered; // Signing failed: the tampered image simply has no signature.
  await forgeSignatureCopy(registry, repository, original, altered);
  return altered;
}

/** What CodePipeline would have received, in a line or a few. */
function describeReport(report: JobReport): string {
  switch (report.kind) {
    case 'success':
      return `PutJobSuccessResult: ${report.executionDetails?.summary ?? '(no summary)'}`;
    case 'continuation':
      return `PutJobSuccessResult (continuation): ${report.executionDetails?.summary ?? ''}`;
    case 'failure':
      return `PutJobFailureResult (${report.failureDetails.type}): ${report.failureDetails.message}`;
  }
}

async function captureCli(args: string[]): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCli(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: process.env,
    homedir: process.env['HOME'] ?? '',
    now: () => new Date(),
  });
  return { status, out, err };
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = path.resolve(process.env['STAGESIGN_DEMO_DIR'] ?? path.join(repoRoot, '.stagesign-demo'));
  const verbose = process.argv.includes('--verbose') || process.argv.includes('-v');
  try {
    const result = await runDemo({ dir, print: (line) => console.log(line), verbose });
    process.exitCode = result.ok ? 0 : 1;
  } catch (error) {
    console.error(
      `The demo could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exitCode = 1;
  }
}
