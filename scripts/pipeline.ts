/**
 * `npm run pipeline -- <build-output-dir> [--env-vars env.json] [--parameter Name=Value ...]`
 *
 * Runs the example pipeline's Lambda stages of template.yaml locally, in order — what you deploy
 * is what you run. See USAGE below (also `--help`).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodePipelineReporter } from '../shared/pipeline/codepipeline-reporter';
import { declaredVariables, environmentFor, parseEnvVarsFile } from './lib/env-vars';
import type { EnvVarsFile } from './lib/env-vars';
import { runPipeline } from './lib/pipeline-runner';
import { parseTemplate } from './lib/sam-template';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: npm run pipeline -- <build-output-dir> [--env-vars <env.json>] [--parameter <Name>=<Value> ...]

Runs the Lambda actions of template.yaml's example pipeline (Pipeline resource) locally, in order:
Sign (sign-image, verify-image), Deploy (deploy-manifest), VerifyContainerSign (check-admission).
Each action's UserParameters are the template's, with #{Namespace.VARIABLE} replaced by the earlier
actions' output variables as CodePipeline does (plain text, so an unquoted JSON array stays JSON);
a continuation re-invokes the action with its token; the run stops at the first failure.

Source and Build are not Lambda actions and are not run: <build-output-dir> stands for the Build
action's output artifact (BuildOutput) - imagedefinitions.json and the manifests (PipelineManifests,
default k8s/) - and is zipped into a local S3 artifact store stand-in (AWS_ENDPOINT_URL_S3 is set to it).

The stages talk to whatever the environment names: AWS_REGION and credentials, and local stand-ins or
real endpoints through AWS_ENDPOINT_URL_SIGNER, AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_EKS, ...;
reports go to a local CodePipeline stand-in (printed), and also to AWS_ENDPOINT_URL_CODEPIPELINE when set.
  --env-vars    sam local invoke's file: {"Parameters": {...}, "<FunctionLogicalId>": {...}}
                (only variables template.yaml declares for the function; they win over the shell's)
  --parameter   a template parameter for !Sub in UserParameters, e.g. PipelineManifests=deploy/

Prints each invocation; the last stdout line is one JSON object (the run). Exit 0 when every
action succeeded, 1 when one failed, 2 on a usage error.`;

function usage(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

interface Args {
  readonly artifactDir: string;
  readonly envVars?: string;
  readonly parameters: Record<string, string>;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const parameters: Record<string, string> = {};
  let envVars: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg === '--env-vars') {
      envVars = argv[++i] ?? usage('--env-vars needs a file (sam local invoke format)');
    } else if (arg === '--parameter') {
      const pair = argv[++i] ?? usage('--parameter needs Name=Value');
      const at = pair.indexOf('=');
      if (at <= 0) usage(`--parameter ${pair}: expected Name=Value, e.g. PipelineManifests=k8s/`);
      parameters[pair.slice(0, at)] = pair.slice(at + 1);
    } else if (arg.startsWith('--')) {
      usage(`unknown option ${arg}`);
    } else positional.push(arg);
  }
  if (positional.length !== 1) usage('expected one build output directory');
  const artifactDir = positional[0]!;
  let isDir = false;
  try {
    isDir = statSync(artifactDir).isDirectory();
  } catch {
    /* reported below */
  }
  if (!isDir)
    usage(
      `${artifactDir} is not a directory (give the build output: imagedefinitions.json and the manifests)`,
    );
  return { artifactDir, parameters, ...(envVars ? { envVars } : {}) };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const template = parseTemplate(readFileSync(path.join(root, 'template.yaml'), 'utf8'));
  let envFile: EnvVarsFile | undefined;
  if (args.envVars) {
    try {
      envFile = parseEnvVarsFile(readFileSync(args.envVars, 'utf8'), args.envVars);
    } catch (error) {
      usage(`cannot read --env-vars ${args.envVars}: ${(error as Error).message}`);
    }
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = process.env.AWS_ENDPOINT_URL_CODEPIPELINE;
  const run = await runPipeline({
    template,
    root,
    artifactDir: args.artifactDir,
    parameters: args.parameters,
    ...(endpoint ? { forwardTo: new CodePipelineReporter() } : {}),
    environment: (logicalId) => {
      if (!envFile) return {};
      const env = environmentFor(envFile, logicalId, declaredVariables(template, logicalId));
      // Names only: values may be secrets.
      console.error(`[env-vars] ${logicalId}: set ${Object.keys(env.values).sort().join(', ') || 'nothing'}`);
      return env.values;
    },
    onInvocation: (action, result, invocation) => {
      const what =
        result.outcome === 'failure'
          ? `failure ${result.failureDetails?.type}: ${result.failureDetails?.message}`
          : result.outcome === 'continuation'
            ? 'continuation'
            : `success ${JSON.stringify(result.outputVariables ?? {})}`;
      console.error(`[${action.stage}/${action.name}${invocation > 1 ? ` #${invocation}` : ''}] ${what}`);
    },
  });
  if (run.stoppedBecause) console.error(`pipeline stopped: ${run.stoppedBecause}`);
  else console.error('pipeline succeeded: every Lambda action reported success');
  await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(run)}\n`, () => resolve()));
  return run.succeeded ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
