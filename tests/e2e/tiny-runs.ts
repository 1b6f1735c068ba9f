// Shared by the Chat, Adapters, Exports and Compare browser tests: a tiny generated Llama-style model in the
// server's data dir, and short real fine-tunes of it started through the API (as the CLI or another window
// would), waited on through the core so a failure reads as the core's error.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { makeTinyModel } from '../fixtures/tiny-models.ts';
import { tr, type ServeProcess } from './harness.ts';

export interface TinyRun {
  id: string;
  name: string;
  status: string;
  error: string | null;
  jobId: string | null;
  summary: {
    trainLoss: number;
    evalLoss: number | null;
    evalPerplexity: number | null;
    adapterPath: string | null;
    seconds: number;
  } | null;
}

/** The tiny model folder and a small dataset with an eval split, written into the server's data dir. */
export async function tinyModelAndData(serve: ServeProcess): Promise<{ model: string; dataset: string }> {
  const model = join(serve.dataDir, 'tiny-llama');
  await makeTinyModel(model, 'llama', { seed: 5, std: 0.3 });
  const dataset = join(serve.dataDir, 'sums.jsonl');
  const rows = Array.from({ length: 24 }, (_, i) => ({
    prompt: `Q: what is ${i} plus one?\nA:`,
    completion: ` ${i + 1}`,
  }));
  writeFileSync(dataset, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  return { model, dataset };
}

/** Starts a short LoRA run and waits until it finished (and succeeded). */
export async function trainTinyRun(
  serve: ServeProcess,
  projectId: string,
  files: { model: string; dataset: string },
  name: string,
  r = 4,
  steps = 4,
): Promise<TinyRun> {
  const started = await serve.invoke<TinyRun>('runs.start', {
    projectId,
    name,
    config: {
      model: files.model,
      dataset: { path: files.dataset, template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.25 } },
      lora: { r, lora_alpha: 2 * r },
      max_steps: steps,
      eval_steps: 2,
      save_steps: 2, // checkpoints as the trainer outputs of tests/fixtures/trainer-output.ts save them
      micro_batch_size: 2,
      gradient_accumulation_steps: 1,
      learning_rate: 5e-3,
      max_seq_length: 32,
    },
  });
  return waitForRun(serve, started.id, name);
}

/** Waits until a started run finished, and expects it to have succeeded (else the core's error is the message). */
export async function waitForRun(serve: ServeProcess, id: string, name: string, seconds = 150): Promise<TinyRun> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const run = await serve.invoke<TinyRun>('runs.get', { id });
    if (run.status !== 'running' && run.status !== 'queued') {
      expect(run.status, `run ${name} ended ${run.status}: ${run.error}`).toBe('succeeded');
      return run;
    }
    if (Date.now() > deadline) throw new Error(`run ${name} still ${run.status} after ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** Opens the studio on a project and goes to a page through the navigation. */
export async function openPage(page: Page, serve: ServeProcess, projectName: string, label: string): Promise<void> {
  await page.goto(serve.url);
  await page.getByRole('table', { name: tr('nav.projects') }).waitFor();
  await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: projectName });
  await page
    .getByRole('navigation', { name: tr('app.navLabel') })
    .getByRole('link', { name: label, exact: true })
    .click();
  await page.getByRole('heading', { level: 1, name: label }).waitFor();
}

/** Imports a dataset file into a project through the API and waits until the import job succeeded. */
export async function importDataset(
  serve: ServeProcess,
  projectId: string,
  path: string,
  name?: string,
): Promise<void> {
  const job = await serve.invoke<{ id: string }>('datasets.import', { projectId, path, ...(name ? { name } : {}) });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { status, error } = await serve.invoke<{ status: string; error: string | null }>('jobs.get', { id: job.id });
    if (status === 'succeeded') return;
    if (status !== 'running' && status !== 'queued') throw new Error(`importing ${path} ended ${status}: ${error}`);
    if (Date.now() > deadline) throw new Error(`importing ${path} still ${status} after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
