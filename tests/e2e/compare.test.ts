// Compare runs in headless Chromium against a real `serve`: two tiny fine-tunes of different rank, picked on the
// page, get their training and evaluation loss overlaid (one line per run) and their final numbers in a table
// that matches the core's run summaries and adapter sizes.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes, formatMetric } from '../../src/renderer/src/format.ts';
import {
  buildRenderer,
  collectPageErrors,
  launchChromium,
  newStudioContext,
  screenshot,
  startServe,
  type ServeProcess,
  tr,
} from './harness.ts';
import { openPage, tinyModelAndData, trainTinyRun } from './tiny-runs.ts';

let serve: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  buildRenderer();
  serve = await startServe();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('Compare runs in the browser', () => {
  it('overlays two runs’ loss curves and tables their final numbers', async () => {
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Compare check' });
    const files = await tinyModelAndData(serve);
    const small = await trainTinyRun(serve, project.id, files, 'rank 2', 2, 4);
    const large = await trainTinyRun(serve, project.id, files, 'rank 8', 8, 4);
    const adapters = await serve.invoke<{ runId: string | null; sizeBytes: number }[]>('adapters.list', {
      projectId: project.id,
    });

    for (const scheme of ['light', 'dark'] as const) {
      const context = await newStudioContext(browser, scheme);
      const page = await context.newPage();
      const errors = collectPageErrors(page);
      await openPage(page, serve, 'Compare check', tr('nav.compare'));
      await page.getByRole('heading', { name: tr('compare.pickTitle') }).waitFor();
      await page.getByRole('checkbox', { name: 'rank 2 · LoRA r 2 / α 4' }).check();
      await page.getByRole('checkbox', { name: 'rank 8 · LoRA r 8 / α 16' }).check();

      const train = page.getByRole('img', { name: tr('compare.trainingLossLabel') });
      await expect.poll(() => train.locator('.recharts-line-curve').count(), { timeout: 20_000 }).toBe(2); // one line per run
      const evaluation = page.getByRole('img', { name: tr('compare.evaluationLossLabel') });
      await expect.poll(() => evaluation.locator('.recharts-line-curve').count(), { timeout: 20_000 }).toBe(2);

      const table = page.getByRole('table', { name: tr('compare.compared') });
      for (const run of [small, large]) {
        const row = table.getByRole('row').filter({ hasText: run.name });
        await row.getByText(formatMetric(run.summary!.trainLoss), { exact: true }).waitFor();
        await row.getByText(formatMetric(run.summary!.evalLoss), { exact: true }).waitFor();
        await row.getByText(formatMetric(run.summary!.evalPerplexity), { exact: true }).waitFor();
        await row
          .getByText(formatBytes(adapters.find((a) => a.runId === run.id)!.sizeBytes), { exact: true })
          .waitFor();
      }
      // The rank-8 adapter is the larger file: the table shows the cost of the setting.
      expect(adapters.find((a) => a.runId === large.id)!.sizeBytes).toBeGreaterThan(
        adapters.find((a) => a.runId === small.id)!.sizeBytes,
      );
      await screenshot(page, `compare-${scheme}.png`);
      expect(errors).toEqual([]);
      await context.close();
    }
  });
});
