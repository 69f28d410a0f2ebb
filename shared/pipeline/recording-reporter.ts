import type { JobReport, JobReporter, ReportOptions } from './reporter';

/**
 * A local stand-in for CodePipeline: records every report (and optionally prints it, or forwards
 * it to another reporter). Used by the local invoker, the handler tests and the demo, so they run
 * the same stage code as the deployed function.
 */
export class RecordingReporter implements JobReporter {
  readonly reports: JobReport[] = [];

  constructor(
    private readonly options: {
      /** Called with each report, e.g. to print it. */
      readonly onReport?: (report: JobReport) => void;
      /** Also send each report here (e.g. a CodePipelineReporter against a local endpoint). */
      readonly forwardTo?: JobReporter;
    } = {},
  ) {}

  async report(report: JobReport, options?: ReportOptions): Promise<void> {
    if (this.options.forwardTo) await this.options.forwardTo.report(report, options);
    this.reports.push(report);
    this.options.onReport?.(report);
  }

  /** The last report, if any. */
  get last(): JobReport | undefined {
    return this.reports.at(-1);
  }
}
