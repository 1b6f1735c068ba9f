// "Try it" (issue 14) in Chromium against a real `serve`: a short classification LoRA run and a short QA LoRA run
// on the bundled encoder and data are started through the API; the classification run's page links to Try it,
// which answers a sentence with each label's probability for the base and the tuned model (each side sums to 1);
// a model with no task head is refused in the core's words, without a stack; the QA run answers a question with a
// span of the context highlighted on both sides.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  collectPageErrors,
  newStudioContext,
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

const firstLines = (file: string, n: number) =>
  readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(0, n).join('\n') + '\n';

const shared = {
  model: ENCODER,
  method: 'lora',
  lora: { r: 8, lora_alpha: 32, lora_dropout: 0 },
  micro_batch_size: 16,
  gradient_accumulation_steps: 1,
  learning_rate: 3e-3,
  save_steps: null,
};

async function startClassificationRun(serve: ServeProcess, projectId: string): Promise<TinyRun> {
  // the demo's recipe (two passes over the bundled rows, ≈0.95 accuracy), so the tuned side has learned something
  const evalFile = join(serve.dataDir, 'sst2-eval.jsonl');
  writeFileSync(evalFile, firstLines(join(DATA, 'sst2/validation.jsonl'), 48));
  const started = await serve.invoke<TinyRun>('runs.start', {
    projectId,
    name: 'sentiment',
    config: {
      ...shared,
      task: 'classification',
      classification: { labels: ['negative', 'positive'] },
      dataset: { path: join(DATA, 'sst2/train.jsonl'), eval_split: { kind: 'file', path: evalFile } },
      num_train_epochs: 2,
      eval_steps: 1000,
      max_seq_length: 64,
    },
  });
  return waitForRun(serve, started.id, 'sentiment', 300);
}

async function startQaRun(serve: ServeProcess, projectId: string): Promise<TinyRun> {
  const cut = (file: string, paragraphs: number) => {
    const squad = JSON.parse(readFileSync(file, 'utf8')) as { version: string; data: { paragraphs: unknown[] }[] };
    const data = squad.data.map((d) => ({ ...d, paragraphs: d.paragraphs.slice(0, paragraphs) }));
    return JSON.stringify({ version: squad.version, data });
  };
  const train = join(serve.dataDir, 'train-v1.1.json');
  const dev = join(serve.dataDir, 'dev-v1.1.json');
  writeFileSync(train, cut(join(DATA, 'squad/train-v1.1.json'), 40));
  writeFileSync(dev, cut(join(DATA, 'squad/dev-v1.1.json'), 4));
  const started = await serve.invoke<TinyRun>('runs.start', {
    projectId,
    name: 'frog questions',
    config: {
      ...shared,
      task: 'question-answering',
      question_answering: { doc_stride: 32 },
      dataset: { path: train, eval_split: { kind: 'file', path: dev } },
      max_steps: 40,
      eval_steps: 40,
      max_seq_length: 128,
    },
  });
  return waitForRun(serve, started.id, 'frog questions', 300);
}

/** Each label's probability on one side, as the bars report them. */
async function probabilities(page: Page, side: string): Promise<Record<string, number>> {
  const bars = page.getByRole('region', { name: side }).getByRole('meter');
  const out: Record<string, number> = {};
  for (const bar of await bars.all())
    out[(await bar.getAttribute('aria-label'))!] = Number(await bar.getAttribute('aria-valuenow'));
  return out;
}

describe('Try it in the browser', () => {
  it('classifies a sentence with base and tuned probabilities, and QA highlights the answer span', async () => {
    const { serve, browser } = studio;
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Try check' });
    const run = await startClassificationRun(serve, project.id);

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await page.getByRole('table', { name: tr('nav.projects') }).waitFor({ timeout: 60_000 }); // the first load, beside training
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Try check' });
    // reached from the finished run's own page
    await page.goto(`${serve.url}#/runs/${run.id}`);
    await page.getByRole('heading', { name: 'sentiment' }).first().waitFor();
    await page
      .locator('.run-actions')
      .getByRole('link', { name: tr('nav.try'), exact: true })
      .click();
    await page.getByRole('heading', { level: 1, name: tr('nav.try') }).waitFor();
    await expect.poll(() => page.getByLabel(tr('compare.run'), { exact: true }).inputValue()).toBe(run.id);

    await page.getByLabel(tr('tryIt.text'), { exact: true }).fill('The trip to the garden was delightful and great.');
    await page.getByRole('button', { name: tr('tryIt.predict') }).click();
    const tuned = page.getByRole('region', { name: tr('tryIt.tuned') });
    await tuned.getByRole('meter').first().waitFor({ timeout: 120_000 });
    const base = await probabilities(page, tr('tryIt.base'));
    const tunedP = await probabilities(page, tr('tryIt.tuned'));
    for (const side of [base, tunedP]) {
      expect(Object.keys(side).sort()).toEqual(['negative', 'positive']);
      expect(Object.values(side).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    // the tuned model learned the sentiment: it leans further to positive than its fresh head, and calls it so
    expect(tunedP.positive).toBeGreaterThan(Math.max(0.5, base.positive));
    await tuned.getByText(tr('tryIt.predicted', { label: 'positive' })).waitFor();
    await page.locator('.try-sides').evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await screenshot(page, 'try-it-classification.png');
    // "Answer with" is a field like the others: no browser-default grey frame around its two options
    expect(await page.locator('fieldset.field').evaluate((el) => getComputedStyle(el).borderTopStyle)).toBe('none');
    // …and a plainly negative sentence the other way
    await page.getByLabel(tr('tryIt.text'), { exact: true }).fill('I disliked the cake and the boring song.');
    await page.getByRole('button', { name: tr('tryIt.predict') }).click();
    await tuned.getByText(tr('tryIt.predicted', { label: 'negative' })).waitFor({ timeout: 120_000 });
    expect((await probabilities(page, tr('tryIt.tuned'))).negative).toBeGreaterThan(0.5);

    // a folder with no task head: the core's sentence, not a stack
    await page.getByLabel(tr('tryIt.aFolder')).check();
    await page.getByLabel(tr('tryIt.model'), { exact: true }).fill(ENCODER);
    await page.getByRole('button', { name: tr('tryIt.predict') }).click();
    const alert = page.getByRole('alert').filter({ hasText: tr('tryIt.failed') });
    await alert.waitFor({ timeout: 120_000 });
    const message = await alert.innerText();
    expect(message).toMatch(/no classification or question-answering head/);
    expect(message).not.toMatch(/\n\s+at /);
    await alert.scrollIntoViewIfNeeded();
    await screenshot(page, 'try-it-error.png');

    // question answering: the span in the context, on both sides
    const qa = await startQaRun(serve, project.id);
    await page.goto(`${serve.url}#/try/${qa.id}`);
    await page.getByRole('heading', { level: 1, name: tr('nav.try') }).waitFor();
    await expect.poll(() => page.getByLabel(tr('compare.run'), { exact: true }).inputValue()).toBe(qa.id);
    const text = 'The frog is a small green animal. The frog can jump. The frog lives near the pond.';
    await page.getByLabel(tr('tryIt.context'), { exact: true }).fill(text);
    await page.getByLabel(tr('tryIt.question'), { exact: true }).fill('Where does the frog live?');
    await page.getByRole('button', { name: tr('tryIt.predict') }).click();
    const failed = page.getByRole('alert');
    await page.locator('.try-context').first().or(failed).waitFor({ timeout: 120_000 });
    if (await failed.isVisible()) throw new Error(`the QA prediction failed: ${await failed.innerText()}`);
    for (const side of [tr('tryIt.base'), tr('tryIt.tuned')]) {
      const shown = page.getByLabel(tr('tryIt.contextWithAnswer', { side }));
      // the whole context is shown, the answer marked inside it
      await expect(shown.innerText()).resolves.toBe(text);
      const marked = await shown.locator('mark').innerText();
      expect(marked.length).toBeGreaterThan(0);
      expect(text).toContain(marked);
    }
    await page.locator('.try-sides').evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await screenshot(page, 'try-it-qa.png');
    // the one refused call (the folder without a head) is the only console line
    expect(errors).toEqual([
      'console: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)',
    ]);
    await context.close();
  }, 900_000);
});
