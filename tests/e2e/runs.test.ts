// Runs and evaluations in headless Chromium against a real `lora-studio serve`: work started through the
// API (as the CLI or another window would) appears on the Runs and Evaluate pages live, failures with the
// core's error, and a tiny generated model's real fine-tune and evaluation with their numbers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMetric, perplexityChange } from '../../src/renderer/src/format.ts';
import { makeTinyModel } from '../fixtures/tiny-models.ts';
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
import { overflows } from './layout-fits.ts';

interface ProjectRow {
  id: string;
  name: string;
}

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

const projectTable = (page: Page) => page.getByRole('table', { name: tr('nav.projects') });
const countRuns = async () => (await serve.invoke<unknown[]>('runs.list', {})).length;

/** Polls the core until a run or evaluation has ended, so a failure reads as the core's error, not a UI timeout. */
async function waitUntilEnded(
  get: () => Promise<{ status: string; error: string | null }>,
  what: string,
): Promise<void> {
  const deadline = Date.now() + 150_000;
  for (;;) {
    const record = await get();
    if (record.status !== 'running' && record.status !== 'queued') {
      expect(record.status, `${what} ended ${record.status}: ${record.error}`).toBe('succeeded');
      return;
    }
    if (Date.now() > deadline) throw new Error(`${what} still ${record.status} after 150 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('Runs in the browser', () => {
  it('lists the current project’s runs and evaluations live: work started elsewhere appears and its failure shows without a reload', async () => {
    const project = await serve.invoke<ProjectRow>('projects.create', { name: 'Runs check' });
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await projectTable(page).waitFor();
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Runs check' });
    await page
      .getByRole('navigation', { name: tr('app.navLabel') })
      .getByRole('link', { name: tr('nav.runs'), exact: true })
      .click();
    await page.getByRole('heading', { name: tr('runs.none', { project: 'Runs check' }) }).waitFor();
    await screenshot(page, 'runs-empty.png');
    // The header's actions (Import run…, Compare LoRA vs full / sweep, New fine-tune) are one row of equal buttons:
    // the comparison button was the small size between two full-size ones.
    const actionHeights = await page
      .locator('.page-actions > .btn')
      .evaluateAll((buttons) => buttons.map((button) => Math.round(button.getBoundingClientRect().height)));
    expect(actionHeights).toHaveLength(3);
    expect(new Set(actionHeights).size).toBe(1);

    // Started through the API (as the CLI would). The inputs pass the checks made before a run is recorded (the
    // folder has a config.json, the dataset file exists), but the folder holds no tokenizer or weights, so the
    // worker fails fast: the failure a user sees on a run that had started.
    const missing = join(serve.dataDir, 'broken-model');
    mkdirSync(missing, { recursive: true });
    writeFileSync(join(missing, 'config.json'), '{}\n');
    const dataPath = join(serve.dataDir, 'broken-data.jsonl');
    writeFileSync(dataPath, JSON.stringify({ prompt: 'Q', completion: ' A' }) + '\n');
    const run = await serve.invoke<{ id: string; name: string }>('runs.start', {
      projectId: project.id,
      config: { model: missing, dataset: { path: dataPath } },
    });
    const runs = page.getByRole('table', { name: tr('nav.runs') });
    await runs.getByText(run.name, { exact: true }).waitFor();
    await runs.getByText(tr('status.failed'), { exact: true }).waitFor({ timeout: 30_000 });
    const failed = await serve.invoke<{ status: string; error: string | null }>('runs.get', { id: run.id });
    expect(failed.status).toBe('failed');
    expect(failed.error).toBeTruthy();
    await runs.getByText(failed.error as string, { exact: true }).waitFor();
    await screenshot(page, 'runs-failed.png');

    // Evaluations follow the same pattern on the Evaluate page.
    await page
      .getByRole('navigation', { name: tr('app.navLabel') })
      .getByRole('link', { name: tr('nav.evaluate'), exact: true })
      .click();
    await page.getByRole('heading', { name: tr('evaluate.none', { project: 'Runs check' }) }).waitFor();
    const evaluation = await serve.invoke<{ id: string }>('evaluations.start', {
      projectId: project.id,
      model: missing,
      dataset: { path: dataPath },
    });
    const evaluations = page.getByRole('table', { name: tr('evaluate.evaluations') });
    await evaluations.getByText('broken-model', { exact: true }).waitFor();
    await evaluations.getByText(tr('status.failed'), { exact: true }).waitFor({ timeout: 30_000 });
    const failedEvaluation = await serve.invoke<{ evaluation: { error: string | null } }>('evaluations.get', {
      id: evaluation.id,
    });
    await evaluations.getByText(failedEvaluation.evaluation.error as string, { exact: true }).waitFor();
    await screenshot(page, 'evaluate-failed.png');
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('A real fine-tune in the browser', () => {
  it('shows a tiny model’s run finishing with its losses, and its evaluation with perplexity before and after', async () => {
    const project = await serve.invoke<ProjectRow>('projects.create', { name: 'Tiny fine-tune' });
    const modelDir = join(serve.dataDir, 'tiny-llama');
    await makeTinyModel(modelDir, 'llama', { seed: 5 });
    const datasetPath = join(serve.dataDir, 'sums.jsonl');
    const rows = Array.from({ length: 24 }, (_, i) => ({
      prompt: `Q: what is ${i} plus one?\nA:`,
      completion: ` ${i + 1}`,
    }));
    writeFileSync(datasetPath, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await projectTable(page).waitFor();
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Tiny fine-tune' });
    await page
      .getByRole('navigation', { name: tr('app.navLabel') })
      .getByRole('link', { name: tr('nav.runs'), exact: true })
      .click();
    await page.getByRole('heading', { name: tr('runs.none', { project: 'Tiny fine-tune' }) }).waitFor();

    const started = await serve.invoke<{ id: string; name: string }>('runs.start', {
      projectId: project.id,
      name: 'sums r4',
      config: {
        model: modelDir,
        dataset: { path: datasetPath, template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.25 } },
        lora: { r: 4, lora_alpha: 8 },
        max_steps: 6,
        micro_batch_size: 2,
        gradient_accumulation_steps: 1,
        learning_rate: 5e-3,
        max_seq_length: 32,
      },
    });
    const runs = page.getByRole('table', { name: tr('nav.runs') });
    await runs.getByText('sums r4', { exact: true }).waitFor();
    await waitUntilEnded(() => serve.invoke('runs.get', { id: started.id }), 'the run');
    await runs.getByText(tr('status.succeeded'), { exact: true }).waitFor();
    const run = await serve.invoke<{
      summary: { trainLoss: number; evalLoss: number; steps: number; totalSteps: number };
    }>('runs.get', { id: started.id });
    await runs.getByText(formatMetric(run.summary.trainLoss), { exact: true }).waitFor();
    await runs.getByText(formatMetric(run.summary.evalLoss), { exact: true }).waitFor();
    await runs
      .getByText(tr('runs.steps', { steps: run.summary.steps, total: run.summary.totalSteps }), { exact: true })
      .waitFor();
    await screenshot(page, 'runs-finished.png');

    // The run's own page: headline numbers, and the loss chart drawn from its logged metrics.
    await runs.getByRole('link', { name: 'sums r4' }).click();
    await page.getByRole('heading', { level: 1, name: 'sums r4' }).waitFor();
    expect(page.url()).toBe(`${serve.origin}/#/runs/${started.id}`);
    const lossChart = page.getByRole('img', { name: tr('run.lossChart') });
    await lossChart.locator('.recharts-line-curve').first().waitFor();
    await expect(lossChart.locator('.recharts-line-curve').count()).resolves.toBe(2); // train and eval loss
    await page.getByRole('img', { name: tr('run.learningRateChart') }).waitFor();
    await page.getByText(formatMetric(run.summary.trainLoss), { exact: true }).first().waitFor();
    await screenshot(page, 'run-detail.png');
    await page.getByRole('img', { name: tr('run.learningRateChart') }).scrollIntoViewIfNeeded();
    await screenshot(page, 'run-detail-charts.png');
    await page.getByRole('link', { name: tr('run.allRuns') }).click();
    await runs.waitFor();

    await page
      .getByRole('navigation', { name: tr('app.navLabel') })
      .getByRole('link', { name: tr('nav.evaluate'), exact: true })
      .click();
    await page.getByRole('heading', { name: tr('evaluate.none', { project: 'Tiny fine-tune' }) }).waitFor();
    const evaluationStarted = await serve.invoke<{ id: string }>('evaluations.start', {
      projectId: project.id,
      runId: started.id,
    });
    const evaluations = page.getByRole('table', { name: tr('evaluate.evaluations') });
    await waitUntilEnded(
      async () =>
        (
          await serve.invoke<{ evaluation: { status: string; error: string | null } }>('evaluations.get', {
            id: evaluationStarted.id,
          })
        ).evaluation,
      'the evaluation',
    );
    await evaluations.getByText(tr('status.succeeded'), { exact: true }).waitFor();
    await evaluations.getByText('sums r4', { exact: true }).waitFor();
    const { evaluation } = await serve.invoke<{ evaluation: { basePerplexity: number; adapterPerplexity: number } }>(
      'evaluations.get',
      {
        id: evaluationStarted.id,
      },
    );
    await evaluations.getByText(formatMetric(evaluation.basePerplexity), { exact: true }).waitFor();
    await evaluations.getByText(formatMetric(evaluation.adapterPerplexity), { exact: true }).waitFor();
    const change = perplexityChange(evaluation) as number;
    await evaluations
      .getByText(`${change < 0 ? '−' : '+'}${percent(Math.abs(change))}`, { exact: true })
      .waitFor();
    await screenshot(page, 'evaluate-finished.png');
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('Starting a fine-tune from the browser', () => {
  it('checks the quick-start form, starts the run and follows it to the end on its page', async () => {
    await serve.invoke<ProjectRow>('projects.create', { name: 'Form fine-tune' });
    const modelDir = join(serve.dataDir, 'form-llama');
    await makeTinyModel(modelDir, 'llama', { seed: 7 });
    const datasetPath = join(serve.dataDir, 'notes.jsonl');
    const rows = Array.from({ length: 16 }, (_, i) => ({
      text: `Note ${i}: the adapter learns the studio's house style, line ${i}.`,
    }));
    writeFileSync(datasetPath, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await projectTable(page).waitFor();
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Form fine-tune' });
    await page
      .getByRole('navigation', { name: tr('app.navLabel') })
      .getByRole('link', { name: tr('nav.new'), exact: true })
      .click();
    await page.getByRole('link', { name: tr('wizard.quickStart'), exact: true }).click(); // the one-form path beside the wizard

    // Nothing filled in: the form names what is missing and starts nothing.
    const runsBefore = await countRuns();
    await page.getByRole('button', { name: tr('quick.start') }).click();
    await page.getByText(tr('form.enterModel')).waitFor();
    await page.getByText(tr('form.enterDataset')).waitFor();
    await page.getByLabel(tr('quick.rank')).fill('four');
    await page.getByRole('button', { name: tr('quick.start') }).click();
    await page.getByText(tr('form.notNumber', { text: 'four' })).waitFor();
    await screenshot(page, 'new-fine-tune-errors.png');
    expect(await countRuns()).toBe(runsBefore);

    await page.getByLabel(tr('exports.baseFolder')).fill(modelDir);
    await page.getByLabel(tr('datasets.file')).fill(datasetPath);
    await page.getByLabel(tr('run.name')).fill('from the form');
    await page.getByLabel(tr('quick.rank')).fill('4');
    await page.getByLabel(tr('quick.alpha')).fill('8');
    await page.getByLabel(tr('run.learningRate')).fill('0.005');
    await page.getByLabel(tr('quick.maxSteps')).fill('4');
    await page.getByLabel(tr('quick.maxSeqLength')).fill('32');
    await page.getByLabel(tr('quick.evalShare')).fill('0.25');
    await screenshot(page, 'new-fine-tune.png');
    await page.getByRole('button', { name: tr('quick.start') }).click();

    await page.getByRole('heading', { level: 1, name: 'from the form' }).waitFor();
    const runId = decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
    const started = await serve.invoke<{
      config: { lora: { r: number; lora_alpha: number }; max_steps: number; learning_rate: number };
    }>('runs.get', { id: runId });
    expect(started.config).toMatchObject({ lora: { r: 4, lora_alpha: 8 }, max_steps: 4, learning_rate: 0.005 });
    await waitUntilEnded(() => serve.invoke('runs.get', { id: runId }), 'the run started from the form');
    await page.getByText(tr('status.succeeded'), { exact: true }).waitFor();
    await page
      .getByRole('img', { name: tr('run.lossChart') })
      .locator('.recharts-line-curve')
      .first()
      .waitFor();
    await page.getByText(tr('runs.steps', { steps: 4, total: 4 }), { exact: false }).waitFor();
    await screenshot(page, 'run-from-form.png');
    // A finished run's page has seven header actions: they wrap below the title inside the window, and the title
    // keeps its width (it was squeezed to a word a line while "Run elsewhere…" ran past the window's right edge).
    expect(await overflows(page, ['.page-header'])).toEqual([]);
    const title = await page.getByRole('heading', { level: 1, name: 'from the form' }).evaluate((h1) => ({
      height: h1.getBoundingClientRect().height,
      line: parseFloat(getComputedStyle(h1).lineHeight),
    }));
    expect(title.height).toBeLessThan(title.line * 1.5);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('Cancelling from the Runs list', () => {
  it('asks with the run page’s dialog (no browser confirm), keeps a checkpoint and offers Resume from its step', async () => {
    const project = await serve.invoke<ProjectRow>('projects.create', { name: 'List cancel' });
    const modelDir = join(serve.dataDir, 'cancel-llama');
    await makeTinyModel(modelDir, 'llama', { seed: 9 });
    const datasetPath = join(serve.dataDir, 'cancel.jsonl');
    const rows = Array.from({ length: 16 }, (_, i) => ({ prompt: `Q: ${i} plus two?\nA:`, completion: ` ${i + 2}` }));
    writeFileSync(datasetPath, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    // Far more steps than the test waits for, and the default save_steps: the checkpoint comes from the cancel.
    const started = await serve.invoke<{ id: string; name: string }>('runs.start', {
      projectId: project.id,
      name: 'long one',
      config: {
        model: modelDir,
        dataset: { path: datasetPath, template: { kind: 'plain' } },
        lora: { r: 4, lora_alpha: 8 },
        max_steps: 100_000,
        micro_batch_size: 2,
        max_seq_length: 32,
      },
    });

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const nativeDialogs: string[] = [];
    page.on('dialog', (dialog) => {
      nativeDialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(serve.url);
    await projectTable(page).waitFor();
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'List cancel' });
    await page
      .getByRole('navigation', { name: tr('app.navLabel') })
      .getByRole('link', { name: tr('nav.runs'), exact: true })
      .click();
    const runs = page.getByRole('table', { name: tr('nav.runs') });
    await runs.getByText(tr('status.running'), { exact: true }).waitFor({ timeout: 60_000 });
    await expect
      .poll(async () => (await serve.invoke<unknown[]>('runs.metrics', { id: started.id })).length, { timeout: 60_000 })
      .toBeGreaterThan(0);

    const cancel = runs.getByRole('button', { name: tr('runs.cancelLabel', { name: 'long one' }) });
    const dialog = page.getByRole('dialog', { name: tr('run.cancelTitle') });
    await cancel.click();
    await dialog.getByText(tr('run.cancelBody')).waitFor();
    await screenshot(page, 'runs-list-cancel-dialog.png');
    await dialog.getByRole('button', { name: tr('run.keepTraining') }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await serve.invoke<{ status: string }>('runs.get', { id: started.id })).status).toBe('running');

    await cancel.click();
    await dialog.getByRole('button', { name: tr('run.cancelRun') }).click();
    await dialog.waitFor({ state: 'hidden' });
    await runs.getByText(tr('status.cancelled'), { exact: true }).waitFor({ timeout: 60_000 });
    const cancelled = await serve.invoke<{ status: string; checkpointStep: number | null }>('runs.get', {
      id: started.id,
    });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.checkpointStep).toBeGreaterThan(0);
    await runs
      .getByRole('button', { name: tr('runs.resumeLabel', { name: 'long one', step: cancelled.checkpointStep! }) })
      .waitFor();
    await screenshot(page, 'runs-list-cancelled.png');
    expect(nativeDialogs).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
