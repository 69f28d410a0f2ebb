/**
 * Every events/<stage>/*.json, run through its stage's exported handler with its documented
 * environment (events/env.json, resolved for the stage's function exactly as `npm run invoke --
 * --env-vars events/env.json` and `sam local invoke --env-vars` resolve it, plus the stand-ins of
 * test/helpers/event-worlds.ts), must end the way its file name promises (test/helpers/event-outcome.ts,
 * documented in events/README.md): success, continuation, or a failure of the named type. Each
 * event runs in a fresh container (the handler module imported anew, as `sam local invoke` starts
 * one per invocation), after its world's `beforeEvent`. The
 * folders are enumerated, so a new stage's events are covered when they land; a stage without a
 * world, or an event whose name promises what it does not do, fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { declaredVariables, environmentFor, parseEnvVarsFile } from '../../../scripts/lib/env-vars';
import { esbuildFunctions, parseTemplate } from '../../../scripts/lib/sam-template';
import { clearLocalReporter, useLocalReporter } from '../../../shared/pipeline/default-reporter';
import { RecordingReporter } from '../../../shared/pipeline/recording-reporter';
import { captureOutput } from '../../helpers/codepipeline-capture';
import { EVENT_SECRETS, fakeContext } from '../../helpers/codepipeline-events';
import { promisedOutcome } from '../../helpers/event-outcome';
import { EVENT_WORLDS } from '../../helpers/event-worlds';
import type { EventWorld } from '../../helpers/event-worlds';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const eventsDir = path.join(root, 'events');
const template = parseTemplate(readFileSync(path.join(root, 'template.yaml'), 'utf8'));
const envFile = parseEnvVarsFile(readFileSync(path.join(eventsDir, 'env.json'), 'utf8'), 'events/env.json');
const stages = readdirSync(eventsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe('the sample events', () => {
  it('cover at least the sign-image and verify-image stages', () => {
    expect(stages).toEqual(expect.arrayContaining(['sign-image', 'verify-image']));
  });

  it('are documented, each one, in events/README.md', () => {
    const readme = readFileSync(path.join(eventsDir, 'README.md'), 'utf8');
    for (const stage of stages)
      for (const file of readdirSync(path.join(eventsDir, stage)).filter((f) => f.endsWith('.json')))
        expect(readme, `events/README.md documents ${stage}/${file}`).toContain(`${stage}/${file}`);
  });
});

describe.each(stages)('events/%s', (stage) => {
  const files = readdirSync(path.join(eventsDir, stage))
    .filter((f) => f.endsWith('.json'))
    .sort();
  const fn = esbuildFunctions(template).find((f) => f.stage === stage);
  let world: EventWorld | undefined;
  type Handler = (event: unknown, context: unknown) => Promise<unknown>;
  const recorder = new RecordingReporter();
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    expect(fn, `template.yaml has a function for stage ${stage}`).toBeDefined();
    const startWorld = EVENT_WORLDS[stage];
    expect(
      startWorld,
      `test/helpers/event-worlds.ts has no world for ${stage}: add the stand-ins its events need (events/README.md)`,
    ).toBeDefined();
    world = await startWorld!();
    const { values } = environmentFor(envFile, fn!.logicalId, declaredVariables(template, fn!.logicalId));
    // Region and credentials of the events' account (the stand-ins never check them).
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDEVENTSWORLD',
      AWS_SECRET_ACCESS_KEY: 'events-world-secret',
      ...values,
      ...world.env,
    });
    clearLocalReporter();
    useLocalReporter(recorder);
  });

  afterAll(async () => {
    clearLocalReporter();
    process.env = { ...savedEnv };
    await world?.close();
  });

  it.each(files)('%s ends as its name promises', async (file) => {
    const event = JSON.parse(readFileSync(path.join(eventsDir, stage, file), 'utf8')) as Record<
      string,
      unknown
    >;
    await world!.beforeEvent?.(file.replace(/\.json$/, ''));
    vi.resetModules();
    const { handler } = (await import(`../../../functions/${stage}/handler.ts`)) as { handler: Handler };
    const before = recorder.reports.length;
    const { output } = await captureOutput(() => handler(event, fakeContext()));
    const reports = recorder.reports.slice(before);
    expect(reports, 'exactly one report').toHaveLength(1);
    const report = reports[0]!;
    expect(report.jobId).toBe((event['CodePipeline.job'] as { id: string }).id);
    const promised = promisedOutcome(file);
    const got =
      report.kind === 'failure'
        ? { outcome: 'failure', type: report.failureDetails.type, message: report.failureDetails.message }
        : { outcome: report.kind };
    expect(
      got,
      `${stage}/${file} promises ${JSON.stringify(promised)} (events/README.md) but reported ${JSON.stringify(got)}`,
    ).toMatchObject(promised);
    for (const secret of EVENT_SECRETS) expect(output).not.toContain(secret);
  });
});
