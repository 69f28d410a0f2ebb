/**
 * A vitest reporter that, after the run, lists each suite that was skipped with the reason its title
 * carries (`suiteTitle` in skip-notice.ts), e.g. a missing moto, docker-registry or conformance
 * vector folder. vitest's own output only counts skipped tests, and `silent: 'passed-only'` hides
 * notices printed while collecting; this keeps the reason in front of whoever ran `npm test`
 * without adding a line to a run where nothing is skipped.
 */
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { SKIPPED_TITLE } from './skip-notice';

interface SkippedSuite {
  file: string;
  title: string;
  reason: string;
  tests: number;
}

export default class SkipSummaryReporter implements Reporter {
  #vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.#vitest = vitest;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped = new Map<string, SkippedSuite>();
    for (const module of testModules) {
      for (const test of module.children.allTests('skipped')) {
        // The outermost suite (or the test itself) whose title names a reason.
        const titles: string[] = [test.name];
        for (let parent = test.parent; parent.type === 'suite'; parent = parent.parent)
          titles.unshift(parent.name);
        const index = titles.findIndex((t) => SKIPPED_TITLE.test(t));
        if (index < 0) continue;
        const title = titles[index]!;
        const key = `${module.moduleId}\0${title}`;
        const entry = skipped.get(key) ?? {
          file: module.relativeModuleId,
          title: title.replace(SKIPPED_TITLE, '').trimEnd(),
          reason: SKIPPED_TITLE.exec(title)![1]!,
          tests: 0,
        };
        entry.tests += 1;
        skipped.set(key, entry);
      }
    }
    if (skipped.size === 0) return;
    const lines = [
      '',
      `⚠️  ${skipped.size} suite(s) SKIPPED; their tests did not run (CI sets STAGESIGN_REQUIRE_INTEGRATION=1 and fails instead):`,
      ...[...skipped.values()].map(
        (s) => `   ${s.file} › ${s.title}: ${s.tests} test(s) skipped: ${s.reason}`,
      ),
      '',
    ];
    const log = this.#vitest?.logger;
    for (const line of lines) {
      if (log) log.log(line);
      else process.stdout.write(`${line}\n`);
    }
  }
}
