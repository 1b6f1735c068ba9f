// An encoder AdapterFusion run in the studio (issue 15: the attention result is "loaded by chat, eval and
// predict"): two short classification runs on different label sets (plain sentences negative/positive, marked ones
// marked-negative/marked-positive) and their attention-mode combination on a mix, started through the API; the
// combination's Try it answers with all four labels' probabilities for the tuned and the base side, and its Evaluate
// page measures it on the run's eval split with the accuracy the run itself reported.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { collectPageErrors, newStudioContext, percent, REPO_ROOT, screenshot, studioPerFile, tr, type ServeProcess } from './harness.ts';
import { waitForRun, type TinyRun } from './tiny-runs.ts';

const ENCODER = join(REPO_ROOT, 'resources/encoder-model');
const SST2 = join(REPO_ROOT, 'resources/encoder-data/sst2/train.jsonl');
const MARK = ' Really very really.';
const ALL = ['negative', 'positive', 'marked-negative', 'marked-positive'];
const studio = studioPerFile();

const shared = {
  model: ENCODER,
  method: 'lora',
  lora: { r: 4, lora_alpha: 16, lora_dropout: 0 },
  micro_batch_size: 16,
  learning_rate: 5e-3,
  max_steps: 6,
  eval_steps: 6,
  max_seq_length: 40,
  save_steps: null,
  seed: 7,
};

/** As the page shows a fraction: the UI's one percent formatter ("56.8%", not "56.83 %"). */
const share = percent;

async function start(serve: ServeProcess, projectId: string, name: string, config: Record<string, unknown>): Promise<TinyRun & { summary: { evalMetrics?: Record<string, number> } }> {
  const started = await serve.invoke<TinyRun>('runs.start', { projectId, name, config: { ...shared, ...config } });
  return (await waitForRun(serve, started.id, name, 400)) as TinyRun & { summary: { evalMetrics?: Record<string, number> } };
}

async function probabilities(page: Page, side: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const bar of await page.getByRole('region', { name: side }).getByRole('meter').all())
    out[(await bar.getAttribute('aria-label'))!] = Number(await bar.getAttribute('aria-valuenow'));
  return out;
}

describe('an encoder AdapterFusion run in the studio', () => {
  it('Try it answers with the combination’s four labels beside the base; Evaluate measures it as the run did', async () => {
    const { serve, browser } = studio;
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Fusion try' });
    const rows = readFileSync(SST2, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { sentence: string; label: number });
    const write = (name: string, list: unknown[]) => {
      const p = join(serve.dataDir, name);
      writeFileSync(p, list.map((r) => JSON.stringify(r)).join('\n') + '\n');
      return p;
    };
    const marked = (r: { sentence: string; label: number }, shift: number) => ({ sentence: r.sentence + MARK, label: r.label + shift });
    const plain = write('plain.jsonl', rows.slice(0, 64));
    const mark = write('marked.jsonl', rows.slice(64, 128).map((r) => marked(r, 0)));
    const mix = write('mix.jsonl', rows.slice(128, 224).flatMap((r, i) => (i % 2 ? [marked(r, 2)] : [r])));
    const mixEval = write('mix-eval.jsonl', rows.slice(224, 248).flatMap((r, i) => (i % 2 ? [marked(r, 2)] : [r])));
    const ratio = { kind: 'ratio', ratio: 0.25 };
    const a = await start(serve, project.id, 'plain', { task: 'classification', classification: { labels: ['negative', 'positive'] }, dataset: { path: plain, eval_split: ratio } });
    const b = await start(serve, project.id, 'marked', { task: 'classification', classification: { labels: ['marked-negative', 'marked-positive'] }, dataset: { path: mark, eval_split: ratio } });
    const fusion = await start(serve, project.id, 'combined', {
      task: 'classification',
      classification: { labels: ALL },
      dataset: { path: mix, eval_split: { kind: 'file', path: mixEval } },
      fusion: { adapters: [a.summary!.adapterPath, b.summary!.adapterPath], mode: 'attention', attention_dim: 4, value_rank: 2 },
    });

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await page.getByRole('table', { name: tr('nav.projects') }).waitFor({ timeout: 60_000 });
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Fusion try' });
    await page.goto(`${serve.url}#/try/${fusion.id}`);
    await page.getByRole('heading', { level: 1, name: tr('nav.try') }).waitFor();
    await expect.poll(() => page.getByLabel(tr('compare.run'), { exact: true }).inputValue()).toBe(fusion.id);
    await page.getByLabel(tr('tryIt.text'), { exact: true }).fill('a gorgeous, witty, seductive movie .' + MARK);
    await page.getByRole('button', { name: tr('tryIt.predict') }).click();
    const failed = page.getByRole('alert');
    await page.getByRole('region', { name: tr('tryIt.tuned') }).getByRole('meter').first().or(failed).first().waitFor({ timeout: 120_000 });
    if (await failed.isVisible()) throw new Error(`the prediction failed: ${await failed.innerText()}`);
    const tuned = await probabilities(page, tr('tryIt.tuned'));
    const base = await probabilities(page, tr('tryIt.base'));
    for (const side of [tuned, base]) {
      expect(Object.keys(side).sort()).toEqual([...ALL].sort());
      expect(Object.values(side).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5);
    }
    expect(tuned).not.toEqual(base);
    await page.locator('.try-sides').evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await screenshot(page, 'fusion-try-it.png');

    // Evaluate, from the run's page: the run's eval split, the accuracy the run reported at its last eval
    await page.goto(`${serve.url}#/runs/${fusion.id}`);
    await page.getByRole('heading', { name: 'combined' }).first().waitFor();
    await page.locator('.run-actions').getByRole('link', { name: tr('nav.evaluate'), exact: true }).click();
    await page.getByRole('heading', { level: 1, name: tr('nav.evaluate') }).waitFor();
    await expect.poll(() => page.locator('#eval-run').inputValue(), { timeout: 30_000 }).toBe(fusion.id);
    const form = page.getByRole('form', { name: tr('taskEval.form') });
    // the page's intro speaks of what is measured here: accuracy / macro-F1, higher is better (not perplexity)
    await expect.poll(() => page.locator('.page-description').innerText()).toBe(tr('evaluate.descriptionClassification'));
    await screenshot(page, 'fusion-evaluate-start.png');
    // "Measured on" is spaced from the Run select above it like the other fields (it sat flush under it)
    const gap = await page.evaluate(
      () =>
        document.querySelector('label[for="task-eval-data"]')!.getBoundingClientRect().top -
        document.querySelector('#eval-run')!.getBoundingClientRect().bottom,
    );
    expect(gap).toBeGreaterThanOrEqual(8);
    await form.getByRole('button', { name: tr('evalStart.start') }).click();
    await page.getByRole('group', { name: tr('taskEval.scores') }).or(failed).first().waitFor({ timeout: 300_000 });
    if (await failed.isVisible()) throw new Error(`the task evaluation failed: ${await failed.innerText()}`);
    const accuracy = page.locator(`.task-scores [aria-label="${tr('taskRun.accuracy')} · ${tr('tryIt.tuned')}"]`);
    await expect(accuracy.innerText()).resolves.toBe(share(fusion.summary.evalMetrics!.eval_accuracy));
    await page.getByRole('group', { name: tr('taskEval.scores') }).scrollIntoViewIfNeeded();
    await screenshot(page, 'fusion-evaluate.png');
    expect(errors).toEqual([]);
    await context.close();
  }, 900_000);
});
