// Encoder task runs end to end on the real CPU engine and the bundled pretrained encoder (resources/encoder-model):
// a classification LoRA run on SST-2-layout rows and a QA LoRA run on SQuAD-layout questions write PEFT adapters
// with the task type, modules_to_save and the trained head under PEFT's keys; their eval points log the task's
// metrics and keep the best weights; the classifier beats its untrained base on held-out sentences; predictions
// come back as label probabilities and as a span of the given context.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { PredictRequest, TaskEvaluateRequest } from '../../../src/common/api/tasks.ts';
import { fineTune, type FineTuneReporter } from '../../../src/main/engine/trainer/fine-tune.ts';
import { evaluateTaskModel, predictTask } from '../../../src/main/engine/trainer/task-infer.ts';
import { SafetensorsFile } from '../../../src/main/formats/safetensors/index.ts';

const MODEL = resolve(import.meta.dirname, '../../../resources/encoder-model');
const DATA = resolve(import.meta.dirname, '../../../resources/encoder-data');
let root: string;
let sst2Train: string;
let sst2Eval: string;
let squadTrain: string;
let squadDev: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fine-tune-task-'));
  const lines = async (file: string, n: number) =>
    (await readFile(file, 'utf8')).split('\n').filter(Boolean).slice(0, n).join('\n') + '\n';
  sst2Train = join(root, 'sst2-train.jsonl');
  sst2Eval = join(root, 'sst2-eval.jsonl');
  await writeFile(sst2Train, await lines(join(DATA, 'sst2/train.jsonl'), 1200));
  await writeFile(sst2Eval, await lines(join(DATA, 'sst2/validation.jsonl'), 96));
  const cut = async (file: string, articles: number, paragraphs: number) => {
    const squad = JSON.parse(await readFile(file, 'utf8')) as {
      version: string;
      data: Array<{ title: string; paragraphs: unknown[] }>;
    };
    return JSON.stringify({
      version: squad.version,
      data: squad.data.slice(0, articles).map((d) => ({ ...d, paragraphs: d.paragraphs.slice(0, paragraphs) })),
    });
  };
  squadTrain = join(root, 'train-v1.1.json');
  squadDev = join(root, 'dev-v1.1.json');
  await writeFile(squadTrain, await cut(join(DATA, 'squad/train-v1.1.json'), 3, 40));
  await writeFile(squadDev, await cut(join(DATA, 'squad/dev-v1.1.json'), 3, 6));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function recorder() {
  const metrics: { step: number; values: Record<string, number> }[] = [];
  const logs: string[] = [];
  const reporter: FineTuneReporter = {
    log: (line) => logs.push(line),
    progress: () => {},
    metric: (step, values) => metrics.push({ step, values }),
  };
  return { metrics, logs, reporter };
}

const common = {
  model: MODEL,
  method: 'lora',
  lora: { r: 8, lora_alpha: 32, lora_dropout: 0 },
  micro_batch_size: 16,
  gradient_accumulation_steps: 1,
  learning_rate: 3e-3,
  lr_scheduler_type: 'linear',
  save_steps: null,
  logging_steps: 5,
} as const;

async function keysOf(file: string): Promise<string[]> {
  const st = await SafetensorsFile.open(file);
  const names = st.names();
  await st.close();
  return names;
}

describe('encoder task runs', () => {
  it('classification: a SEQ_CLS adapter with its head, task metrics at eval points, the best kept, and better than the base', async () => {
    const outputDir = join(root, 'cls');
    const config = RunConfig.parse({
      ...common,
      task: 'classification',
      classification: { labels: ['negative', 'positive'] },
      dataset: { path: sst2Train, eval_split: { kind: 'file', path: sst2Eval } },
      max_steps: 150,
      eval_steps: 75,
      max_seq_length: 48,
    });
    const { metrics, logs, reporter } = recorder();
    const result = await fineTune({ config, outputDir, resume: false, signal: new AbortController().signal, reporter });
    expect(result.status).toBe('completed');
    // the decoder default targets were replaced by PEFT's BERT default, and the created head was said
    expect(logs.some((l) => /LoRA targets: query, value/.test(l))).toBe(true);
    expect(logs.some((l) => /classifier .*created/.test(l))).toBe(true);
    const evals = metrics.filter((m) => m.values.eval_accuracy !== undefined);
    expect(evals.map((m) => m.step)).toEqual([75, 150]);
    expect(result.summary.best?.metric).toBe('eval_accuracy');
    expect(existsSync(join(outputDir, 'best', 'adapter_model.safetensors'))).toBe(true);

    const adapterDir = result.summary.adapterPath!;
    const adapterConfig = JSON.parse(await readFile(join(adapterDir, 'adapter_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(adapterConfig.task_type).toBe('SEQ_CLS');
    // the bundled masked-LM checkpoint has no pooler: it is created and trained with the head, not left random
    expect(adapterConfig.modules_to_save).toEqual(['pooler', 'classifier', 'score']);
    expect(adapterConfig.target_modules).toEqual(['query', 'value']);
    const keys = await keysOf(join(adapterDir, 'adapter_model.safetensors'));
    expect(keys).toContain('base_model.model.classifier.weight');
    expect(keys).toContain('base_model.model.classifier.bias');
    expect(keys).toContain('base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight');
    expect(keys).toContain('base_model.model.bert.pooler.dense.weight');
    expect(JSON.parse(await readFile(join(adapterDir, 'task_head.json'), 'utf8'))).toMatchObject({
      architecture: 'BertForSequenceClassification',
      id2label: { 0: 'negative', 1: 'positive' },
    });

    const evaluation = await evaluateTaskModel(
      TaskEvaluateRequest.parse({
        model: MODEL,
        adapterPath: adapterDir,
        compareBase: true,
        task: 'classification',
        classification: { labels: ['negative', 'positive'] },
        dataset: { path: sst2Train, eval_split: { kind: 'file', path: sst2Eval } },
        maxLength: 48,
        worst: 3,
      }),
    );
    expect(evaluation.examples).toBe(96);
    expect(evaluation.tuned.confusionMatrix!.flat().reduce((a, b) => a + b, 0)).toBe(96);
    expect(evaluation.tuned.metrics.eval_accuracy).toBeCloseTo(result.summary.evalMetrics!.eval_accuracy, 10);
    expect(evaluation.tuned.metrics.eval_accuracy).toBeGreaterThan(evaluation.base!.metrics.eval_accuracy + 0.1);
    expect(evaluation.worst).toHaveLength(3);

    const prediction = await predictTask(
      PredictRequest.parse({
        model: MODEL,
        adapterPath: adapterDir,
        compareBase: true,
        input: { kind: 'classification', text: 'What a wonderful day!' },
      }),
    );
    expect(prediction.tuned.kind).toBe('classification');
    if (prediction.tuned.kind !== 'classification' || prediction.base?.kind !== 'classification')
      throw new Error('classification answers expected');
    expect(prediction.tuned.probabilities.map((p) => p.label).sort()).toEqual(['negative', 'positive']);
    expect(prediction.tuned.probabilities.reduce((a, p) => a + p.probability, 0)).toBeCloseTo(1, 6);
    expect(prediction.tuned.label).toBe('positive');
    expect(prediction.base.probabilities[0].probability).not.toBeCloseTo(
      prediction.tuned.probabilities[0].probability,
      3,
    );
  }, 240_000);

  it('question answering: a QUESTION_ANS adapter with qa_outputs, EM/F1 at eval points, and a predicted span of the context', async () => {
    const outputDir = join(root, 'qa');
    const config = RunConfig.parse({
      ...common,
      task: 'question-answering',
      question_answering: { doc_stride: 32 },
      dataset: { path: squadTrain, eval_split: { kind: 'file', path: squadDev } },
      max_steps: 20,
      eval_steps: 10,
      max_seq_length: 128,
    });
    const { metrics, reporter } = recorder();
    const result = await fineTune({ config, outputDir, resume: false, signal: new AbortController().signal, reporter });
    expect(result.status).toBe('completed');
    const evals = metrics.filter((m) => m.values.eval_f1 !== undefined);
    expect(evals.map((m) => m.step)).toEqual([10, 20]);
    for (const e of evals) {
      expect(e.values.eval_f1).toBeGreaterThanOrEqual(e.values.eval_exact_match);
      expect(e.values.eval_f1).toBeLessThanOrEqual(1);
    }
    const adapterDir = result.summary.adapterPath!;
    const adapterConfig = JSON.parse(await readFile(join(adapterDir, 'adapter_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(adapterConfig.task_type).toBe('QUESTION_ANS');
    expect(adapterConfig.modules_to_save).toEqual(['qa_outputs']);
    expect(await keysOf(join(adapterDir, 'adapter_model.safetensors'))).toContain('base_model.model.qa_outputs.weight');

    const context = 'Mia went to the beach with her aunt. Mia ate soup for lunch. It was a windy day.';
    const prediction = await predictTask(
      PredictRequest.parse({
        model: MODEL,
        adapterPath: adapterDir,
        input: { kind: 'question-answering', question: 'What did Mia eat for lunch?', context },
      }),
    );
    if (prediction.tuned.kind !== 'question-answering') throw new Error('a span answer expected');
    const { text, start, end } = prediction.tuned;
    expect(text.length).toBeGreaterThan(0);
    expect(context.slice(start!, end!)).toBe(text);
  }, 240_000);
});
