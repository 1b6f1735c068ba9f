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
import { progressPattern, recordedProgressLines, recordProgressLines } from './progress-lines.ts';
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
    await recordProgressLines(page, '.job-progress > .muted');
    await form.getByRole('button', { name: tr('evalStart.start') }).click();
    await page.getByRole('progressbar', { name: tr('evalStart.progress') }).waitFor();
    // the progress is spaced from Start as Start is from the field above it (it sat flush under the button)
    const gaps = await form.evaluate((el) => {
      const actions = el.querySelector('.row-actions')!;
      const progress = el.querySelector('[role="progressbar"]')?.closest('.job-progress');
      const above = actions.previousElementSibling!.getBoundingClientRect();
      const box = actions.getBoundingClientRect();
      return { fieldToStart: box.top - above.bottom, startToProgress: progress ? progress.getBoundingClientRect().top - box.bottom : null };
    });
    expect(gaps.fieldToStart).toBeGreaterThan(0);
    expect(gaps.startToProgress).toBeCloseTo(gaps.fieldToStart, 0);
    // Cancel sits on the bar's line, centred on it (the .field-row button margin pushed it below the bar)
    const bar = (await page.getByRole('progressbar', { name: tr('evalStart.progress') }).boundingBox())!;
    const cancel = (await form.getByRole('button', { name: tr('common.cancel'), exact: true }).boundingBox())!;
    expect(Math.abs(cancel.y + cancel.height / 2 - (bar.y + bar.height / 2))).toBeLessThan(1.5);
    expect(cancel.x).toBeGreaterThan(bar.x + bar.width);
    // the progress line is the job's phrase in the UI's language (it was the core's English on the Korean page too)
    // (a batch line "base model: batch 7/9" / "기본 모델: 배치 7/9" for whichever side it is measuring)
    const batchLines = (['base', 'adapter', 'trained'] as const).map((side) =>
      progressPattern('core.progress.evalBatch', { side, batch: 7, total: 9 }),
    );
    const line = form.locator('.job-progress > .muted');
    await expect
      .poll(async () => {
        const text = (await line.textContent()) ?? '';
        return batchLines.some((re) => re.test(text)) ? 'a batch line' : text;
      }, { timeout: 60_000 })
      .toBe('a batch line');
    await screenshot(page, 'evaluate-start-running.png');
    await page.getByRole('button', { name: tr('common.cancel'), exact: true }).click();
    await page.getByText(tr('evalStart.cancelled')).waitFor({ timeout: 30_000 });
    await table.getByText(tr('status.cancelled')).waitFor();
    // Every line under the bar was said in the UI's language, Cancel's too: the job's phrases, the page's "Starting…"
    // and the catalogue's "Cancelling…" (the job row's English "cancelling…" replaced the line after Cancel, in
    // English on the Korean page)
    const lines = await recordedProgressLines(page);
    const said = [
      ...batchLines,
      ...(['base', 'adapter', 'trained'] as const).map((side) => progressPattern('core.progress.evalLoading', { side })),
      progressPattern('core.progress.loadingData'),
      progressPattern('core.progress.loadingModel'),
    ];
    const known = [tr('evalStart.starting'), tr('job.cancelling')];
    expect(lines.filter((text) => !known.includes(text) && !said.some((re) => re.test(text)))).toEqual([]);
    expect(lines).toContain(tr('job.cancelling'));
    const evaluations = await serve.invoke<{ status: string; examples: number }[]>('evaluations.list', { projectId });
    expect(evaluations.map((e) => e.status)).toEqual(['cancelled', 'succeeded']);
    expect(errors).toEqual([]);
    await context.close();
  });
});
