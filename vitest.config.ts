import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const KOREAN_E2E = ['settings.test.ts', 'chat.test.ts', 'chat-gone-pane.test.ts', 'datasets-report.test.ts', 'exports.test.ts', 'adapters.test.ts', 'compare.test.ts', 'datasets.test.ts', 'wizard-focus.test.ts', 'projects.test.ts', 'wizard.test.ts', 'evaluate-start.test.ts', 'export-guard.test.ts', 'publish.test.ts', 'evaluate.test.ts', 'run-elsewhere.test.ts', 'runs.test.ts', 'run-page.test.ts', 'unreadable-records.test.ts', 'after-demo.test.ts', 'journey.test.ts', 'fresh-install.test.ts', 'try-it.test.ts', 'task-run-evaluate.test.ts', 'wizard-task.test.ts', 'task-export.test.ts', 'compare-methods.test.ts', 'fusion-chat-eval.test.ts', 'fusion.test.ts', 'fusion-task-try.test.ts', 'ship.test.ts'];

// The files that take a minute or more each (measured in the CI runs). Two workers share the CI machine's 2 cores;
// started last (a fresh clone has no timing cache, so vitest orders by file size and these short files come last)
// they would leave one worker idle at the end. Started first, the short files fill the other worker meanwhile.
const LONGEST_FIRST = [
  'tests/demo/demo-task-qa.test.ts',
  'tests/demo/demo-fusion.test.ts',
  'tests/demo/demo-task-classification.test.ts',
  'tests/demo/demo.test.ts',
  'tests/e2e/balanced-defaults.test.ts',
  'tests/e2e/journey.test.ts',
  'tests/e2e/task-run-evaluate.test.ts',
  'tests/e2e/try-it.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((name) => f.moduleId.replaceAll('\\', '/').endsWith(name));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    // within each project (vitest's project order kept), the listed files first, then vitest's own order
    const projects = [...new Set(sorted.map((f) => f.project.name))];
    return projects.flatMap((name) =>
      sorted
        .filter((f) => f.project.name === name)
        .map((f, i) => ({ f, i }))
        .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
        .map(({ f }) => f),
    );
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/e2e/**'],
          // A hang guard, not a speed check: the longest unit test takes ~23 s alone on the CI machine and up to about
          // twice that while another file shares its 2 cores (maxWorkers below).
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // vitest's default on a 2-core machine is one worker (cores − 1), which leaves a core idle while a test
          // waits on a child process or runs single-threaded JS; every file has its own temporary dirs.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/e2e/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // two files at once: each has its own serve, data dir, port and Chromium (studioPerFile), and the renderer
          // is built once by the global setup, so no file rebuilds it under another
          maxWorkers: 2,
        },
      },
      {
        // The same browser tests with the UI in Korean (the studio's second language): the files whose pages
        // take every string from the catalogue (src/renderer/src/i18n) and whose selectors go through tr().
        test: {
          name: 'e2e-ko',
          include: KOREAN_E2E.map((file) => `tests/e2e/${file}`),
          globalSetup: ['tests/e2e/global-setup.ts'],
          env: { LORA_STUDIO_E2E_LOCALE: 'ko' },
          testTimeout: 180_000,
          hookTimeout: 180_000,
          maxWorkers: 2,
        },
      },
    ],
  },
});
