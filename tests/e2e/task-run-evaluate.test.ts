// The run page and Evaluate for encoder-task runs (issue 14) in Chromium against a real `serve`: a short
// classification LoRA run and a short QA LoRA run on the bundled encoder, started through the API. While the
// classification run trains, its page draws accuracy and macro-F1 at each evaluation (live), then marks the best
// one; its actions are Evaluate / Try it / Export, never Chat or Merge or the decoder bundle. Evaluate, started from
// the run page, measures base (fresh head) and tuned in one job: the scores side by side, the confusion matrix
// (its cells sum to the eval rows) and the worst examples — and `lora-studio eval --run <id> --json` on the same
// data dir gives the same numbers. The QA run: EM/F1 curves, EM/F1 base vs tuned, worst answers, no matrix.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { TaskEvaluateResult } from '../../src/common/api/tasks.ts';
import {
  collectPageErrors,
  newStudioContext,
  percent,
  REPO_ROOT,
  screenshot,
  studioPerFile,
  tr,
  type ServeProcess,
} from './harness.ts';
import { waitForRun, type TinyRun } from './tiny-runs.ts';

const ENCODER = join(REPO_ROOT, 'resources/encoder-model');
const DATA = join(REPO_ROOT, 'resources/encoder-data');
const studio = studioPerFile();
const EVAL_ROWS = 40;

const firstLines = (file: string, n: number) =>
  readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(0, n).join('\n') + '\n';

/** As the page shows a fraction: the UI's one percent formatter ("56.8%", not "56.83 %"). */
const share = percent;

const shared = {
  model: ENCODER,
  method: 'lora',
  lora: { r: 8, lora_alpha: 32, lora_dropout: 0 },
  micro_batch_size: 16,
  gradient_accumulation_steps: 1,
  learning_rate: 3e-3,
  save_steps: null,
};

interface TaskRun extends TinyRun {
  summary:
    | (NonNullable<TinyRun['summary']> & {
        evalMetrics: Record<string, number> | null;
        best: { step: number; metric: string; value: number; path: string } | null;
      })
    | null;
}

function startClassificationRun(serve: ServeProcess, projectId: string): Promise<TaskRun> {
  const train = join(DATA, 'sst2/train.jsonl');
  const evalFile = join(serve.dataDir, 'sst2-eval.jsonl');
  writeFileSync(evalFile, firstLines(join(DATA, 'sst2/validation.jsonl'), EVAL_ROWS));
  return serve.invoke<TaskRun>('runs.start', {
    projectId,
    name: 'sentiment',
    config: {
      ...shared,
      task: 'classification',
      classification: { labels: ['negative', 'positive'] },
      dataset: { path: train, eval_split: { kind: 'file', path: evalFile } },
      max_steps: 600, // long enough to watch: the page is open before the first evaluation (step 100)
      eval_steps: 100,
      max_seq_length: 64,
    },
  });
}

function startQaRun(serve: ServeProcess, projectId: string): Promise<TaskRun> {
  const cut = (file: string, paragraphs: number) => {
    const squad = JSON.parse(readFileSync(file, 'utf8')) as { version: string; data: { paragraphs: unknown[] }[] };
    const data = squad.data.map((d) => ({ ...d, paragraphs: d.paragraphs.slice(0, paragraphs) }));
    return JSON.stringify({ version: squad.version, data });
  };
  const train = join(serve.dataDir, 'train-v1.1.json');
  const dev = join(serve.dataDir, 'dev-v1.1.json');
  writeFileSync(train, cut(join(DATA, 'squad/train-v1.1.json'), 40));
  writeFileSync(dev, cut(join(DATA, 'squad/dev-v1.1.json'), 3));
  return serve.invoke<TaskRun>('runs.start', {
    projectId,
    name: 'frog questions',
    config: {
      ...shared,
      task: 'question-answering',
      question_answering: { doc_stride: 32 },
      dataset: { path: train, eval_split: { kind: 'file', path: dev } },
      max_steps: 40,
      eval_steps: 10,
      max_seq_length: 128,
    },
  });
}

/** `lora-studio eval --run <id> --json` on the server's data dir: the CLI's own core, its own task job. */
function cliEvaluation(serve: ServeProcess, runId: string): TaskEvaluateResult {
  const cli = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'bin/lora-studio.js'), '--data-dir', serve.dataDir, 'eval', '--run', runId, '--json', '--top', '20'],
    { encoding: 'utf8', timeout: 300_000 },
  );
  expect(cli.status, cli.stderr).toBe(0);
  return JSON.parse(cli.stdout) as TaskEvaluateResult;
}

/** A score as the page shows it: the figure's base or tuned value. */
const score = (page: Page, metric: string, side: string) =>
  page.locator(`.task-scores [aria-label="${metric} · ${side}"]`).innerText();

/** The decoder-only things a task run's page must not offer. */
async function expectNoDecoderActions(page: Page) {
  const header = page.locator('.page-header');
  await expect(header.getByRole('link', { name: tr('run.chatWithIt') }).count()).resolves.toBe(0);
  await expect(header.getByRole('link', { name: tr('run.mergeExport') }).count()).resolves.toBe(0);
  await expect(header.getByRole('button', { name: tr('elsewhere.open') }).count()).resolves.toBe(0);
  await expect(page.getByText(tr('run.evalPerplexity'), { exact: true }).count()).resolves.toBe(0);
}

/**
 * Starts the task evaluation on the Evaluate page (reached from the run page) and waits for its report. The page's
 * intro says what will be measured (`intro`: the task's figures, higher is better), never perplexity.
 */
async function evaluateFromRunPage(page: Page, serve: ServeProcess, run: TaskRun, intro: string) {
  await page.goto(`${serve.url}#/runs/${run.id}`);
  await page.getByRole('heading', { name: run.name }).first().waitFor();
  await page.locator('.run-actions').getByRole('link', { name: tr('nav.evaluate'), exact: true }).click();
  await page.getByRole('heading', { level: 1, name: tr('nav.evaluate') }).waitFor();
  await expect.poll(() => page.locator('#eval-run').inputValue(), { timeout: 30_000 }).toBe(run.id);
  const form = page.getByRole('form', { name: tr('taskEval.form') });
  await form.waitFor();
  await expect.poll(() => page.locator('.page-description').innerText()).toBe(intro);
  await form.getByRole('button', { name: tr('evalStart.start') }).click();
  const failed = page.getByRole('alert');
  await page.getByRole('group', { name: tr('taskEval.scores') }).or(failed).first().waitFor({ timeout: 300_000 });
  if (await failed.isVisible()) throw new Error(`the task evaluation failed: ${await failed.innerText()}`);
}

describe('Task runs: run page and Evaluate', () => {
  it('shows task curves live, and Evaluate gives base vs tuned, the confusion matrix and worst examples as the CLI does', async () => {
    const { serve, browser } = studio;
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Task eval' });
    const started = await startClassificationRun(serve, project.id);

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    page.on('response', (response) => {
      if (response.status() >= 400)
        errors.push(`${response.status()} ${response.url()} ${response.request().postData() ?? ''}`);
    });
    await page.goto(serve.url);
    await page.getByRole('table', { name: tr('nav.projects') }).waitFor({ timeout: 60_000 });
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Task eval' });

    // live: the page is open while the run trains, and the task chart appears from job.metric events
    await page.goto(`${serve.url}#/runs/${started.id}`);
    await page.getByRole('heading', { name: 'sentiment' }).first().waitFor();
    const chartLabel = tr('taskRun.chartLabel', {
      metrics: [tr('taskRun.accuracy'), tr('taskRun.macroF1')].join(', '),
    });
    const chart = page.getByRole('img', { name: chartLabel });
    await chart.waitFor({ timeout: 300_000 });
    const whileTraining = await serve.invoke<TaskRun>('runs.get', { id: started.id });
    const run = await waitForRun(serve, started.id, 'sentiment', 600);
    const summary = (run as TaskRun).summary!;
    expect(summary.best).not.toBeNull();
    // the best evaluation is marked where the trainer kept best/
    await expect
      .poll(() => chart.getAttribute('data-best-step'), { timeout: 30_000 })
      .toBe(String(summary.best!.step));
    // (a vertical line has no width: attached, not 'visible')
    await page.locator('.task-metric-chart .recharts-reference-line line').waitFor({ state: 'attached' });
    // two figures, one dot per evaluation (every 100 of 600 steps)
    await expect.poll(() => chart.locator('.recharts-line').count()).toBe(2);
    // the last evaluation's point can arrive (job.metric) and draw a moment after the run row says it ended
    await expect.poll(() => chart.locator('.chart-dot.series-1').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(6);
    const stats = page.locator('.stat-grid');
    await stats.getByText(share(summary.evalMetrics!.eval_accuracy), { exact: true }).first().waitFor();
    await page.getByRole('list', { name: tr('taskRun.labels') }).getByText('positive').waitFor();
    await expectNoDecoderActions(page);
    const actions = page.locator('.run-actions');
    await expect(actions.getByRole('link', { name: tr('taskRun.export'), exact: true }).getAttribute('href')).resolves.toBe(
      `#/exports/${run.id}`,
    );
    await actions.getByRole('link', { name: tr('nav.try'), exact: true }).waitFor();
    await chart.scrollIntoViewIfNeeded();
    await screenshot(page, 'task-run-page-classification.png');
    expect(['running', 'queued']).toContain(whileTraining.status); // the chart came while it trained

    // Evaluate, started from the UI
    await evaluateFromRunPage(page, serve, run as TaskRun, tr('evaluate.descriptionClassification'));
    const base = tr('tryIt.base');
    const tuned = tr('tryIt.tuned');
    const cli = cliEvaluation(serve, run.id);
    expect(cli.examples).toBe(EVAL_ROWS);
    for (const [key, name] of [
      ['eval_accuracy', tr('taskRun.accuracy')],
      ['eval_macro_f1', tr('taskRun.macroF1')],
    ] as const) {
      await expect(score(page, name, tuned)).resolves.toBe(share(cli.tuned.metrics[key]));
      await expect(score(page, name, base)).resolves.toBe(share(cli.base!.metrics[key]));
    }
    // the tuned model learned something its fresh head did not know
    expect(cli.tuned.metrics.eval_accuracy).toBeGreaterThan(cli.base!.metrics.eval_accuracy);
    // the matrix: the CLI's counts, summing to the eval rows
    const grid = page.getByRole('table', { name: tr('taskEval.confusionOf', { side: tuned }) });
    const cells = (await grid.locator('td').allInnerTexts()).map(Number);
    expect(cells.reduce((a, b) => a + b, 0)).toBe(EVAL_ROWS);
    expect(cells).toEqual(cli.tuned.confusionMatrix!.flat());
    await expect(grid.locator('thead th').allInnerTexts()).resolves.toEqual([
      tr('taskEval.goldPredicted'),
      'negative',
      'positive',
    ]);
    const baseGrid = page.getByRole('table', { name: tr('taskEval.confusionOf', { side: base }) });
    expect((await baseGrid.locator('td').allInnerTexts()).map(Number).reduce((a, b) => a + b, 0)).toBe(EVAL_ROWS);
    // worst examples: the CLI's, worst first, each with its text, expected and predicted label
    const worst = page.getByRole('table', { name: tr('taskEval.worst') });
    const rows = worst.locator('tbody tr');
    expect(await rows.count()).toBe(cli.worst.length);
    expect(cli.worst.length).toBeGreaterThan(0);
    const first = rows.first().locator('td');
    await expect(first.nth(0).innerText()).resolves.toBe(String(cli.worst[0].index));
    await expect(first.nth(1).innerText()).resolves.toContain(cli.worst[0].text.slice(0, 20));
    await expect(first.nth(2).innerText()).resolves.toBe(cli.worst[0].gold);
    await expect(first.nth(3).innerText()).resolves.toBe(cli.worst[0].predicted);
    await expect(first.nth(4).innerText()).resolves.toBe(share(cli.worst[0].score));
    await page.getByRole('heading', { name: tr('taskEval.confusion') }).scrollIntoViewIfNeeded();
    await screenshot(page, 'task-evaluate-classification.png');

    // question answering: EM / F1 curves, and Evaluate with EM / F1 and the worst answers (no matrix)
    const qaStarted = await startQaRun(serve, project.id);
    const qa = await waitForRun(serve, qaStarted.id, 'frog questions', 600);
    await page.goto(`${serve.url}#/runs/${qa.id}`);
    await page.getByRole('heading', { name: 'frog questions' }).first().waitFor();
    const qaChart = page.getByRole('img', {
      name: tr('taskRun.chartLabel', { metrics: [tr('taskRun.exactMatch'), tr('taskRun.f1')].join(', ') }),
    });
    await qaChart.waitFor({ timeout: 60_000 });
    await expect.poll(() => qaChart.locator('.recharts-line').count()).toBe(2);
    await expect(qaChart.getAttribute('data-best-step')).resolves.toBe(String((qa as TaskRun).summary!.best!.step));
    await expectNoDecoderActions(page);
    await page.getByText(tr('taskRun.windows'), { exact: true }).waitFor();
    await screenshot(page, 'task-run-page-qa.png');

    await evaluateFromRunPage(page, serve, qa as TaskRun, tr('evaluate.descriptionQa'));
    const qaCli = cliEvaluation(serve, qa.id);
    for (const [key, name] of [
      ['eval_exact_match', tr('taskRun.exactMatch')],
      ['eval_f1', tr('taskRun.f1')],
    ] as const) {
      await expect(score(page, name, tuned)).resolves.toBe(share(qaCli.tuned.metrics[key]));
      await expect(score(page, name, base)).resolves.toBe(share(qaCli.base!.metrics[key]));
    }
    await expect(page.getByRole('heading', { name: tr('taskEval.confusion') }).count()).resolves.toBe(0);
    const qaRows = page.getByRole('table', { name: tr('taskEval.worst') }).locator('tbody tr');
    expect(await qaRows.count()).toBe(qaCli.worst.length);
    await expect(qaRows.first().locator('td').nth(4).innerText()).resolves.toBe(share(qaCli.worst[0].score));
    await page.getByRole('heading', { name: tr('taskEval.worst') }).scrollIntoViewIfNeeded();
    await screenshot(page, 'task-evaluate-qa.png');

    expect(errors).toEqual([]);
    await context.close();
  }, 1_500_000);
});
