import { CodePipelineReporter, codePipelineReportingClient } from './codepipeline-reporter';
import type { JobReporter } from './reporter';

/**
 * Which reporter a handler uses when none is injected.
 *
 * The deployed Lambda always reports to CodePipeline. A local runner (the invoker, the demo)
 * that imports an unchanged handler module first calls {@link useLocalReporter}, which puts its
 * reporter in a process-wide slot. The slot is keyed by a global symbol, so it is shared even if
 * the module were loaded twice. Nothing in a deployed function calls `useLocalReporter`.
 */
const SLOT = Symbol.for('stagesign.pipeline.localReporter');

type Slot = { [SLOT]?: JobReporter };

let cached: CodePipelineReporter | undefined;

/** Route the reports of every handler in this process to `reporter` (local runs only). */
export function useLocalReporter(reporter: JobReporter): void {
  (globalThis as Slot)[SLOT] = reporter;
}

/** Undo {@link useLocalReporter}. */
export function clearLocalReporter(): void {
  delete (globalThis as Slot)[SLOT];
}

/**
 * The local reporter if one is installed, else a CodePipelineReporter whose client is built
 * once per container (cold start) from the execution role, with a bounded request time and no
 * SDK retries ({@link codePipelineReportingClient}).
 */
export function defaultReporter(): JobReporter {
  const local = (globalThis as Slot)[SLOT];
  if (local) return local;
  cached ??= new CodePipelineReporter(codePipelineReportingClient());
  return cached;
}
