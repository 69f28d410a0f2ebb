/**
 * `npm run invoke -- <stage> <event.json> [--env-vars <env.json>] [--timeout <seconds>] [--handler <module>]`
 *
 * Runs functions/<stage>/handler.ts on an event with a Lambda context, without Docker. Reports
 * go to a local stand-in that prints them (stderr) unless AWS_ENDPOINT_URL_CODEPIPELINE is set,
 * in which case they are also sent to that endpoint. The last stdout line is one JSON object
 * (scripts/lib/invoke-result.ts); exit 0 = success/continuation, 1 = failure, 2 = usage error.
 * `--handler` runs another module exporting `handler` (tests use it). The default `--timeout` is
 * the stage function's Timeout in template.yaml (its own, else Globals), as deployed.
 * `--env-vars` takes `sam local invoke`'s file (scripts/lib/env-vars.ts): `Parameters` for every
 * function, the stage function's logical ID (e.g. `SignImageFunction`) on top, template-declared
 * variables only; they override the shell's values. events/README.md says what each event needs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CodePipelineReporter } from '../shared/pipeline/codepipeline-reporter';
import { useLocalReporter } from '../shared/pipeline/default-reporter';
import { peekJobId } from '../shared/pipeline/job';
import { RecordingReporter } from '../shared/pipeline/recording-reporter';
import type { JobReport } from '../shared/pipeline/reporter';
import { exitCode, resultLine } from './lib/invoke-result';
import { lambdaContext } from './lib/lambda-context';
import { declaredVariables, environmentFor, parseEnvVarsFile } from './lib/env-vars';
import { esbuildFunctions, functionTimeoutSeconds, parseTemplate } from './lib/sam-template';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE =
  'usage: npm run invoke -- <stage> <event.json> [--env-vars <env.json>] [--timeout <seconds>] [--handler <module>]';

/**
 * Used only when template.yaml cannot be read or names no plain-number Timeout: the value
 * template.yaml's Globals set today. The template is the source of truth; this is a last resort.
 */
const FALLBACK_TIMEOUT_SECONDS = 120;

/** The deployed function's timeout for `stage`, so a local run gets the same deadline. */
function templateTimeoutMs(stage: string): number {
  let seconds: number | undefined;
  try {
    seconds = functionTimeoutSeconds(
      parseTemplate(readFileSync(path.join(root, 'template.yaml'), 'utf8')),
      stage,
    );
  } catch (error) {
    console.error(
      `cannot read the timeout from template.yaml (${error instanceof Error ? error.message : String(error)}); using ${FALLBACK_TIMEOUT_SECONDS} s`,
    );
  }
  return (seconds ?? FALLBACK_TIMEOUT_SECONDS) * 1000;
}

function usage(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function existingStages(): string[] {
  const dir = path.join(root, 'functions');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, 'handler.ts')))
    .map((d) => d.name)
    .sort();
}

function parseArgs(argv: string[]): {
  stage: string;
  eventPath: string;
  timeoutMs: number;
  handlerPath?: string;
  envVarsPath?: string;
} {
  const positional: string[] = [];
  let timeoutMs: number | undefined;
  let handlerPath: string | undefined;
  let envVarsPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--timeout') {
      const seconds = Number(argv[++i]);
      if (!Number.isFinite(seconds) || seconds <= 0) usage('--timeout needs a positive number of seconds');
      timeoutMs = seconds * 1000;
    } else if (arg === '--handler') {
      handlerPath = argv[++i] ?? usage('--handler needs a module path');
    } else if (arg === '--env-vars') {
      envVarsPath = argv[++i] ?? usage('--env-vars needs a file (sam local invoke format)');
    } else if (arg.startsWith('--')) {
      usage(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 2) usage('expected a stage and an event file');
  const stage = positional[0]!;
  return {
    stage,
    eventPath: positional[1]!,
    timeoutMs: timeoutMs ?? templateTimeoutMs(stage),
    ...(handlerPath ? { handlerPath } : {}),
    ...(envVarsPath ? { envVarsPath } : {}),
  };
}

/**
 * Sets the variables `--env-vars` gives the stage's function, as `sam local invoke --env-vars`
 * does; prints which were set and which were ignored (names only: values may be secrets).
 */
function applyEnvVars(file: string, stage: string): void {
  let template: Record<string, unknown>;
  let text: string;
  try {
    template = parseTemplate(readFileSync(path.join(root, 'template.yaml'), 'utf8'));
    text = readFileSync(file, 'utf8');
  } catch (error) {
    usage(`cannot read --env-vars ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const logicalId = esbuildFunctions(template).find((fn) => fn.stage === stage)?.logicalId;
  if (logicalId === undefined) usage(`--env-vars: template.yaml has no function for stage ${stage}`);
  let environment;
  try {
    environment = environmentFor(
      parseEnvVarsFile(text, file),
      logicalId,
      declaredVariables(template, logicalId),
    );
  } catch (error) {
    usage(error instanceof Error ? error.message : String(error));
  }
  Object.assign(process.env, environment.values);
  const set = Object.keys(environment.values).sort();
  console.error(`[env-vars] ${logicalId}: set ${set.length > 0 ? set.join(', ') : 'nothing'} from ${file}`);
  if (environment.ignored.length > 0) {
    console.error(
      `[env-vars] ${logicalId}: ignored ${environment.ignored.join(', ')}: not declared in template.yaml's Environment.Variables for ${logicalId} (sam local invoke ignores them too; set them in the shell)`,
    );
  }
}

function describe(report: JobReport): string {
  switch (report.kind) {
    case 'success':
      return `PutJobSuccessResult job ${report.jobId}`;
    case 'continuation':
      return `PutJobSuccessResult (continuation) job ${report.jobId}`;
    case 'failure':
      // The stable code is shown here for whoever runs the stage locally; CodePipeline never gets it.
      return `PutJobFailureResult job ${report.jobId}: ${report.failureDetails.type}${report.code ? ` [${report.code}]` : ''}: ${report.failureDetails.message}`;
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  let modulePath: string;
  if (args.handlerPath) {
    modulePath = path.resolve(args.handlerPath);
    if (!existsSync(modulePath)) usage(`handler module ${args.handlerPath} does not exist`);
  } else {
    modulePath = path.join(root, 'functions', args.stage, 'handler.ts');
    if (!/^[a-z0-9-]+$/.test(args.stage) || !existsSync(modulePath)) {
      const stages = existingStages();
      usage(
        `unknown stage ${JSON.stringify(args.stage)}: no functions/${args.stage}/handler.ts. Stages: ${stages.join(', ') || '(none yet)'}`,
      );
    }
  }
  let event: unknown;
  try {
    event = JSON.parse(readFileSync(args.eventPath, 'utf8'));
  } catch (error) {
    usage(`cannot read event ${args.eventPath}: ${error instanceof Error ? error.message : String(error)}`);
  }

  if (args.envVarsPath) applyEnvVars(args.envVarsPath, args.stage);

  // The deployed functions run on nodejs22.x; on the Node 20 development machines the SDK would
  // print its "future versions need Node 22" notice on every run. A user's own setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const region = (process.env.AWS_REGION ??= process.env.AWS_DEFAULT_REGION ?? 'us-east-1');
  const endpoint = process.env.AWS_ENDPOINT_URL_CODEPIPELINE;
  const recorder = new RecordingReporter({
    onReport: (report) =>
      console.error(
        `[${endpoint ? `CodePipeline at ${endpoint}` : 'local CodePipeline'}] ${describe(report)}`,
      ),
    ...(endpoint ? { forwardTo: new CodePipelineReporter() } : {}),
  });
  useLocalReporter(recorder);

  const mod = (await import(pathToFileURL(modulePath).href)) as { handler?: unknown };
  if (typeof mod.handler !== 'function')
    usage(`${path.relative(root, modulePath)} does not export a handler function`);
  const handler = mod.handler as (event: unknown, context: unknown) => Promise<unknown>;

  const context = lambdaContext({ stage: args.stage, timeoutMs: args.timeoutMs, region });
  let thrown: unknown;
  try {
    await handler(event, context);
  } catch (error) {
    thrown = error;
    console.error(
      `handler ended with an error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
  }
  const line = resultLine(recorder.last, peekJobId(event), thrown);
  await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(line)}\n`, () => resolve()));
  return exitCode(line);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
