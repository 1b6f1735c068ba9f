// The runs and evaluations service through the real core: train jobs in worker processes on a tiny model,
// their metrics recorded per step, cancel → resume reproducing the recorded losses, and an evaluation.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig, type Evaluation, type EvaluationExample, type Run, type RunMetric } from '../../../src/common/api/runs.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';

let dir: string;
let core: StudioCore;
let projectId: string;
let config: RunConfig;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-runs-'));
  core = createStudioCore({ dataDir: join(dir, 'data'), testJobs: false });
  projectId = ((await core.invoke('projects.create', { name: 'runs' })) as { id: string }).id;
  await makeTinyModel(join(dir, 'model'), 'llama', { seed: 8 });
  const rows = Array.from({ length: 30 }, (_, i) => ({ text: `Item ${i} costs ${i * 3} coins and weighs ${i % 7} kilos.` }));
  writeFileSync(join(dir, 'items.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  config = RunConfig.parse({
    model: join(dir, 'model'),
    dataset: { path: join(dir, 'items.jsonl'), eval_split: { kind: 'ratio', ratio: 0.2 } },
    lora: { r: 4, lora_alpha: 8 },
    max_steps: 60,
    micro_batch_size: 2,
    gradient_accumulation_steps: 1,
    learning_rate: 5e-3,
    max_seq_length: 32,
    save_steps: 5,
    eval_steps: 30,
  });
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('runs service', () => {
  it('records a run, cancels it mid-way, and a resume completes it with the same per-step losses', async () => {
    const seen = new Map<number, number>();
    let run = (await core.invoke('runs.start', { projectId, name: 'items', config })) as Run;
    expect(run).toMatchObject({ status: 'running', name: 'items', seed: 42, outputDir: join(dir, 'data', 'runs', run.id) });
    const firstJob = run.jobId!;
    const cancelled = new Promise<void>((resolve) => {
      const off = core.on('job.metric', (e) => {
        if (e.jobId !== firstJob || e.values.loss === undefined) return;
        seen.set(e.step, e.values.loss);
        if (e.step === 12) {
          off();
          void core.invoke('runs.cancel', { id: run.id }).then(() => resolve());
        }
      });
    });
    await cancelled;
    expect((await core.jobs.waitFor(firstJob)).status).toBe('cancelled');
    run = (await core.invoke('runs.get', { id: run.id })) as Run;
    expect(run.status).toBe('cancelled');
    expect(run.summary).toBeNull();

    run = (await core.invoke('runs.resume', { id: run.id })) as Run;
    expect(run.jobId).not.toBe(firstJob);
    expect((await core.jobs.waitFor(run.jobId!)).status).toBe('succeeded');
    run = (await core.invoke('runs.get', { id: run.id })) as Run;
    expect(run.status).toBe('succeeded');
    expect(run.summary).toMatchObject({ steps: 60, totalSteps: 60, adapterPath: join(run.outputDir!, 'adapter') });
    expect(run.datasetHash).toMatch(/^sha256:[0-9a-f]{64}$/);

    const points = (await core.invoke('runs.metrics', { id: run.id })) as RunMetric[];
    const train = points.filter((p) => p.values.loss !== undefined);
    expect(train.map((p) => p.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    // Steps 11–12 ran twice (before the cancel, and again from checkpoint-10): the same numbers both times.
    for (const [step, loss] of seen) expect(train[step - 1].values.loss).toBeCloseTo(loss, 5);
    expect(points.filter((p) => p.values.eval_loss !== undefined).map((p) => p.step)).toEqual([30, 60]);
    const later = (await core.invoke('runs.metrics', { id: run.id, afterStep: 58 })) as RunMetric[];
    expect(later.map((p) => p.step)).toEqual([59, 60, 60]);

    const listed = (await core.invoke('runs.list', { projectId })) as Run[];
    expect(listed.map((r) => r.id)).toContain(run.id);
    await expect(core.invoke('runs.resume', { id: run.id })).rejects.toThrow(/already finished/);

    let evaluation = (await core.invoke('evaluations.start', { projectId, runId: run.id })) as Evaluation;
    expect((await core.jobs.waitFor(evaluation.jobId!)).status).toBe('succeeded');
    const got = (await core.invoke('evaluations.get', { id: evaluation.id })) as { evaluation: Evaluation; examples: EvaluationExample[] };
    evaluation = got.evaluation;
    expect(evaluation).toMatchObject({ status: 'succeeded', runId: run.id, examples: 6 });
    expect(evaluation.adapterLoss).toBeCloseTo(run.summary!.evalLoss!, 4);
    expect(evaluation.adapterPerplexity!).toBeLessThan(evaluation.basePerplexity!);
    expect(got.examples).toHaveLength(6);
    expect(got.examples.every((e) => e.baseNll !== null && e.adapterNll !== null && e.tokens > 0)).toBe(true);
    expect(((await core.invoke('evaluations.list', { runId: run.id })) as Evaluation[]).map((e) => e.id)).toEqual([evaluation.id]);
  });

  it('rejects a config naming the field, and a run in an unknown project', async () => {
    await expect(core.invoke('runs.start', { projectId, config: { ...config, learning_rate: -1 } })).rejects.toThrow(/learning_rate/);
    await expect(core.invoke('runs.start', { projectId: 'nope', config })).rejects.toThrow(/no project/);
    await expect(core.invoke('runs.get', { id: 'nope' })).rejects.toThrow(/no run/);
  });
});
