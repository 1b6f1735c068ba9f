// The studio's Evaluate and `lora-studio eval --run` build a task run's evaluation with one function: what it asks
// for (final adapter, best checkpoint, another eval file, full runs as whole models) and which logged point is the
// best evaluation, the way the trainer keeps best/.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunConfig, type Run, type RunConfigInput } from '../../../src/common/api/runs.ts';
import { bestTaskPoint, taskEvaluationOfRun, TASK_METRIC_KEYS } from '../../../src/common/api/task-runs.ts';
import { TaskEvaluateRequest } from '../../../src/common/api/tasks.ts';
import { taskEvaluationOfRun as cliTaskEvaluationOfRun } from '../../../src/main/cli/commands/predict.ts';

function runOf(config: RunConfigInput, summary: Partial<NonNullable<Run['summary']>> | null): Run {
  return {
    id: 'r1',
    projectId: 'p1',
    name: 'sentiment',
    status: summary ? 'succeeded' : 'running',
    config: RunConfig.parse(config),
    jobId: 'j1',
    seed: 7,
    appVersion: 'test',
    datasetHash: null,
    modelRevision: null,
    outputDir: '/runs/r1',
    error: null,
    summary: summary
      ? {
          steps: 10,
          totalSteps: 10,
          epoch: 1,
          trainLoss: 0.3,
          evalLoss: 0.4,
          evalPerplexity: null,
          trainedTokens: 100,
          seconds: 3,
          peakRssBytes: null,
          trainableParameters: 10,
          adapterPath: '/runs/r1/adapter',
          checkpointPath: null,
          ...summary,
        }
      : null,
    lastTrainLoss: null,
    checkpointStep: null,
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: null,
    endedAt: null,
  };
}

const classification: RunConfigInput = {
  model: '/models/encoder',
  dataset: { path: '/data/sst2.jsonl', eval_split: { kind: 'ratio', ratio: 0.2 }, columns: { text: 'sentence' } },
  task: 'classification',
  classification: { labels: ['negative', 'positive'] },
  max_seq_length: 64,
  seed: 7,
};

describe('taskEvaluationOfRun', () => {
  it('measures a LoRA run as base + its final adapter on its own eval split, base beside it', () => {
    const run = runOf(classification, { best: { step: 5, metric: 'eval_accuracy', value: 0.9, path: '/runs/r1/best' } });
    const built = taskEvaluationOfRun(run, { compareBase: true, worst: 5 });
    expect(built.ok).toBe(true);
    const request = TaskEvaluateRequest.parse(built.ok ? built.request : null);
    expect(request).toMatchObject({
      model: '/models/encoder',
      adapterPath: '/runs/r1/adapter',
      compareBase: true,
      maxLength: 64,
      task: 'classification',
      seed: 7,
      worst: 5,
      classification: { labels: ['negative', 'positive'] },
    });
    expect(request.dataset.eval_split).toEqual({ kind: 'ratio', ratio: 0.2 });

    const best = taskEvaluationOfRun(run, { checkpoint: 'best', compareBase: true, worst: 5 });
    expect(best.ok && best.request.adapterPath).toBe('/runs/r1/best');
  });

  it('reads every row of another file with the run’s columns when one is chosen', () => {
    const built = taskEvaluationOfRun(runOf(classification, {}), {
      evalFile: '/data/other.jsonl',
      compareBase: true,
      worst: 3,
    });
    if (!built.ok) throw new Error(built.problem);
    expect(built.request.dataset.path).toBe('/data/sst2.jsonl');
    expect(built.request.dataset.columns).toEqual(RunConfig.parse(classification).dataset.columns);
    expect(built.request.dataset.eval_split).toEqual({ kind: 'file', path: '/data/other.jsonl' });
  });

  it('takes a full fine-tune’s folder as the whole model, with no base side', () => {
    const run = runOf({ ...classification, method: 'full' }, { adapterPath: '/runs/r1/model' });
    const built = taskEvaluationOfRun(run, { compareBase: true, worst: 3 });
    if (!built.ok) throw new Error(built.problem);
    expect(built.request).toMatchObject({ model: '/runs/r1/model', adapterPath: null, compareBase: false });
  });

  it('carries a QA run’s stride and answer length', () => {
    const run = runOf(
      {
        ...classification,
        task: 'question-answering',
        classification: undefined,
        question_answering: { doc_stride: 32, max_answer_length: 12 },
        max_seq_length: 128,
      },
      {},
    );
    const built = taskEvaluationOfRun(run, { compareBase: true, worst: 3 });
    if (!built.ok) throw new Error(built.problem);
    expect(built.request).toMatchObject({ task: 'question-answering', docStride: 32, maxAnswerLength: 12, maxLength: 128 });
  });

  it('says why a run cannot be measured', () => {
    expect(taskEvaluationOfRun(runOf(classification, null), { compareBase: true, worst: 1 })).toEqual({
      ok: false,
      problem: 'no-output',
    });
    expect(taskEvaluationOfRun(runOf(classification, {}), { checkpoint: 'best', compareBase: true, worst: 1 })).toEqual({
      ok: false,
      problem: 'no-best',
    });
    const decoder = runOf({ model: '/m', dataset: { path: '/d.jsonl' } }, {});
    expect(taskEvaluationOfRun(decoder, { compareBase: true, worst: 1 })).toEqual({ ok: false, problem: 'not-a-task-run' });
  });

  it('is what `lora-studio eval --run` asks (the CLI resolves its paths first)', () => {
    const run = runOf(classification, {});
    const ui = taskEvaluationOfRun(run, { evalFile: resolve('other.jsonl'), compareBase: true, worst: 4 });
    expect(ui.ok && ui.request).toEqual(
      cliTaskEvaluationOfRun(run, { dataset: 'other.jsonl', compareBase: true, worst: 4 }),
    );
    expect(() => cliTaskEvaluationOfRun(runOf(classification, null), { compareBase: true, worst: 1 })).toThrow(
      /has no final adapter yet/,
    );
  });
});

describe('bestTaskPoint', () => {
  it('is the first point that beats every earlier one on the task’s metric, as best/ is kept', () => {
    const points = [
      { step: 30, eval_accuracy: 0.8, eval_loss: 0.5 },
      { step: 10, eval_accuracy: 0.6 },
      { step: 20, eval_accuracy: 0.8 }, // ties the step-30 value earlier: it is the one kept
      { step: 25, loss: 0.2 }, // a training point
      { step: 40, eval_accuracy: Number.NaN },
    ];
    expect(bestTaskPoint('classification', points)).toEqual({ step: 20, value: 0.8 });
    expect(bestTaskPoint('question-answering', points)).toBeNull();
    expect(bestTaskPoint('question-answering', [{ step: 5, eval_f1: 0.3 }, { step: 9, eval_f1: 0.7, eval_exact_match: 0.5 }])).toEqual({
      step: 9,
      value: 0.7,
    });
  });

  it('names the figures each task reports', () => {
    expect(TASK_METRIC_KEYS.classification).toEqual(['eval_accuracy', 'eval_macro_f1']);
    expect(TASK_METRIC_KEYS['question-answering']).toEqual(['eval_exact_match', 'eval_f1']);
  });
});
