import { defineConfig } from 'vitest/config';

const KOREAN_E2E = ['settings.test.ts', 'chat.test.ts', 'datasets-report.test.ts', 'exports.test.ts', 'adapters.test.ts', 'compare.test.ts', 'datasets.test.ts', 'wizard-focus.test.ts', 'projects.test.ts', 'wizard.test.ts', 'evaluate-start.test.ts', 'export-guard.test.ts', 'publish.test.ts', 'evaluate.test.ts', 'run-elsewhere.test.ts', 'runs.test.ts', 'run-page.test.ts', 'unreadable-records.test.ts', 'after-demo.test.ts', 'journey.test.ts', 'fresh-install.test.ts', 'try-it.test.ts', 'task-run-evaluate.test.ts', 'wizard-task.test.ts', 'task-export.test.ts', 'compare-methods.test.ts', 'fusion-chat-eval.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/e2e/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/e2e/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
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
          fileParallelism: false,
        },
      },
    ],
  },
});
