// Evaluate's per-example table and the run page's log tail in headless Chromium against a real `serve`: a
// tiny model fine-tuned and evaluated through the API, its examples listed with perplexity before and after
// in the order the core sorts them, one opened in Chat with its text in the message box, and the run's log.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationExampleRow } from '../../src/common/api/runs.ts';
import { formatMetric } from '../../src/renderer/src/format.ts';
import {
  buildRenderer,
  collectPageErrors,
  launchChromium,
  newStudioContext,
  screenshot,
  tr,
  startServe,
  type ServeProcess,
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

describe('Evaluate examples and the run log in the browser', () => {
  it('lists an evaluation’s examples by change, re-sorts them, opens one in Chat, and shows the run’s log', async () => {
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Examples check' });
    const files = await tinyModelAndData(serve);
    const run = await trainTinyRun(serve, project.id, files, 'sums r4', 4, 6);
    const started = await serve.invoke<{ id: string }>('evaluations.start', { projectId: project.id, runId: run.id });
    const deadline = Date.now() + 150_000;
    for (;;) {
      const { evaluation } = await serve.invoke<{ evaluation: { status: string; error: string | null } }>(
        'evaluations.get',
        { id: started.id },
      );
      if (evaluation.status !== 'running' && evaluation.status !== 'queued') {
        expect(evaluation.status, `the evaluation ended ${evaluation.status}: ${evaluation.error}`).toBe('succeeded');
        break;
      }
      if (Date.now() > deadline) throw new Error('the evaluation did not end in 150 s');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const improved = await serve.invoke<{ total: number; examples: EvaluationExampleRow[] }>('evaluations.examples', {
      id: started.id,
      limit: 25,
    });
    expect(improved.total).toBe(6); // a quarter of 24 rows held out

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openPage(page, serve, 'Examples check', tr('nav.evaluate'));
    const table = page.getByRole('table', { name: tr('evaluate.examplesOf', { title: 'sums r4' }) });
    await table.waitFor();
    const rows = table.locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(6);
    // The page shows the core's order and numbers: most improved first.
    const first = improved.examples[0];
    await expect.poll(() => rows.first().locator('td').first().textContent()).toBe(String(first.index + 1));
    expect(await rows.first().textContent()).toContain(formatMetric(first.basePerplexity));
    expect(await rows.first().textContent()).toContain(formatMetric(first.adapterPerplexity));
    await page.getByText(tr('evaluate.range', { from: 1, to: 6, total: 6 })).waitFor();
    // The before/after chart: a base and a tuned bar for each of the 6 examples shown.
    const chart = page.getByRole('img', { name: tr('evaluate.chartLabel', { title: 'sums r4' }) });
    await expect.poll(() => chart.locator('.recharts-bar-rectangle').count(), { timeout: 10_000 }).toBe(12);
    await screenshot(page, 'evaluate-examples.png');

    const worsened = await serve.invoke<{ examples: EvaluationExampleRow[] }>('evaluations.examples', {
      id: started.id,
      order: 'desc',
    });
    await page.getByLabel(tr('evaluate.sortExamples')).selectOption({ label: tr('evaluate.sort.worsened') });
    await expect
      .poll(() => rows.first().locator('td').first().textContent())
      .toBe(String(worsened.examples[0].index + 1));

    await rows
      .first()
      .getByRole('link', { name: tr('evaluate.openInChat') })
      .click();
    await page.getByRole('heading', { level: 1, name: tr('nav.chat') }).waitFor();
    expect(decodeURIComponent(new URL(page.url()).hash)).toContain(`#/chat/new/${run.id}/`);
    // The example's text without the template's special tokens, which Chat's own template adds again.
    const expected = worsened.examples[0].text.replace(/<\|[^|<>\s]{1,40}\|>|<\/?s>/g, '').trim();
    expect(expected).toMatch(/^Q: what is \d+ plus one\?\nA: \d+$/);
    await expect.poll(() => page.getByLabel(tr('chat.messageLabel')).inputValue(), { timeout: 10_000 }).toBe(expected);

    await page.goto(`${serve.url}#/runs/${run.id}`);
    const log = page.getByLabel(tr('run.lastLogLines'));
    await log.waitFor();
    const logged = await serve.invoke<{ line: string }[]>('jobs.logTail', { id: run.jobId, lines: 200 });
    expect(logged.length).toBeGreaterThan(0);
    expect(await log.textContent()).toContain(logged[logged.length - 1].line);
    await screenshot(page, 'run-log-tail.png');
    expect(errors).toEqual([]);
    await context.close();
  }, 300_000);
  it('follows a running job’s log live on the run page', async () => {
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Log check' });
    const files = await tinyModelAndData(serve);
    const steps = 400;
    const run = await serve.invoke<{ id: string; jobId: string }>('runs.start', {
      projectId: project.id,
      name: 'long enough to watch',
      config: {
        model: files.model,
        dataset: { path: files.dataset, template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.25 } },
        lora: { r: 2, lora_alpha: 4 },
        max_steps: steps,
        micro_batch_size: 2,
        gradient_accumulation_steps: 1,
        max_seq_length: 32,
      },
    });
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${serve.url}#/runs/${run.id}`);
    await page.getByRole('heading', { name: tr('run.log'), exact: true }).waitFor();
    // The page loaded its log while the run was still training, so its last line can only arrive as an event.
    const status = (await serve.invoke<{ status: string }>('runs.get', { id: run.id })).status;
    expect(status, 'the run ended before the page opened: raise the steps').toMatch(/running|queued/);
    const finalEval = new RegExp(`step ${steps}: eval loss`);
    await expect
      .poll(() => page.getByLabel(tr('run.lastLogLines')).textContent(), { timeout: 90_000, interval: 500 })
      .toMatch(finalEval);
    const logged = await serve.invoke<{ line: string }[]>('jobs.logTail', { id: run.jobId });
    expect(logged.some((entry) => finalEval.test(entry.line))).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  }, 200_000);
});
