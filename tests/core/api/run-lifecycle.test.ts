// A run's life as the run page sees it, through the real core and train/eval workers on a tiny model: live figures
// while it trains (loss in the list, trainable parameters, trained tokens, peak memory), a cancel that saves a
// checkpoint and a Resume that says from which step (and is refused without one), rename, delete with its folder,
// and one evaluation of the run on a dataset of the project measuring base and tuned together.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig, type Run } from '../../../src/common/api/runs.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';

let dir: string;
let core: StudioCore;
let projectId: string;
let config: RunConfig;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-run-life-'));
  core = createStudioCore({ dataDir: join(dir, 'data') });
  projectId = (await core.call('projects.create', { name: 'life' })).id;
  await makeTinyModel(join(dir, 'model'), 'llama', { seed: 8 });
  const rows = Array.from({ length: 30 }, (_, i) => ({
    text: `Item ${i} costs ${i * 3} coins and weighs ${i % 7} kilos.`,
  }));
  writeFileSync(join(dir, 'items.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  config = RunConfig.parse({
    model: join(dir, 'model'),
    dataset: { path: join(dir, 'items.jsonl'), eval_split: { kind: 'ratio', ratio: 0.2 } },
    lora: { r: 4, lora_alpha: 8 },
    max_steps: 400,
    micro_batch_size: 2,
    gradient_accumulation_steps: 1,
    learning_rate: 5e-3,
    max_seq_length: 32,
    save_steps: null, // no periodic checkpoint: only the cancel saves one
  });
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

async function untilStep(run: Run, step: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const off = core.on('job.metric', (e) => {
      if (e.jobId === run.jobId && e.step >= step && e.values.loss !== undefined) {
        off();
        resolve();
      }
    });
  });
}

describe('a run from the run page', () => {
  it('shows live figures, cancels into a checkpoint, resumes from its step, renames, deletes with its folder', async () => {
    let run = await core.call('runs.start', { projectId, name: 'first', config });
    expect(run.checkpointStep).toBeNull();
    await untilStep(run, 3);
    const live = await core.call('runs.get', { id: run.id });
    expect(live.status).toBe('running');
    expect(live.summary).toBeNull();
    expect(live.lastTrainLoss).toBeGreaterThan(0);
    expect((await core.call('runs.list', { projectId }))[0]!.lastTrainLoss).toBeGreaterThan(0);
    const points = await core.call('runs.metrics', { id: run.id });
    const last = points.filter((p) => p.values.loss !== undefined).at(-1)!;
    expect(last.values.trainable_parameters).toBeGreaterThan(0);
    expect(last.values.trained_tokens).toBeGreaterThan(0);
    expect(last.values.peak_rss_bytes).toBeGreaterThan(1 << 20);
    await expect(core.call('runs.delete', { id: run.id })).rejects.toThrow(/still running; cancel it/);

    await core.call('runs.cancel', { id: run.id });
    expect((await core.jobs.waitFor(run.jobId!)).status).toBe('cancelled');
    run = await core.call('runs.get', { id: run.id });
    expect(run.status).toBe('cancelled');
    const stopped =
      run.summary?.steps ?? Math.max(...(await core.call('runs.metrics', { id: run.id })).map((p) => p.step));
    expect(run.checkpointStep).toBe(stopped); // the cancel saved where training stopped

    const resumed = await core.call('runs.resume', { id: run.id });
    expect(resumed.status).toBe('running');
    expect(resumed.endedAt).toBeNull(); // its old end no longer describes it
    expect(resumed.jobId).not.toBe(run.jobId);
    await untilStep(resumed, run.checkpointStep! + 1);
    const log = await core.call('jobs.logTail', { id: resumed.jobId!, lines: 50 });
    expect(log.map((l) => l.line).join('\n')).toMatch(new RegExp(`resuming from .*checkpoint-${run.checkpointStep}`));
    await core.call('runs.cancel', { id: run.id });
    await core.jobs.waitFor(resumed.jobId!);

    expect((await core.call('runs.rename', { id: run.id, name: '  renamed  ' })).name).toBe('renamed');
    const outputDir = (await core.call('runs.get', { id: run.id })).outputDir!;
    expect(existsSync(join(outputDir, 'checkpoints'))).toBe(true);
    expect(await core.call('runs.delete', { id: run.id })).toEqual({ deleted: true, removedFolder: outputDir });
    expect(existsSync(outputDir)).toBe(false);
    await expect(core.call('runs.get', { id: run.id })).rejects.toThrow(/no run/i);
  });

  it('refuses to resume a run that stopped before any checkpoint, instead of starting over', async () => {
    writeFileSync(join(dir, 'broken.jsonl'), 'this is not JSON\n');
    const run = await core.call('runs.start', {
      projectId,
      name: 'no checkpoint',
      config: { ...config, dataset: { ...config.dataset, path: join(dir, 'broken.jsonl') } },
    });
    await core.jobs.waitFor(run.jobId!);
    const failed = await core.call('runs.get', { id: run.id });
    expect(failed.status).toBe('failed');
    expect(failed.checkpointStep).toBeNull();
    await expect(core.call('runs.resume', { id: run.id })).rejects.toThrow(/no checkpoint to resume from/);
  });

  it('evaluates a finished run on a whole dataset of the project: base and tuned in one evaluation', async () => {
    const run = await core.call('runs.start', { projectId, name: 'short', config: { ...config, max_steps: 4 } });
    const trained = await core.jobs.waitFor(run.jobId!);
    expect(trained.status, trained.error ?? '').toBe('succeeded');
    // Adapters are dated when they were trained, not when the list first saw them.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [adapter] = await core.call('adapters.list', { projectId });
    expect(adapter!.createdAt).toBe(trained.endedAt);
    const dataset = { path: join(dir, 'items.jsonl'), format: 'text' as const, eval_split: { kind: 'none' as const } };
    const started = await core.call('evaluations.start', { projectId, runId: run.id, dataset, compareBase: true });
    const measured = await core.jobs.waitFor(started.jobId!);
    expect(measured.status, measured.error ?? '').toBe('succeeded');
    const { evaluation, examples } = await core.call('evaluations.get', { id: started.id });
    expect(evaluation.examples).toBe(30); // every row, not the run's held-out fifth
    expect(evaluation.basePerplexity).toBeGreaterThan(0);
    expect(evaluation.adapterPerplexity).toBeGreaterThan(0);
    expect(examples.every((e) => e.baseNll !== null && e.adapterNll !== null)).toBe(true);
  });
});
