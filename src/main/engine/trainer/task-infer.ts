// The `task` job's work: predictions and evaluations of a tuned encoder, and of its base to compare. As in
// evaluate-run.ts one session serves both sides of an adapter: a fresh LoRA session (B = 0, the head as the
// checkpoint has it or created seeded) is the base; the adapter's tensors (LoRA factors and the trained head from
// modules_to_save) loaded into it give the tuned model. A fully fine-tuned task model folder is its own session.
// An encoder AdapterFusion folder (issue 15, attention mode: task adapters combined per token, the head trained with
// them) is its own session too (engine/fusion/encoder.ts); its base side is a fresh LoRA session of the same task
// head (B = 0, the checkpoint's head or a seeded new one), as an adapter's base side is.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LoraSection, RunConfig } from '../../../common/api/runs.ts';
import type {
  PredictRequest,
  PredictResult,
  TaskAnswer,
  TaskEvaluateRequest,
  TaskEvaluateResult,
} from '../../../common/api/tasks.ts';
import { adapterTensors, readAdapter } from '../../formats/peft/index.ts';
import { isFusionFolder } from '../../formats/fusion/index.ts';
import { openEncoderFusionFolder } from '../fusion/encoder.ts';
import { readModelSpec } from '../../formats/model/index.ts';
import { EncoderTokenizer } from '../../formats/tokenizer/encoder/index.ts';
import { isEncoderSpec, labelNames } from '../../model/families/bert/task.ts';
import type { EncoderSpec } from '../../model/families/bert/spec.ts';
import { postprocessQa, qaFeatures, softmax } from '../tasks/index.ts';
import { defaultThreads } from '../executors/onnx/ort.ts';
import type { TensorMap, TrainingSession } from '../session.ts';
import {
  classificationInput,
  loadTaskData,
  TaskBatchPlan,
  taskTarget,
  type TaskData,
  type TaskInput,
} from './task-data.ts';
import { evaluateTask, logitsSession, sequenceLogits, spanLogits, type TaskEvaluationResult } from './task-evaluate.ts';
import { openTaskModelSession, type TaskHeadRequest } from './task-session.ts';

type Task = 'classification' | 'question-answering';

interface TaskModel {
  task: Task;
  request: TaskHeadRequest;
  architecture: string;
  labels: string[];
  session: TrainingSession;
  /** The adapter's tensors (tuned side); null = the session already is the tuned model (a full task model). */
  adapter: TensorMap | null;
  /** The session's own trainables (the base side of an adapter session). */
  base: TensorMap;
  /** An AdapterFusion folder: the session is the fusion; the base side is this separate session (opened on demand). */
  fusionBase?: () => Promise<TrainingSession>;
  warnings: string[];
}

function requestFromHead(spec: EncoderSpec, where: string): TaskHeadRequest {
  if (spec.head.task === 'question_answering') return { task: 'question_answering' };
  if (spec.head.task === 'sequence_classification') {
    return spec.head.problemType === 'regression'
      ? { task: 'sequence_classification', regression: true }
      : { task: 'sequence_classification', labels: labelNames(spec) };
  }
  throw new Error(
    `${where} has no classification or question-answering head (it is ${spec.architecture}): give a task adapter (--adapter) or a fine-tuned task model folder`,
  );
}

/** The model to answer with: an adapter's task over `model`, or `model`'s own task head. */
async function openTaskModel(model: string, adapterPath: string | null, maxLength: number): Promise<TaskModel> {
  const { spec } = await readModelSpec(model);
  if (!isEncoderSpec(spec))
    throw new Error(
      `${model}: ${spec.architecture} is a decoder; predictions and task metrics are for encoders (BERT, DistilBERT, RoBERTa)`,
    );
  let request: TaskHeadRequest;
  let lora: LoraSection | null = null;
  let tensors: TensorMap | null = null;
  if (adapterPath !== null && isFusionFolder(adapterPath)) return openFusionTaskModel(model, adapterPath, maxLength);
  if (adapterPath !== null) {
    if (existsSync(join(adapterPath, 'config.json')) && !existsSync(join(adapterPath, 'adapter_config.json'))) {
      throw new Error(`${adapterPath} is a full model folder, not an adapter: pass it as the model`);
    }
    const adapter = await readAdapter(adapterPath);
    if (!adapter.taskHead)
      throw new Error(
        `${adapterPath}: the adapter has no task head (task_head.json): it was not trained for classification or question answering`,
      );
    const head = adapter.taskHead;
    request = head.architecture.endsWith('ForQuestionAnswering')
      ? { task: 'question_answering' }
      : head.problemType === 'regression'
        ? { task: 'sequence_classification', regression: true }
        : {
            task: 'sequence_classification',
            labels: Object.keys(head.id2label ?? {})
              .sort((a, b) => Number(a) - Number(b))
              .map((k) => head.id2label![k]),
          };
    const c = adapter.config;
    lora = {
      r: c.r,
      lora_alpha: c.lora_alpha,
      lora_dropout: 0,
      target_modules: Array.isArray(c.target_modules)
        ? c.target_modules
        : [...new Set([...adapter.layers.keys()].map((m) => m.split('.').at(-1)!))],
      bias: c.bias,
      use_rslora: c.use_rslora,
    };
    tensors = adapterTensors(adapter);
  } else request = requestFromHead(spec, model);
  const task: Task = request.task === 'question_answering' ? 'question-answering' : 'classification';
  const opened = await openTaskSession(model, task, request, lora, maxLength);
  const labels = request.task === 'sequence_classification' && !request.regression ? request.labels : [];
  return {
    task,
    request,
    architecture: opened.spec.architecture,
    labels,
    session: opened.session,
    adapter: tensors,
    base: opened.session.getTrainables(),
    warnings: opened.warnings,
  };
}

/** A task session over `model` only to answer (no data): LoRA with `lora`, or the model itself (full). */
function openTaskSession(model: string, task: Task, request: TaskHeadRequest, lora: LoraSection | null, maxLength: number) {
  const config = RunConfig.parse({
    model,
    dataset: { path: '-', eval_split: { kind: 'none' } },
    task,
    method: lora ? 'lora' : 'full',
    ...(lora ? { lora } : {}),
    max_seq_length: maxLength,
    // only opens the model; the section's default stride (128) would refuse a QA model asked at ≤128 tokens
    ...(task === 'question-answering' ? { question_answering: { doc_stride: Math.max(1, maxLength - 1) } } : {}),
    executor: 'cpu',
    save_steps: null,
  });
  return openTaskModelSession({ config, request, threads: defaultThreads() });
}

/** An encoder AdapterFusion folder's task model: the fused session (its adapters re-hashed, attention and head
 *  loaded); the base side, when asked for, a fresh LoRA session of the same head over `model`. */
async function openFusionTaskModel(model: string, dir: string, maxLength: number): Promise<TaskModel> {
  const f = await openEncoderFusionFolder(dir, model, defaultThreads());
  const request: TaskHeadRequest = f.task === 'question-answering' ? { task: 'question_answering' } : { task: 'sequence_classification', labels: f.labels };
  return {
    task: f.task,
    request,
    architecture: f.inputs.spec.architecture,
    labels: f.labels,
    session: f.session,
    adapter: null,
    base: new Map(),
    warnings: [],
    fusionBase: async () => (await openTaskSession(model, f.task, request, LoraSection.parse({ lora_dropout: 0 }), maxLength)).session,
  };
}

function classificationAnswer(logits: ArrayLike<number>, labels: string[]): TaskAnswer {
  const p = softmax(logits);
  const ranked = p
    .map((probability, i) => ({ label: labels[i] ?? `LABEL_${i}`, probability }))
    .sort((a, b) => b.probability - a.probability);
  return { kind: 'classification', label: ranked[0].label, probabilities: ranked };
}

async function answer(m: TaskModel, session: TrainingSession, request: PredictRequest, tokenizer: EncoderTokenizer): Promise<TaskAnswer> {
  const forward = logitsSession(session);
  const input = request.input;
  if (input.kind === 'classification') {
    if (m.task !== 'classification')
      throw new Error(`${m.architecture} answers questions: give --question and --context`);
    const { input: x } = classificationInput(tokenizer, input.text, input.text_pair, request.maxLength);
    const plan = new TaskBatchPlan(
      [x],
      { seed: 0, microBatchSize: 1, maxLength: request.maxLength, padId: tokenizer.padId, shuffle: false },
      'none',
    );
    const [out] = await sequenceLogits(forward, plan);
    return classificationAnswer(out.rows.subarray(0, out.width), m.labels);
  }
  if (m.task !== 'question-answering') throw new Error(`${m.architecture} classifies text: give --text`);
  const examples = [
    { id: 'q', question: input.question, context: input.context, answers: { text: [], answerStart: [] } },
  ];
  const features = qaFeatures(tokenizer, examples, {
    maxLength: request.maxLength,
    docStride: Math.min(request.docStride, request.maxLength - 2),
  });
  const inputs: TaskInput[] = features.map((f) => ({
    ids: Int32Array.from(f.inputIds),
    trained: new Uint8Array(f.inputIds.length),
    tokenTypeIds: Int32Array.from(f.tokenTypeIds),
  }));
  const plan = new TaskBatchPlan(
    inputs,
    { seed: 0, microBatchSize: 4, maxLength: request.maxLength, padId: tokenizer.padId, shuffle: false },
    'span', // no gold span (-1: not trained), but the span head's forward reads the targets' shape
  );
  const outputs = await sequenceLogits(forward, plan);
  const [prediction] = postprocessQa(examples, features, outputs.map(spanLogits), {
    nBestSize: 20,
    maxAnswerLength: request.maxAnswerLength,
  });
  const best = prediction.nBest[0];
  return {
    kind: 'question-answering',
    text: prediction.text,
    start: prediction.start,
    end: prediction.end,
    score: best?.score ?? Number.NEGATIVE_INFINITY,
    probability: best?.probability ?? 0,
  };
}

/** The tuned side, then (when asked and there is one) the base side, each through `run`. */
async function bothSides<T>(
  m: TaskModel,
  compareBase: boolean,
  run: (session: TrainingSession) => Promise<T>,
): Promise<{ tuned: T; base: T | null }> {
  let base: T | null = null;
  if (m.fusionBase && compareBase) {
    const s = await m.fusionBase();
    try {
      base = await run(s);
    } finally {
      await s.dispose();
    }
  }
  if (m.adapter && compareBase) base = await run(m.session);
  if (m.adapter) m.session.setTrainables(new Map([...m.base, ...m.adapter]));
  const tuned = await run(m.session);
  return { tuned, base };
}

export async function predictTask(request: PredictRequest): Promise<PredictResult> {
  const m = await openTaskModel(request.model, request.adapterPath, request.maxLength);
  try {
    const tokenizer = EncoderTokenizer.load(request.model);
    const warnings = [...m.warnings];
    if (request.compareBase && !m.adapter && !m.fusionBase)
      warnings.push('no adapter: the model is its own tuned model, so there is no base side to compare');
    const { tuned, base } = await bothSides(m, request.compareBase, (s) => answer(m, s, request, tokenizer));
    return { model: m.architecture, tuned, base, warnings };
  } finally {
    await m.session.dispose();
  }
}

function worstExamples(
  data: TaskData,
  r: TaskEvaluationResult,
  labels: string[],
  count: number,
): TaskEvaluateResult['worst'] {
  const worst = [...r.perExample].sort((a, b) => a.score - b.score).slice(0, count);
  if (data.task === 'classification') {
    return worst.map(({ index, score }) => {
      const row = data.evalExamples[index];
      const predicted = r.classification?.[index]?.label;
      return {
        index,
        text: row.textPair ? `${row.text} ‖ ${row.textPair}` : row.text,
        context: null,
        gold: labels[row.label] ?? String(row.label),
        predicted: predicted === undefined ? '' : (labels[predicted] ?? String(predicted)),
        score,
      };
    });
  }
  const byId = new Map((r.qa ?? []).map((p) => [p.id, p.text]));
  return worst.map(({ index, score }) => {
    const e = data.evalExamples[index];
    return {
      index,
      text: e.question,
      context: e.context,
      gold: e.answers.text[0] ?? '',
      predicted: byId.get(e.id) ?? '',
      score,
    };
  });
}

export async function evaluateTaskModel(
  request: TaskEvaluateRequest,
  signal?: AbortSignal,
): Promise<TaskEvaluateResult> {
  const m = await openTaskModel(request.model, request.adapterPath, 512);
  try {
    if (m.task !== request.task)
      throw new Error(`${m.architecture} is a ${m.task} model, but the evaluation asks for ${request.task}`);
    const tokenizer = EncoderTokenizer.load(request.model);
    const config = RunConfig.parse({
      model: request.model,
      dataset: request.dataset,
      task: request.task,
      ...(request.classification ? { classification: request.classification } : {}),
      ...(request.question_answering ? { question_answering: request.question_answering } : {}),
      max_seq_length: request.maxLength,
      seed: request.seed,
      save_steps: null,
    });
    const data = await loadTaskData(config, tokenizer);
    if (data.eval.length === 0)
      throw new Error(`${request.dataset.path}: no eval rows (eval_split "none"): give a ratio or an eval file`);
    if (data.task === 'classification' && m.labels.length && data.labels.join('\n') !== m.labels.join('\n')) {
      throw new Error(
        `the data's labels (${data.labels.join(', ')}) are not the model's (${m.labels.join(', ')}) in the same order: give the label list (classification.labels)`,
      );
    }
    const plan = new TaskBatchPlan(
      data.eval,
      { seed: 0, microBatchSize: request.batchSize, maxLength: request.maxLength, padId: data.padId, shuffle: false },
      taskTarget(data),
    );
    const qa = config.question_answering;
    const options = {
      signal,
      nBestSize: qa?.n_best_size,
      maxAnswerLength: qa?.max_answer_length,
      version2: qa?.version_2_with_negative,
      nullScoreDiffThreshold: qa?.null_score_diff_threshold,
    };
    const { tuned, base } = await bothSides(m, request.compareBase, (s) => evaluateTask(logitsSession(s), plan, data, options));
    const scores = (r: TaskEvaluationResult) => ({
      metrics: { eval_loss: r.loss, ...r.metrics },
      confusionMatrix: r.confusionMatrix ?? null,
    });
    const labels = data.task === 'classification' ? data.labels : [];
    return {
      task: request.task,
      model: m.architecture,
      labels,
      examples: data.task === 'classification' ? data.eval.length : data.evalExamples.length,
      tuned: scores(tuned),
      base: base ? scores(base) : null,
      worst: worstExamples(data, tuned, labels, request.worst),
      warnings: m.warnings,
    };
  } finally {
    await m.session.dispose();
  }
}
