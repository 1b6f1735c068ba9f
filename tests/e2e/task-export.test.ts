// Exports of an encoder task run (issue 14) in Chromium against a real `serve`: a short classification LoRA run on
// the bundled encoder, then the Exports page opened on that run (#/exports/<run id>, as a run's Export action links)
// offers exactly ONNX, the merged model and PEFT (no GGUF), says what ONNX is for (transformers.js in a browser),
// writes the ONNX folder with progress into the exports folder — downloaded as a .tar, and on disk run by
// onnxruntime-node with the engine's logits — and the merged …ForSequenceClassification folder with the labels.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareOnnxWithEngine } from '../fixtures/onnx-check.ts';
import { collectPageErrors, newStudioContext, REPO_ROOT, screenshot, studioPerFile, tr } from './harness.ts';
import { waitForRun, type TinyRun } from './tiny-runs.ts';

const ENCODER = join(REPO_ROOT, 'resources/encoder-model');
const DATA = join(REPO_ROOT, 'resources/encoder-data');
const studio = studioPerFile();

interface ExportRow {
  id: string;
  format: string;
  type: string;
  path: string;
  status: string;
  error: string | null;
}

describe('Exports of a task run in the browser', () => {
  it('offers ONNX, merged and PEFT for a classification run and writes ONNX and merged folders that load', async () => {
    const { serve, browser } = studio;
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Task exports' });
    const evalFile = join(serve.dataDir, 'sst2-eval.jsonl');
    const rows = readFileSync(join(DATA, 'sst2/validation.jsonl'), 'utf8').split('\n').filter(Boolean);
    writeFileSync(evalFile, rows.slice(0, 16).join('\n') + '\n');
    const started = await serve.invoke<TinyRun>('runs.start', {
      projectId: project.id,
      name: 'sentiment',
      config: {
        model: ENCODER,
        task: 'classification',
        classification: { labels: ['negative', 'positive'] },
        dataset: { path: join(DATA, 'sst2/train.jsonl'), eval_split: { kind: 'file', path: evalFile } },
        method: 'lora',
        lora: { r: 4, lora_alpha: 16, lora_dropout: 0, target_modules: ['query', 'value'] },
        max_steps: 10,
        micro_batch_size: 8,
        gradient_accumulation_steps: 1,
        learning_rate: 3e-3,
        max_seq_length: 32,
        eval_steps: 1000,
        save_steps: null,
      },
    });
    const run = await waitForRun(serve, started.id, 'sentiment', 300);
    const adapterPath = run.summary!.adapterPath!;

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await page.getByRole('table', { name: tr('nav.projects') }).waitFor({ timeout: 60_000 });
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Task exports' });
    await page.goto(`${serve.url}#/exports/${run.id}`);
    await page.getByRole('heading', { level: 1, name: tr('nav.exports') }).waitFor();
    await page.getByTestId('export-task').waitFor();

    // exactly the task formats, ONNX first and explained
    const radios = page.getByRole('radiogroup', { name: tr('exports.formatLabel') }).getByRole('radio');
    await expect.poll(() => radios.count()).toBe(3);
    const names = await Promise.all(
      (await radios.all()).map(async (r) => (await r.evaluate((el) => el.parentElement?.textContent ?? '')).trim()),
    );
    expect(names).toEqual([tr('exports.format.onnx'), tr('exports.format.hfTask'), tr('exports.format.peft')]);
    expect(await page.getByRole('radio', { name: tr('exports.format.gguf'), exact: true }).count()).toBe(0);
    await expect.poll(() => page.getByRole('radio', { name: tr('exports.format.onnx') }).isChecked()).toBe(true);
    await page.getByTestId('export-format-help').getByText(tr('exports.formatHelp.onnx')).waitFor();
    expect(tr('exports.formatHelp.onnx')).toContain('transformers.js');
    await page.getByTestId('export-estimate').waitFor();
    await screenshot(page, 'task-export-form.png');

    // ONNX into the exports folder: progress in the list, then a download as .tar
    await page.getByRole('button', { name: tr('exports.start') }).click();
    const table = page.getByRole('table', { name: tr('nav.exports') });
    await table.getByText(`${tr('exports.format.onnx')} · f32`, { exact: true }).waitFor();
    await table.getByText(tr('status.succeeded'), { exact: true }).waitFor({ timeout: 120_000 });
    const [onnx] = await serve.invoke<ExportRow[]>('exports.list', { projectId: project.id });
    expect(onnx).toMatchObject({ format: 'onnx', status: 'succeeded' });
    const downloadLink = page.getByRole('link', {
      name: tr('exports.downloadLabel', { format: tr('exports.format.onnx'), tar: true }),
    });
    const [download] = await Promise.all([page.waitForEvent('download'), downloadLink.click()]);
    expect(download.suggestedFilename()).toBe('sentiment-onnx-f32.tar');
    const tarFile = join(serve.dataDir, 'downloaded-onnx.tar');
    await download.saveAs(tarFile);
    const tar = readFileSync(tarFile).toString('latin1');
    for (const name of ['onnx/model.onnx', 'config.json', 'tokenizer.json']) expect(tar).toContain(name);

    // the folder on disk, as transformers.js would use it: onnxruntime-node's logits are the engine's
    const cmp = await compareOnnxWithEngine(onnx.path, { model: ENCODER, adapter: adapterPath });
    expect(cmp.labels).toEqual({ 0: 'negative', 1: 'positive' });
    expect(cmp.scale).toBeGreaterThan(1e-3);
    expect(cmp.maxDiff).toBeLessThan(1e-4 * Math.max(1, cmp.scale));

    // the merged task model (f32) to a folder of the user's choosing
    await page.getByRole('radio', { name: tr('exports.format.hfTask'), exact: true }).check();
    await page
      .getByTestId('export-format-help')
      .getByText(tr('exports.formatHelp.hfTask', { task: 'classification' }))
      .waitFor();
    await page.getByLabel(tr('exports.type')).selectOption('f32');
    const merged = join(serve.dataDir, 'sentiment-merged');
    await page.getByLabel(tr('exports.outPath')).fill(merged);
    await page.getByRole('button', { name: tr('exports.start') }).click();
    await expect
      .poll(
        async () =>
          (await serve.invoke<ExportRow[]>('exports.list', { projectId: project.id })).map((e) => e.status),
        { timeout: 120_000 },
      )
      .toEqual(['succeeded', 'succeeded']);
    await expect
      .poll(() => table.getByText(tr('status.succeeded'), { exact: true }).count(), { timeout: 20_000 })
      .toBe(2);
    const config = JSON.parse(readFileSync(join(merged, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architectures: ['BertForSequenceClassification'],
      id2label: { 0: 'negative', 1: 'positive' },
    });
    const fromMerged = await compareOnnxWithEngine(onnx.path, { model: merged });
    expect(fromMerged.maxDiff).toBeLessThan(1e-4 * Math.max(1, fromMerged.scale));
    await screenshot(page, 'task-export-finished.png');
    expect(errors).toEqual([]);
    await context.close();
  });
});
