// Run elsewhere and back, in headless Chromium against a real `serve`: a tiny run's page writes a job bundle
// ("Run elsewhere…"); a TRL-shaped output folder for it (generated: adapter for the tiny base, trainer_state.json,
// checkpoint-N/, the copied record) is imported from the Runs page ("Import run…"); the imported run shows its
// curves and where it came from, compares with the local run, and its evaluation shows on the Evaluate page.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collectPageErrors,
  launchChromium,
  newStudioContext,
  screenshot,
  startServe,
  tr,
  type ServeProcess,
} from './harness.ts';
import { openPage, tinyModelAndData, trainTinyRun } from './tiny-runs.ts';
import { writeTrainerOutput } from '../fixtures/trainer-output.ts';

let serve: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  serve = await startServe();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('Run elsewhere and import in the browser', () => {
  it('bundles a run from its page, imports the trainer’s output from the Runs page, and shows it like a local run', async () => {
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Elsewhere check' });
    const files = await tinyModelAndData(serve);
    const local = await trainTinyRun(serve, project.id, files, 'sums r4');
    const bundle = join(serve.dataDir, 'bundle-from-ui');

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openPage(page, serve, 'Elsewhere check', tr('nav.runs'));
    await page.getByRole('link', { name: 'sums r4', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'sums r4' }).waitFor();
    await page.getByRole('button', { name: tr('elsewhere.open') }).click();
    const dialog = page.getByRole('dialog', { name: tr('elsewhere.title', { name: 'sums r4' }) });
    await dialog.getByLabel(tr('elsewhere.folder')).fill(bundle);
    await dialog.getByRole('button', { name: tr('elsewhere.write') }).click();
    const written = dialog.getByLabel(tr('elsewhere.written'));
    await written.waitFor({ timeout: 60_000 });
    await written.getByText('rendered 18 training and 6 eval rows', { exact: false }).waitFor();
    await screenshot(page, 'run-elsewhere-bundle.png');
    for (const f of [
      'axolotl.yaml',
      'train_trl.py',
      'accelerate/fsdp.yaml',
      'accelerate/deepspeed_zero3.yaml',
      'README.md',
      'lora-studio-run.json',
      'data/tokenized/train.jsonl',
    ]) {
      expect(existsSync(join(bundle, f)), f).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(bundle, 'lora-studio-run.json'), 'utf8')).run).toEqual({
      id: local.id,
      name: 'sums r4',
    });
    await dialog.getByRole('button', { name: tr('elsewhere.close') }).click();

    // What the trainer leaves in output/ after `accelerate launch train_trl.py` (the same settings as the run).
    await writeTrainerOutput(join(bundle, 'output'), {
      baseModel: files.model,
      r: 4,
      alpha: 8,
      targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
      steps: 4,
      learningRate: 5e-3,
      record: join(bundle, 'lora-studio-run.json'),
      trainingArgs: { per_device_train_batch_size: 2, max_length: 32 },
    });

    await page.getByRole('link', { name: tr('run.allRuns') }).click();
    await page.getByRole('button', { name: tr('elsewhere.importOpen') }).click();
    const importDialog = page.getByRole('dialog', { name: tr('elsewhere.importTitle') });
    await importDialog.getByRole('button', { name: tr('elsewhere.import') }).click();
    await importDialog.getByText(tr('elsewhere.importPathRequired')).waitFor(); // nothing typed yet
    await importDialog.getByLabel(tr('elsewhere.outputFolder')).fill(join(serve.dataDir, 'nowhere'));
    await importDialog.getByRole('button', { name: tr('elsewhere.import') }).click();
    await importDialog.getByText('is not a folder', { exact: false }).waitFor();
    await importDialog.getByLabel(tr('elsewhere.outputFolder')).fill(join(bundle, 'output'));
    await importDialog.getByRole('button', { name: tr('elsewhere.import') }).click();
    await importDialog.getByText(tr('elsewhere.recordMatched')).waitFor();
    await screenshot(page, 'run-elsewhere-import.png');
    await importDialog.getByRole('link', { name: tr('elsewhere.openRun') }).click();
    await page.getByRole('heading', { level: 1, name: 'sums r4 (imported)' }).waitFor();
    const origin = page.getByRole('heading', { name: tr('elsewhere.panel') });
    await origin.waitFor();
    await page.getByText(join(bundle, 'output'), { exact: true }).first().waitFor();
    const loss = page.getByRole('img', { name: tr('run.lossChart') });
    await expect.poll(() => loss.locator('.recharts-line-curve').count(), { timeout: 20_000 }).toBe(2); // train and eval
    await page.getByText(tr('runs.steps', { steps: 4, total: 4 }), { exact: false }).waitFor();
    await screenshot(page, 'run-elsewhere-imported-run.png');
    await origin.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await page.getByText(tr('elsewhere.recordMatched')).waitFor();
    await screenshot(page, 'run-elsewhere-imported-origin.png');

    // A result trained with other settings: imported, and every difference shown, not hidden.
    const other = join(serve.dataDir, 'other-output');
    await writeTrainerOutput(other, {
      baseModel: files.model,
      r: 8,
      alpha: 16,
      targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
      steps: 6,
      learningRate: 5e-3,
      record: join(bundle, 'lora-studio-run.json'),
      trainingArgs: { per_device_train_batch_size: 2, max_length: 32 },
    });
    await page.getByRole('link', { name: tr('run.allRuns') }).click();
    await page.getByRole('button', { name: tr('elsewhere.importOpen') }).click();
    await importDialog.getByLabel(tr('elsewhere.outputFolder')).fill(other);
    await importDialog.getByLabel(tr('elsewhere.name')).fill('rank 8 elsewhere');
    await importDialog.getByRole('button', { name: tr('elsewhere.import') }).click();
    const differences = importDialog.getByRole('table', { name: tr('elsewhere.differencesTable') });
    await differences.waitFor();
    await differences.getByRole('row').filter({ hasText: 'lora.r' }).getByText('8', { exact: true }).waitFor();
    await differences.getByRole('row').filter({ hasText: 'total steps' }).getByText('6', { exact: true }).waitFor();
    await screenshot(page, 'run-elsewhere-mismatch.png');
    await importDialog.getByText(tr('elsewhere.differences', { count: 4 })).waitFor();
    await importDialog.getByRole('button', { name: tr('elsewhere.close') }).click();
    // listed as what was trained: the adapter's rank, not the bundled plan's
    await page
      .getByRole('row')
      .filter({ hasText: 'rank 8 elsewhere' })
      .getByText('LoRA r=8', { exact: false })
      .waitFor();

    const runs = await serve.invoke<{ id: string; name: string }[]>('runs.list', { projectId: project.id });
    const imported = runs.find((r) => r.name === 'sums r4 (imported)')!;
    // Compare: the imported run next to the local one
    await openPage(page, serve, 'Elsewhere check', tr('nav.compare'));
    await page.getByRole('checkbox', { name: 'sums r4 · LoRA r 4 / α 8' }).check();
    await page.getByRole('checkbox', { name: 'sums r4 (imported) · LoRA r 4 / α 8' }).check();
    const train = page.getByRole('img', { name: tr('compare.trainingLossLabel') });
    await expect.poll(() => train.locator('.recharts-line-curve').count(), { timeout: 20_000 }).toBe(2);
    await screenshot(page, 'run-elsewhere-compare.png');

    // Evaluate: base vs the imported adapter on the run's eval split
    const evaluation = await serve.invoke<{ id: string }>('evaluations.start', {
      projectId: project.id,
      runId: imported.id,
    });
    const deadline = Date.now() + 120_000;
    for (;;) {
      const { evaluation: e } = await serve.invoke<{ evaluation: { status: string; error: string | null } }>(
        'evaluations.get',
        { id: evaluation.id },
      );
      if (e.status === 'succeeded') break;
      expect(e.status, e.error ?? '').not.toBe('failed');
      if (Date.now() > deadline) throw new Error('the evaluation did not finish in 120 s');
      await new Promise((r) => setTimeout(r, 300));
    }
    await openPage(page, serve, 'Elsewhere check', tr('nav.evaluate'));
    const table = page.getByRole('table', { name: tr('evaluate.examplesOf', { title: 'sums r4 (imported)' }) });
    await table.waitFor();
    await expect.poll(() => table.locator('tbody tr').count(), { timeout: 10_000 }).toBe(6);
    await screenshot(page, 'run-elsewhere-evaluate.png');
    // the one refused import (a folder that is not there) is the browser's only complaint: its 400 answer
    expect(errors).toEqual([
      'console: Failed to load resource: the server responded with a status of 400 (Bad Request)',
    ]);
    await context.close();
  }, 300_000);
});
