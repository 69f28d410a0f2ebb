/**
 * `npm run demo`: the whole pipeline on your machine — sign → verify → deploy → check admission —
 * on embedded defaults, no AWS account and no Docker.
 *
 * 1. builds small sample images into OCI image layouts in a scratch folder (`.stagesign-demo/`,
 *    or `STAGESIGN_DEMO_DIR`); creates (or reuses) a local ECDSA P-384 root CA and signing
 *    certificate; writes a notation-style trust policy and trust store, and two source revisions
 *    of a Kubernetes manifest (the second adds an unsigned sidecar);
 * 2. sets the cluster up: `stagesign policy export --kyverno` turns the same trust policy into
 *    kyverno-notation-aws resources, and an embedded EKS cluster stand-in (the HTTPS fake API
 *    server the tests use, ./demo-cluster.ts) emulates kyverno-notation-aws with them, judging each
 *    Pod's images with stagesign's own verifier and writing the extension's log lines;
 * 3. runs the **same** stage code as the four Lambda functions, on CodePipeline job events, through
 *    `runPipelineAction` and the local CodePipeline stand-in (`RecordingReporter`), handing each
 *    stage's output variables to the next as CodePipeline resolves `#{Namespace.VARIABLE}`; the
 *    OCI layout store stands in for ECR and the local key for AWS Signer; prints what each stage
 *    reported and what the cluster then runs:
 *    - the signed image signed, verified, deployed by digest, rolled out and admitted (with the
 *      extension's log line as evidence);
 *    - an unsigned and a tampered image rejected by verify-image;
 *    - an unsigned sidecar refused at deploy-manifest's preflight, nothing changed;
 *    - the same sidecar, with preflight off, rejected at Pod creation and rolled back by
 *      check-admission;
 * 4. runs `stagesign verify` on the signed image to show the command gives the stage's verdict.
 *
 * Exit status 0 when every step behaved as expected, 1 otherwise. `--verbose` also prints the
 * stages' JSON logs.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { parseAllDocuments } from 'yaml';
import { run as runCli } from '../cli/main';
import { ConfigurationError, DependencyError } from '../shared/errors';
import type { KubernetesObject } from '../shared/kube/kyverno-trust-resources';
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
import { checkAdmissionAction } from '../functions/check-admission/check-admission';
import { DEPLOYED_FORM, parseCheckAdmissionEnvironment } from '../functions/check-admission/params';
import { deployManifestAction } from '../functions/deploy-manifest/deploy-manifest';
import { VERIFIED_IMAGES_FORM, parseDeployManifestEnvironment } from '../functions/deploy-manifest/params';
import { signImageAction } from '../functions/sign-image/sign-image';
import { parseSignImageEnvironment } from '../functions/sign-image/params';
import { SIGNED_IMAGES_FORM, parseVerifyImageEnvironment } from '../functions/verify-image/params';
import type { VerifyImageParams } from '../functions/verify-image/params';
import { verifyImageAction } from '../functions/verify-image/verify-image';
import type { FakeKube } from '../test/helpers/fake-kube/index';
import { DEMO_CLUSTER, startDemoCluster } from './demo-cluster';
import { demoContext, demoJobEvent } from './demo-events';
import { buildSampleImage, pushSampleImage } from './demo-image';
import { LayoutDirectoryRegistry } from './demo-layout-registry';
import { appManifest, folderArtifactStore, writeRevision } from './demo-source';
import { forgeSignatureCopy } from './demo-tamper';
import { DEMO_SIGNER_SUBJECT, loadOrCreateDemoPki } from './demo-pki';
import { resolveVariables } from './lib/pipeline-definition';

/** The demo's repository: an ordinary registry reference, stored as an OCI image layout on disk. */
export const DEMO_REPOSITORY = 'demo.stagesign.local/sample/app';
/** A sidecar's repository the pipeline does not verify (deploy-manifest's `allowUnverified`); nobody signed it. */
export const DEMO_SIDECAR_REPOSITORY = 'demo.stagesign.local/sample/log-shipper';
/** The application namespace, covered by the cluster's kyverno-notation-aws policy. */
export const DEMO_NAMESPACE = 'shop';
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
  const sourceRoot = path.join(dir, 'source');
  const clusterDir = path.join(dir, 'cluster');
  // Images, signatures, sources and configuration are rebuilt on each run (the key pair is reused).
  for (const d of [registryRoot, configDir, sourceRoot, clusterDir])
    await rm(d, { recursive: true, force: true });

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
  const sidecarRepository = parseReference(DEMO_SIDECAR_REPOSITORY);
  const sidecar = await pushSampleImage(
    registry,
    sidecarRepository,
    buildSampleImage('a log shipper nobody signed\n'),
    '1.0',
  );
  const sidecarImage = formatReference({ ...sidecarRepository, digest: sidecar.digest });
  const policy = await writeNotationConfig(configDir, pki.rootPem);
  await writeRevision(sourceRoot, 'app-v1', { 'k8s/app.yaml': appManifest(`${DEMO_REPOSITORY}:v1`) });
  await writeRevision(sourceRoot, 'app-v2', {
    'k8s/app.yaml': appManifest(`${DEMO_REPOSITORY}:v1`, sidecarImage),
  });

  // The cluster's admission is configured from the pipeline's own trust policy (issue 13 item 2).
  const exportArgs = [
    'policy',
    'export',
    '--kyverno',
    '--config-dir',
    rel(configDir),
    '--cluster-policy',
    '--namespaces',
    DEMO_NAMESPACE,
  ];
  const exported = await captureCli(exportArgs);
  if (exported.status !== 0) {
    throw new Error(`stagesign ${exportArgs.join(' ')} failed: ${exported.err.join('\n')}`);
  }
  const exportedYaml = `${exported.out.join('\n')}\n`;
  await mkdir(clusterDir, { recursive: true });
  await writeFile(path.join(clusterDir, 'kyverno-notation-aws.yaml'), exportedYaml);
  const resources = parseAllDocuments(exportedYaml).map((d) => d.toJS() as KubernetesObject);
  const revocation = noRevocationService();
  const cluster = await startDemoCluster({ resources, registry, revocationChecker: revocation });
  try {
    print(
      'stagesign demo: sign → verify → deploy → check admission, on your machine (no AWS account needed)',
    );
    print(
      `  keys      ${rel(path.join(dir, 'keys'))}/ (ECDSA P-384 root CA and signing certificate, ${pki.created ? 'created' : 'reused'})`,
    );
    print(
      `  registry  ${rel(registryRoot)}/ (an OCI image layout per repository, standing in for Amazon ECR)`,
    );
    print(`  images    ${DEMO_REPOSITORY}:v1 = ${signed.digest}`);
    print(`            ${DEMO_REPOSITORY}:unsigned, ${DEMO_SIDECAR_REPOSITORY}:1.0 (nobody signed these)`);
    print(
      `  trust     ${rel(configDir)}/trustpolicy.oci.json and truststore/x509/ca/demo/ (notation's layout)`,
    );
    print(`  source    ${rel(sourceRoot)}/app-v1/k8s/app.yaml (and app-v2 with a log-shipper sidecar)`);
    print(`  cluster   EKS cluster ${DEMO_CLUSTER} stand-in at ${cluster.kube.endpoint} (HTTPS, test CA)`);
    print(
      `            kyverno-notation-aws (emulated: ${cluster.extension.pods.length} replicas, policy ${cluster.extension.options.policyName} on namespaces ${cluster.extension.options.namespaces?.join(', ') ?? '(all)'}) runs what`,
    );
    print(
      `            npx stagesign ${exportArgs.join(' ')} wrote: ${resources.map((r) => `${r.kind} ${r.metadata.name}`).join(', ')}`,
    );
    print('');

    const logger = new Logger({
      serviceName: 'stagesign-demo',
      logLevel: options.verbose ? 'INFO' : 'SILENT',
    });
    const reporter = new RecordingReporter();
    const artifacts = folderArtifactStore(sourceRoot);
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
    const verifySpec = verifyImageSpec(registry, policy, pki.rootPem, revocation);
    const deploySpec = deployManifestAction({
      cluster: cluster.connector,
      environment: parseDeployManifestEnvironment({ AWS_REGION: 'us-east-1' }),
      pollIntervalMs: POLL_MS,
    });
    const admissionSpec = checkAdmissionAction({
      cluster: cluster.connector,
      environment: parseCheckAdmissionEnvironment({ AWS_REGION: 'us-east-1' }),
      pollIntervalMs: POLL_MS,
    });
    /** Output variables of the actions so far, by namespace, as CodePipeline keeps them. */
    const variables = new Map<string, Record<string, string>>();

    const steps: DemoStep[] = [];
    const step = async <P, S>(s: {
      title: string;
      spec: ActionSpec<P, S>;
      /** UserParameters as written in the pipeline (`#{Namespace.VARIABLE}`s are resolved first). */
      userParameters: Record<string, unknown> | string;
      expected: DemoStep['expected'];
      expect: RegExp;
      /** The action's variable namespace: its output variables are kept for later actions. */
      namespace?: string;
      /** The source revision read as the `SourceOutput` input artifact. */
      source?: string;
      /** What the cluster shows afterwards: lines to print, and whether they are as expected. */
      then?: () => Promise<{ ok: boolean; lines: string[] }> | { ok: boolean; lines: string[] };
    }): Promise<JobReport | undefined> => {
      print(`${steps.length + 1}. ${s.title}`);
      const text =
        typeof s.userParameters === 'string'
          ? resolveVariables(s.userParameters, variables)
          : JSON.stringify(s.userParameters);
      const { report } = await runPipelineAction(
        demoJobEvent(
          `stagesign-${s.spec.stage}`,
          text,
          s.source === undefined ? [] : [{ name: 'SourceOutput', objectKey: s.source }],
        ),
        demoContext(s.spec.stage),
        s.spec,
        { reporter, logger, artifacts },
      );
      const described = report === undefined ? '(nothing was reported)' : describeReport(report);
      const after = await s.then?.();
      const ok =
        report !== undefined &&
        (s.expected === 'success' ? report.kind === 'success' : report.kind === 'failure') &&
        s.expect.test(described) &&
        (after?.ok ?? true);
      steps.push({ title: s.title, expected: s.expected, ok, report });
      const [first, ...rest] = described.split('\n');
      print(`   ${ok ? '✔' : '✘'} ${first}`);
      for (const line of rest) print(line.trim() === '' ? '' : `       ${line}`);
      if (report?.kind === 'success' && s.namespace !== undefined) {
        const outputs = report.outputVariables ?? {};
        variables.set(s.namespace, outputs);
        for (const [name, value] of Object.entries(outputs).filter(([n]) => HANDOFF.has(n))) {
          print(`     #{${s.namespace}.${name}} = ${value}`);
        }
      }
      for (const line of after?.lines ?? []) print(`     ${line}`);
      if (!ok)
        print(`   ✘ expected ${s.expected === 'success' ? 'a success' : 'a failure'} matching ${s.expect}`);
      print('');
      return report;
    };
    const kube = cluster.kube;

    print('The pipeline: a commit becomes an admitted Pod');
    const signReport = await step({
      title: `sign-image signs ${DEMO_REPOSITORY}:v1 by digest (the local key stands in for AWS Signer)`,
      spec: signSpec,
      userParameters: { image: `${DEMO_REPOSITORY}:v1` },
      expected: 'success',
      expect: /Successfully signed /,
      namespace: 'SignVariables',
    });
    const signedImage =
      signReport?.kind === 'success' ? signReport.outputVariables?.['IMAGE_URI'] : undefined;
    const signatureDigest =
      signReport?.kind === 'success' ? signReport.outputVariables?.['SIGNATURE_DIGEST'] : undefined;
    await step({
      title: 'verify-image verifies what was signed, against the trust policy',
      spec: verifySpec,
      userParameters: SIGNED_IMAGES_FORM,
      expected: 'success',
      expect: /Successfully verified signature for /,
      namespace: 'VerifyVariables',
    });
    await step({
      title: `deploy-manifest applies k8s/app.yaml to ${DEMO_CLUSTER}, its image pinned to the verified digest`,
      spec: deploySpec,
      userParameters: deployParameters(VERIFIED_IMAGES_FORM),
      expected: 'success',
      expect: new RegExp(`${escape(DEMO_REPOSITORY)}@${escape(signed.digest)}`),
      namespace: 'DeployVariables',
      source: 'app-v1',
      then: () => clusterShows(kube, [`${DEMO_REPOSITORY}@${signed.digest}`]),
    });
    await step({
      title:
        'check-admission proves from the API server and the extension logs that admission verified that digest',
      spec: admissionSpec,
      userParameters: admissionParameters(DEPLOYED_FORM),
      expected: 'success',
      expect: new RegExp(
        `admitted by kyverno-notation-aws: successfully verified image ${escape(DEMO_REPOSITORY)}@${escape(signed.digest)} digest ${escape(signed.digest)}`,
      ),
      namespace: 'AdmissionVariables',
    });

    print('What the stages refuse');
    await step({
      title: 'verify-image rejects an image that was never signed',
      spec: verifySpec,
      userParameters: { image: formatReference({ ...repository, digest: unsigned.digest }) },
      expected: 'failure',
      expect: /signature verification failed: no signature is associated with/,
    });
    const tampered = await pushTamperedImage(registry, repository, signed, signatureDigest);
    await step({
      title:
        'verify-image rejects a tampered image (altered content carrying a copy of the signature, its payload rewritten)',
      spec: verifySpec,
      userParameters: { image: formatReference({ ...repository, digest: tampered.digest }) },
      expected: 'failure',
      expect: /signature verification failed for all the signatures associated with/,
    });
    const writesBefore = kube.requests.writes().length;
    await step({
      title: `deploy-manifest refuses app-v2 at preflight: its ${DEMO_SIDECAR_REPOSITORY} sidecar (let through by allowUnverified) is unsigned, and the cluster's admission says so`,
      spec: deploySpec,
      userParameters: deployParameters(VERIFIED_IMAGES_FORM, { allowUnverified: [DEMO_SIDECAR_REPOSITORY] }),
      expected: 'failure',
      expect: new RegExp(`no signature is associated with "${escape(sidecarImage)}"`),
      source: 'app-v2',
      then: () => {
        const writes = kube.requests.writes().length - writesBefore;
        const shows = clusterShows(kube, [`${DEMO_REPOSITORY}@${signed.digest}`]);
        return {
          ok: writes === 0 && shows.ok,
          lines: [`nothing changed: ${writes} writes after the dry runs`, ...shows.lines],
        };
      },
    });
    await step({
      title:
        'deploy-manifest with preflight and rollout following turned off applies app-v2 (check-admission is the judge now)',
      spec: deploySpec,
      userParameters: deployParameters(VERIFIED_IMAGES_FORM, {
        allowUnverified: [DEMO_SIDECAR_REPOSITORY],
        preflight: false,
        wait: false,
      }),
      expected: 'success',
      expect: /applied|Applied/,
      namespace: 'DeployVariables',
      source: 'app-v2',
    });
    await step({
      title:
        'check-admission finds its Pods rejected at creation by kyverno-notation-aws, with the log line that says why, and rolls it back',
      spec: admissionSpec,
      userParameters: admissionParameters(DEPLOYED_FORM, { onRejection: 'rollback' }),
      expected: 'failure',
      expect: new RegExp(`rejected by kyverno-notation-aws[^]*${escape(sidecar.digest)}[^]*Rolled back`),
      then: async () => {
        // The Deployment controller acts on the rollback (re-numbering the restored revision), as a
        // cluster does within moments.
        await kube.step(3);
        return clusterShows(kube, [`${DEMO_REPOSITORY}@${signed.digest}`]);
      },
    });

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
    print('On your laptop');
    print(`${steps.length + 1}. the same verifier: npx stagesign ${cliArgs.join(' ')}`);
    const cli = await captureCli(cliArgs);
    const cliOk =
      cli.status === 0 && cli.out.some((line) => line.startsWith('Successfully verified signature for '));
    for (const line of [...cli.out, ...cli.err]) print(`   ${cliOk ? '✔' : '✘'} ${line}`);
    print('');
    steps.push({ title: 'stagesign verify agrees', expected: 'success', ok: cliOk, report: undefined });

    const ok = steps.every((s) => s.ok);
    print(
      ok
        ? `All ${steps.length} steps behaved as expected: signed, verified, deployed by digest and admitted; the unsigned, tampered and unadmitted images refused.`
        : `${steps.filter((s) => !s.ok).length} of ${steps.length} steps did not behave as expected.`,
    );
    return { ok, steps, ...(signedImage !== undefined ? { signedImage } : {}) };
  } finally {
    await cluster.close();
  }
}

/** The output variables the next stage takes (printed as CodePipeline hands them over). */
const HANDOFF = new Set(['SIGNED_IMAGES', 'VERIFIED_IMAGES', 'DEPLOYED', 'ADMISSION']);
/** Poll interval of the demo's deploy and admission stages (the cluster answers at once). */
const POLL_MS = 50;

/** deploy-manifest's UserParameters as a pipeline writes them, the verified images unquoted. */
function deployParameters(verifiedImagesForm: string, extra: Record<string, unknown> = {}): string {
  const fixed = JSON.stringify({
    clusterName: DEMO_CLUSTER,
    manifests: 'k8s/',
    namespace: DEMO_NAMESPACE,
    timeoutSeconds: 60,
    ...extra,
  });
  return `${verifiedImagesForm.slice(0, -1)}, ${fixed.slice(1)}`;
}

/** check-admission's UserParameters as a pipeline writes them, `DEPLOYED` unquoted. */
function admissionParameters(deployedForm: string, extra: Record<string, unknown> = {}): string {
  const fixed = JSON.stringify({ clusterName: DEMO_CLUSTER, timeoutSeconds: 30, ...extra });
  return `${deployedForm.slice(0, -1)}, ${fixed.slice(1)}`;
}

/** What runs in the cluster: the Deployment's images and its Pods' `imageID`s, as expected or not. */
function clusterShows(kube: FakeKube, expectedImages: string[]): { ok: boolean; lines: string[] } {
  type Pod = {
    metadata: { name: string; deletionTimestamp?: string };
    status?: { phase?: string; containerStatuses?: Array<{ imageID?: string }> };
  };
  const web = kube.read('apps/v1', 'Deployment', DEMO_NAMESPACE, 'web') as
    | {
        metadata: { annotations?: Record<string, string> };
        spec: { template: { spec: { containers: Array<{ image: string }> } } };
      }
    | undefined;
  if (web === undefined) return { ok: false, lines: [`the cluster has no Deployment ${DEMO_NAMESPACE}/web`] };
  const images = web.spec.template.spec.containers.map((c) => c.image);
  const pods = (kube.list('v1', 'Pod', DEMO_NAMESPACE) as Pod[]).filter(
    (p) => p.metadata.deletionTimestamp === undefined && p.status?.phase === 'Running',
  );
  const ids = [
    ...new Set(pods.flatMap((p) => (p.status?.containerStatuses ?? []).map((c) => c.imageID ?? ''))),
  ];
  const ok =
    images.length === expectedImages.length &&
    images.every((image, i) => image === expectedImages[i]) &&
    ids.length > 0 &&
    ids.every((id) => expectedImages.includes(id));
  return {
    ok,
    lines: [
      `cluster: Deployment ${DEMO_NAMESPACE}/web revision ${web.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '?'} runs ${images.join(', ')}`,
      `         ${pods.length} Running Pods, imageID ${ids.join(', ') || '(none)'}`,
    ],
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The demo has no AWS Signer to ask about revocation. Its signatures are `notary.x509` ones, for
 * which the verifier never asks; a question would fail the verification (fail closed).
 */
function noRevocationService(): RevocationChecker {
  return {
    getRevocationStatus: () =>
      Promise.reject(
        new DependencyError('DEMO_NO_AWS', 'the demo has no AWS Signer to ask about revocation'),
      ),
  };
}

/** The trust policy and trust store, written in notation's configuration layout. Returns the policy JSON. */
async function writeNotationConfig(configDir: string, rootPem: string): Promise<string> {
  const policy = JSON.stringify(
    {
      version: '1.0',
      trustPolicies: [
        {
          name: 'stagesign-demo',
          registryScopes: [DEMO_REPOSITORY, DEMO_SIDECAR_REPOSITORY],
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
 * `notary.x509` ones, for which AWS Signer's revocation service is never asked ({@link noRevocationService}).
 */
function verifyImageSpec(
  registry: LayoutDirectoryRegistry,
  policyJson: string,
  rootPem: string,
  revocation: RevocationChecker,
): ActionSpec<VerifyImageParams> {
  const environment = parseVerifyImageEnvironment({
    TRUST_POLICY: policyJson,
    TRUST_STORES: JSON.stringify({ 'ca:demo': rootPem }),
  });
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
