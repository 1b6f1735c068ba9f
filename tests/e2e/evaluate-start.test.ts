// Starting an evaluation from the Evaluate page with "an adapter and a dataset" (every row of a project dataset,
// base and tuned in one job, one row), and cancelling one while it runs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import {
  buildRenderer,
  collectPageErrors,
  launchChromium,
  newStudioContext,
  percent,
  screenshot,
  startServe,
  tr,
  type ServeProcess,
} from './harness.ts';
import { importDataset, tinyModelAndData, trainTinyRun } from './tiny-runs.ts';
import type { Evaluation } from '../../src/common/api/runs.ts';
import { perplexityChange } from '../../src/renderer/src/format.ts';

let serve: ServeProcess;
let browser: Browser;
let projectId: string;

beforeAll(async () => {
  buildRenderer();
  serve = await startServe();
  projectId = (await serve.invoke<{ id: string }>('projects.create', { name: 'Evaluate' })).id;
  const files = await tinyModelAndData(serve);
  await trainTinyRun(serve, projectId, files, 'sums r4');
  await importDataset(serve, projectId, files.dataset, 'sums');
  // Enough rows that measuring them takes a while: something to cancel.
  const big = join(serve.dataDir, 'many-sums.jsonl');
  writeFileSync(
    big,
    Array.from({ length: 40_000 }, (_, i) =>
      JSON.stringify({ prompt: `Q: what is ${i} plus one?\nA:`, completion: ` ${i + 1}` }),
    ).join('\n') + '\n',
  );
  await importDataset(serve, projectId, big, 'many sums');
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('Evaluate: start from the page', () => {
  it('measures an adapter on every row of a dataset in one row, and cancels a running evaluation', async () => {
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Evaluate' });
    await page.goto(`${serve.url}#/evaluate`);
    const form = page.getByRole('form', { name: tr('evalStart.title') });
    // a decoder adapter is measured by perplexity, and the page's intro says so (a task run's says its metrics)
    await expect.poll(() => page.locator('.page-description').innerText()).toBe(tr('evaluate.description'));
    await form.getByRole('radio', { name: tr('evalStart.anAdapter') }).check();
    await expect
      .poll(() => form.getByLabel(tr('exports.adapter'), { exact: true }).locator('option:checked').textContent())
      .toBe(`sums r4${tr('adapters.onBase', { model: 'tiny-llama' })}`);
    await form
      .getByLabel(tr('evalStart.measuredOn'), { exact: true })
      .selectOption({ label: tr('evalStart.everyRow', { name: 'sums', rows: 24 }) });
    await form.getByRole('button', { name: tr('evalStart.start') }).click();
    const table = page.getByRole('table', { name: tr('evaluate.evaluations') });
    await table.getByText(tr('status.succeeded')).waitFor({ timeout: 60_000 });
    const row = table.locator('tbody tr').first();
    expect(await row.textContent()).toContain(
      `sums r4${tr('evaluate.adapterOn', { model: 'tiny-llama' })}${tr('evaluate.counts', { examples: 24, tokens: 0 }).split(',')[0] /* the token count varies */}`,
    ); // named after its run
    const cells = await row.locator('td').allInnerTexts();
    expect(Number(cells[2])).toBeGreaterThan(0);
    expect(Number(cells[3])).toBeGreaterThan(0);
    // the change as every share in the UI is written ("−41.9%", not "−41.9 %")
    const [measured] = await serve.invoke<Evaluation[]>('evaluations.list', { projectId });
    const change = perplexityChange(measured!)!;
    expect(cells[4]).toBe(`${change < 0 ? '−' : '+'}${percent(Math.abs(change))}`);
    await screenshot(page, 'evaluate-start-adapter.png');

    // A long one: its progress shows with a Cancel, which stops it.
    await form
      .getByLabel(tr('evalStart.measuredOn'), { exact: true })
      .selectOption({ label: tr('evalStart.everyRow', { name: 'many sums', rows: 40_000 }) });
    await form.getByRole('button', { name: tr('evalStart.start') }).click();
    await page.getByRole('progressbar', { name: tr('evalStart.progress') }).waitFor();
    // the progress is spaced from Start as Start is from the field above it (it sat flush under the button)
    const gaps = await form.evaluate((el) => {
      const actions = el.querySelector('.row-actions')!;
      const progress = el.querySelector('[role="progressbar"]')?.closest('.field-row');
      const above = actions.previousElementSibling!.getBoundingClientRect();
      const box = actions.getBoundingClientRect();
      return { fieldToStart: box.top - above.bottom, startToProgress: progress ? progress.getBoundingClientRect().top - box.bottom : null };
    });
    expect(gaps.fieldToStart).toBeGreaterThan(0);
    expect(gaps.startToProgress).toBeCloseTo(gaps.fieldToStart, 0);
    await screenshot(page, 'evaluate-start-running.png');
    await page.getByRole('button', { name: tr('common.cancel'), exact: true }).click();
    await page.getByText(tr('evalStart.cancelled')).waitFor({ timeout: 30_000 });
    await table.getByText(tr('status.cancelled')).waitFor();
    const evaluations = await serve.invoke<{ status: string; examples: number }[]>('evaluations.list', { projectId });
    expect(evaluations.map((e) => e.status)).toEqual(['cancelled', 'succeeded']);
    expect(errors).toEqual([]);
    await context.close();
  });
});
