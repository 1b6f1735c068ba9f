// An encoder task's evaluation during training: its metrics are logged beside the eval loss at every eval point
// and at the end, the weights of the best evaluation (by the task's metric, not the newest) are kept in
// <outputDir>/best, and a resumed run goes on comparing against that best instead of starting over.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchPlan } from '../../../src/main/engine/data/batches.ts';
import { train, type TaskEvaluation, type TrainerHyperparameters } from '../../../src/main/engine/trainer/trainer.ts';
import { loadCheckpoint, listCheckpoints } from '../../../src/main/engine/trainer/checkpoint.ts';
import { SafetensorsFile } from '../../../src/main/formats/safetensors/index.ts';
import { RunConfig } from '../../../src/common/api/runs.ts';
import type { TensorMap } from '../../../src/main/engine/session.ts';
import { BigramLoraDouble } from './bigram-lora-double.ts';
import { makeExamples, PAD, VOCAB } from './fixtures.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'task-eval-'));
  dirs.push(dir);
  return dir;
}
const hyper = (o: Partial<TrainerHyperparameters> = {}): TrainerHyperparameters => ({
  ...RunConfig.parse({ model: 'm', dataset: { path: 'd' } }),
  learning_rate: 5e-2,
  gradient_accumulation_steps: 1,
  save_steps: null,
  eval_steps: 5,
  max_steps: 20,
  ...o,
});
const plan = () => new BatchPlan(makeExamples(40, 1), { seed: 1, microBatchSize: 2, maxLength: 16, padId: PAD });

/** A task evaluation whose accuracy follows a script (0.5, 0.9, 0.7, 0.6 …) and that remembers the weights it saw. */
function scripted(values: number[]): TaskEvaluation & { seen: TensorMap[] } {
  const seen: TensorMap[] = [];
  return {
    seen,
    best: { key: 'eval_accuracy', higherIsBetter: true },
    async evaluate(session) {
      seen.push(session.getTrainables());
      return {
        loss: 1 / (seen.length + 1),
        metrics: { eval_accuracy: values[seen.length - 1], eval_macro_f1: values[seen.length - 1] / 2 },
      };
    },
  };
}

describe('task evaluation during training', () => {
  it('logs the metrics at each eval point and at the end, and keeps the best evaluation’s weights', async () => {
    const outputDir = await tempDir();
    const task = scripted([0.5, 0.9, 0.7, 0.6]);
    const logs: Array<Record<string, number>> = [];
    const result = await train({
      session: new BigramLoraDouble({ vocab: VOCAB, rank: 4, alpha: 8, dropout: 0, seed: 9 }),
      hyperparameters: hyper(),
      train: plan(),
      outputDir,
      taskEvaluation: task,
      onLog: (e) => logs.push({ ...e }),
    });
    const evals = logs.filter((e) => e.eval_accuracy !== undefined);
    expect(evals.map((e) => [e.step, e.eval_accuracy, e.eval_macro_f1])).toEqual([
      [5, 0.5, 0.25],
      [10, 0.9, 0.45],
      [15, 0.7, 0.35],
      [20, 0.6, 0.3],
    ]);
    expect(evals.every((e) => typeof e.eval_loss === 'number')).toBe(true);
    expect(result.best).toEqual({ step: 10, metric: 'eval_accuracy', value: 0.9, path: join(outputDir, 'best') });
    expect(result.evalMetrics).toEqual({ eval_accuracy: 0.6, eval_macro_f1: 0.3 });
    // best/ holds the weights the step-10 evaluation saw, not the final ones
    const stored = await SafetensorsFile.open(join(outputDir, 'best', 'trainables.safetensors'));
    const atBest = task.seen[1];
    const final = task.seen[3];
    let differs = false;
    for (const [name, t] of atBest) {
      expect(Array.from(await stored.readFloat32(name)), name).toEqual(Array.from(t.data));
      differs ||= t.data.some((v, i) => v !== final.get(name)!.data[i]);
    }
    await stored.close();
    expect(differs).toBe(true);
  });

  it('a resumed run keeps comparing against the best it had', async () => {
    const outputDir = await tempDir();
    const first = scripted([0.8, 0.4]);
    const ac = new AbortController();
    await train({
      session: new BigramLoraDouble({ vocab: VOCAB, rank: 4, alpha: 8, dropout: 0, seed: 9 }),
      hyperparameters: hyper({ save_steps: 5 }),
      train: plan(),
      outputDir,
      taskEvaluation: first,
      signal: ac.signal,
      onLog: (e) => e.step === 10 && (e as unknown as Record<string, number>).eval_accuracy !== undefined && ac.abort(),
    });
    const checkpoints = await listCheckpoints(outputDir);
    const newest = checkpoints.at(-1)!;
    expect((await loadCheckpoint(newest.dir)).state.best).toMatchObject({ step: 5, value: 0.8 });
    const second = scripted([0.7, 0.85]);
    const result = await train({
      session: new BigramLoraDouble({ vocab: VOCAB, rank: 4, alpha: 8, dropout: 0, seed: 9 }),
      hyperparameters: hyper({ save_steps: 5 }),
      train: plan(),
      outputDir,
      taskEvaluation: second,
      resumeFrom: newest.dir,
    });
    // 0.7 at step 15 does not beat the 0.8 from before the resume; 0.85 at the end does
    expect(result.best).toMatchObject({ step: 20, value: 0.85 });
  });
});
