/**
 * Runs the example pipeline's Lambda actions (template.yaml's Pipeline resource) in this process,
 * in order, as CodePipeline runs them: each action's UserParameters get `#{Namespace.VARIABLE}`
 * substituted from the earlier actions' output variables (plain text, so an unquoted JSON array
 * variable becomes JSON), a continuation re-invokes the same action with its token (and the same
 * resolved configuration), and the run stops at the first failure. Each function's handler is the
 * one the template builds (its esbuild entry point), with a Lambda context of its Timeout; reports
 * go to a {@link RecordingReporter}, as in the local invoker.
 *
 * Source and Build are not Lambda actions: the run starts from a build output directory
 * (imagedefinitions.json and the manifests), zipped and served by a path-style S3 GetObject
 * stand-in on loopback (AWS_ENDPOINT_URL_S3) as the input artifact every Lambda action names.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { useLocalReporter } from '../../shared/pipeline/default-reporter';
import { RecordingReporter } from '../../shared/pipeline/recording-reporter';
import type { JobReporter } from '../../shared/pipeline/reporter';
import { writeZip } from '../../shared/pipeline/zip';
import { resultLine } from './invoke-result';
import type { InvokeResultLine } from './invoke-result';
import { lambdaContext } from './lambda-context';
import { lambdaActions, resolveVariables } from './pipeline-definition';
import type { LambdaAction } from './pipeline-definition';
import { esbuildFunctions, functionTimeoutSeconds } from './sam-template';

export const ARTIFACT_BUCKET = 'stagesign-local-pipeline-artifacts';
/** CodePipeline's limit on continuations is the action's timeout; this bounds a local loop. */
export const MAX_INVOCATIONS_PER_ACTION = 200;

/** What one action did. */
export interface ActionRun {
  readonly stage: string;
  readonly action: string;
  readonly namespace?: string;
  readonly functionLogicalId: string;
  /** UserParameters after variable substitution (what the function received). */
  readonly userParameters: string;
  readonly invocations: number;
  readonly result: InvokeResultLine;
}

export interface PipelineRun {
  readonly actions: readonly ActionRun[];
  readonly succeeded: boolean;
  /** Why the run stopped early (a failed action, or a variable that did not resolve). */
  readonly stoppedBecause?: string;
}

export interface RunOptions {
  readonly template: Record<string, unknown>;
  readonly root: string;
  /** The build output directory: imagedefinitions.json and the manifests. */
  readonly artifactDir: string;
  /** Template parameter values for `!Sub` in UserParameters (defaults otherwise). */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Variables per function logical ID, set before its handler is imported (cold start). */
  readonly environment?: (functionLogicalId: string) => Readonly<Record<string, string>>;
  /** Called as each invocation ends. */
  readonly onInvocation?: (action: LambdaAction, result: InvokeResultLine, invocation: number) => void;
  /** Also send each report here (a CodePipelineReporter when AWS_ENDPOINT_URL_CODEPIPELINE is set). */
  readonly forwardTo?: JobReporter;
  /** Pause between continuations (CodePipeline waits about a second); default 250 ms. */
  readonly continuationDelayMs?: number;
}

/** Every regular file under `dir`, by its relative path with "/" separators. */
function filesUnder(dir: string, prefix = ''): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const relative = prefix ? `${prefix}/${name}` : name;
    const stat = statSync(full);
    if (stat.isDirectory()) for (const [k, v] of filesUnder(full, relative)) files.set(k, v);
    else if (stat.isFile()) files.set(relative, readFileSync(full));
  }
  return files;
}

/** A path-style S3 GetObject stand-in serving one zip at every `<bucket>/<artifact>/…` key. */
async function startArtifactStore(zips: ReadonlyMap<string, Uint8Array>) {
  const server = createServer((req, res) => {
    const [bucket, ...key] = (req.url ?? '').split('?')[0]!.split('/').slice(1).map(decodeURIComponent);
    const zip = bucket === ARTIFACT_BUCKET ? zips.get(key.join('/')) : undefined;
    if (req.method !== 'GET' || zip === undefined) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(zip.byteLength) });
    res.end(Buffer.from(zip));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function jobEvent(action: LambdaAction, userParameters: string, continuationToken?: string) {
  return {
    'CodePipeline.job': {
      id: randomUUID(),
      accountId: '123456789012',
      data: {
        actionConfiguration: {
          configuration: {
            FunctionName: `stagesign-${action.functionLogicalId}`,
            ...(userParameters ? { UserParameters: userParameters } : {}),
          },
        },
        inputArtifacts: action.inputArtifacts.map((name) => ({
          name,
          revision: null,
          location: {
            type: 'S3',
            s3Location: { bucketName: ARTIFACT_BUCKET, objectKey: `${name}/build-output.zip` },
          },
        })),
        outputArtifacts: [],
        // Local stand-in credentials: the artifact store stand-in does not check them.
        artifactCredentials: {
          accessKeyId: 'AKIDLOCALPIPELINE000',
          secretAccessKey: 'local-pipeline-artifact-secret',
          sessionToken: 'local-pipeline-artifact-session',
        },
        ...(continuationToken ? { continuationToken } : {}),
      },
    },
  };
}

/** Runs the pipeline's Lambda actions; never throws for a stage's failure (it is in the result). */
export async function runPipeline(options: RunOptions): Promise<PipelineRun> {
  const actions = lambdaActions(options.template, options.parameters ?? {});
  const functions = new Map(esbuildFunctions(options.template).map((fn) => [fn.logicalId, fn]));
  const artifactNames = new Set(actions.flatMap((a) => a.inputArtifacts));
  const zip = writeZip(filesUnder(options.artifactDir), 'input artifact');
  const store = await startArtifactStore(
    new Map([...artifactNames].map((name) => [`${name}/build-output.zip`, zip])),
  );
  const previousS3 = process.env.AWS_ENDPOINT_URL_S3;
  process.env.AWS_ENDPOINT_URL_S3 = store.endpoint;
  const region = (process.env.AWS_REGION ??= process.env.AWS_DEFAULT_REGION ?? 'us-east-1');
  const recorder = new RecordingReporter(options.forwardTo ? { forwardTo: options.forwardTo } : {});
  useLocalReporter(recorder);

  const variables = new Map<string, Readonly<Record<string, string>>>();
  const runs: ActionRun[] = [];
  try {
    for (const action of actions) {
      const fn = functions.get(action.functionLogicalId);
      if (!fn) {
        return {
          actions: runs,
          succeeded: false,
          stoppedBecause: `${action.name}: FunctionName !Ref ${action.functionLogicalId} is not an esbuild-built function of the template`,
        };
      }
      let userParameters: string;
      try {
        userParameters = resolveVariables(action.userParameters, variables);
      } catch (error) {
        return {
          actions: runs,
          succeeded: false,
          stoppedBecause: `${action.name}: ${(error as Error).message}`,
        };
      }
      Object.assign(process.env, options.environment?.(fn.logicalId) ?? {});
      const entry = ((fn.buildProperties['EntryPoints'] as string[] | undefined) ?? [])[0];
      if (!entry) throw new Error(`${fn.logicalId} has no Metadata.BuildProperties.EntryPoints`);
      const mod = (await import(pathToFileURL(path.join(options.root, fn.codeUri, entry)).href)) as {
        handler?: (event: unknown, context: unknown) => Promise<unknown>;
      };
      if (typeof mod.handler !== 'function') throw new Error(`${entry} does not export a handler function`);
      const timeoutMs = (functionTimeoutSeconds(options.template, fn.stage) ?? 120) * 1000;

      let token: string | undefined;
      let result: InvokeResultLine;
      let invocation = 0;
      for (;;) {
        invocation++;
        const event = jobEvent(action, userParameters, token);
        const before = recorder.reports.length;
        let thrown: unknown;
        try {
          await mod.handler(event, lambdaContext({ stage: fn.stage, timeoutMs, region }));
        } catch (error) {
          thrown = error;
        }
        const report = recorder.reports.length > before ? recorder.last : undefined;
        result = resultLine(report, event['CodePipeline.job'].id, thrown);
        options.onInvocation?.(action, result, invocation);
        if (result.outcome !== 'continuation') break;
        if (invocation >= MAX_INVOCATIONS_PER_ACTION) {
          result = {
            jobId: result.jobId,
            outcome: 'failure',
            failureDetails: {
              type: 'JobFailed',
              message: `still continuing after ${invocation} invocations; stopped locally`,
            },
          };
          break;
        }
        token = result.continuationToken;
        await new Promise((resolve) => setTimeout(resolve, options.continuationDelayMs ?? 250));
      }
      runs.push({
        stage: action.stage,
        action: action.name,
        ...(action.namespace ? { namespace: action.namespace } : {}),
        functionLogicalId: action.functionLogicalId,
        userParameters,
        invocations: invocation,
        result,
      });
      if (result.outcome !== 'success') {
        return {
          actions: runs,
          succeeded: false,
          stoppedBecause: `${action.stage}/${action.name} failed: ${result.failureDetails?.type}: ${result.failureDetails?.message}`,
        };
      }
      if (action.namespace) variables.set(action.namespace, result.outputVariables ?? {});
    }
    return { actions: runs, succeeded: true };
  } finally {
    if (previousS3 === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
    else process.env.AWS_ENDPOINT_URL_S3 = previousS3;
    await store.close();
  }
}
