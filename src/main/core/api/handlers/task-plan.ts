// models.plan for an encoder task run (classification, question answering): what the run will train and cost, from
// the same readers and rules the task job uses — the dataset read with the run's settings (its label list when the
// config names none), the checkpoint opened as its task model (head and BERT's pooler created when missing), the LoRA
// targets the run means (PEFT's family default for the decoder list), the head trained in full as PEFT's task types
// do. Memory and time follow the decoder plan's formulas (models.ts) with the head's few outputs in place of a
// vocabulary and QA's context windows as the examples a step sees.
import { totalmem } from 'node:os';
import type { RunPlan } from '../../../../common/api/models.ts';
import { classificationSettings, questionAnsweringSettings, type RunConfig } from '../../../../common/api/runs.ts';
import { say, type Said } from '../../../../common/api/phrases.ts';
import { readTaskData, type TaskDataRead } from '../../../formats/dataset/tasks/index.ts';
import { linearModules } from '../../../formats/model/index.ts';
import { countTaskTrainable, taskModelView, type TaskModelView } from '../../../formats/peft/task-count.ts';
import { EncoderTokenizer } from '../../../formats/tokenizer/encoder/index.ts';
import { StudioError } from '../../errors.ts';
import { requireExisting } from './datasets.ts';
import { RUNTIME_OVERHEAD_BYTES, targetsFailure, trainingThroughput } from './models.ts';
import type { CoreContext } from './types.ts';

/** Examples tokenized to measure lengths (and QA windows). */
const TOKEN_SAMPLE = 400;

type Task = 'classification' | 'question-answering';

async function readData(config: RunConfig, task: Task): Promise<TaskDataRead> {
  requireExisting(config.dataset.path, 'file', 'dataset.path');
  return readTaskData({
    task,
    path: config.dataset.path,
    classification: classificationSettings(config),
    question_answering: questionAnsweringSettings(config),
  });
}

interface Lengths {
  /** Mean tokens of a model input (a QA window). */
  mean: number;
  /** Inputs cut at max_seq_length (classification). */
  truncated: number;
  longest: number;
  /** Model inputs per example (QA: windows per question). */
  inputsPerExample: number;
  sampled: number;
}

function measure(dir: string, texts: TaskDataRead['texts'], config: RunConfig, task: Task): Lengths {
  const tokenizer = EncoderTokenizer.load(dir);
  const step = Math.max(1, Math.floor(texts.length / TOKEN_SAMPLE));
  let inputs = 0;
  let tokens = 0;
  let truncated = 0;
  let longest = 0;
  let sampled = 0;
  const qa = questionAnsweringSettings(config);
  for (let i = 0; i < texts.length && sampled < TOKEN_SAMPLE; i += step) {
    const [first, second] = texts[i];
    sampled++;
    if (task === 'classification') {
      const full = tokenizer.encode(first, second, { maxLength: null })[0];
      longest = Math.max(longest, full.inputIds.length);
      if (full.inputIds.length > config.max_seq_length) truncated++;
      tokens += Math.min(full.inputIds.length, config.max_seq_length);
      inputs++;
    } else {
      const windows = tokenizer.encode(first, second, {
        maxLength: config.max_seq_length,
        truncation: 'only_second',
        returnOverflowing: true,
        stride: qa.doc_stride,
      });
      for (const w of windows) {
        tokens += w.inputIds.length;
        longest = Math.max(longest, w.inputIds.length);
      }
      inputs += windows.length;
    }
  }
  return { mean: inputs ? tokens / inputs : 0, truncated, longest, inputsPerExample: sampled ? inputs / sampled : 1, sampled };
}

export async function planTaskRun(config: RunConfig, ctx: CoreContext): Promise<RunPlan> {
  const task = config.task as Task;
  requireExisting(config.model, 'folder', 'model');
  const warnings: RunPlan['warnings'] = [];
  const warn = (field: string | null, said: Said, blocking = false) =>
    warnings.push({ field, message: said.message, phrase: said.phrase, blocking });

  let data: TaskDataRead | null = null;
  try {
    data = await readData(config, task);
  } catch (err) {
    warn('dataset.path', say('plan.datasetUnreadable', { reason: (err as Error).message }), true);
  }
  const cls = data?.report.classification ?? null;
  const labels = classificationSettings(config).labels ?? cls?.labels.map((l) => l.name) ?? ['LABEL_0', 'LABEL_1'];
  const request =
    task === 'question-answering'
      ? ({ task: 'question_answering' } as const)
      : cls?.problemType === 'regression'
        ? ({ task: 'sequence_classification', regression: true } as const)
        : ({ task: 'sequence_classification', labels } as const);
  let view: TaskModelView;
  try {
    view = await taskModelView(config.model, request);
  } catch (err) {
    throw new StudioError('invalid_input', `model: ${(err as Error).message}`, { field: 'model' });
  }
  if (!view.encoder) {
    warn('model', say('plan.taskNeedsEncoder', { architecture: view.architecture, family: view.family, task }), true);
    return {
      model: { architecture: view.architecture, parameterCount: 0, layers: 0, hiddenSize: 0 },
      trainableParameters: 0,
      totalParameters: 0,
      trainableShare: 0,
      targetedModules: 0,
      targetedLayers: 0,
      dataset: null,
      memory: { bytes: 0, parts: [], formula: '', formulaPhrase: undefined },
      time: { steps: 0, tokens: 0, seconds: null, formula: '' },
      warnings,
    };
  }
  const spec = view.spec;

  let trainable = 0;
  let total: number;
  let base: number;
  let targeted = 0;
  let targetedLayers = 0;
  try {
    const counted = countTaskTrainable(view, config.method, config.lora, task);
    for (const w of counted.match?.warningsSaid ?? []) warn('lora.target_modules', w);
    trainable = counted.trainable;
    total = counted.all;
    base = counted.base;
    targeted = counted.match?.targets.length ?? 0;
    targetedLayers = new Set(counted.match?.targets.map((t) => t.layer).filter((l) => l !== null)).size;
  } catch (err) {
    const said = targetsFailure(err);
    warn('lora.target_modules', said);
    base = countTaskTrainable(view, 'full', config.lora, task).base;
    total = base;
  }

  // The rows the run trains on: its eval split held out (at least one row, as holdOut picks them).
  let dataset: RunPlan['dataset'] = null;
  let lengths: Lengths | null = null;
  if (data) {
    const examples = data.report.examples;
    const split = config.dataset.eval_split;
    const held = split.kind === 'ratio' ? Math.min(examples - 1, Math.max(1, Math.round(examples * split.ratio))) : 0;
    try {
      lengths = measure(config.model, data.texts, config, task);
    } catch (err) {
      warn('dataset.path', say('plan.datasetUnreadable', { reason: (err as Error).message }));
    }
    dataset = {
      examples,
      trainExamples: examples - held,
      meanTokens: lengths?.mean ?? 0,
      truncated: lengths ? Math.round((lengths.truncated / Math.max(1, lengths.sampled)) * examples) : 0,
      truncatedShare: lengths ? lengths.truncated / Math.max(1, lengths.sampled) : 0,
    };
    if (lengths && lengths.truncated > 0 && task === 'classification') {
      warn('max_seq_length', say('plan.truncated', { count: lengths.truncated, total: lengths.sampled, share: lengths.truncated / lengths.sampled, maxLength: config.max_seq_length, longest: lengths.longest }));
    }
    if (dataset.trainExamples < 50) warn('dataset.path', say('plan.fewExamples', { count: dataset.trainExamples }));
    if (data.report.problemCount > 0) warn('dataset.path', say('plan.taskRowsLeftOut', { count: data.report.problemCount, file: data.report.file }));
  }

  const lr = config.learning_rate;
  const small = base < 50e6;
  const [lo, hi] = config.method === 'full' ? [1e-6, small ? 1e-3 : 1e-4] : [1e-5, small ? 1e-2 : 1e-3];
  if (lr < lo || lr > hi) warn('learning_rate', say('plan.learningRate', { lr, lo, hi, method: config.method, high: lr > hi ? 1 : 0 }));
  if (config.max_seq_length > spec.maxPositions) warn('max_seq_length', say('plan.beyondPositions', { maxLength: config.max_seq_length, positions: spec.maxPositions }));
  if (config.method !== 'full' && config.lora.lora_alpha / config.lora.r > 4) warn('lora.lora_alpha', say('plan.alphaRatio', { ratio: config.lora.lora_alpha / config.lora.r }));

  // Memory: as the decoder plan, with the head's outputs (labels, or a start and an end per token) for logits.
  const linearParams = linearModules(spec).reduce((n, m) => n + m.inFeatures * m.outFeatures, 0);
  const parts: RunPlan['memory']['parts'] = [];
  const part = (said: Said, bytes: number) => parts.push({ label: said.message, labelPhrase: said.phrase, bytes });
  if (config.method === 'lora') part(say('plan.part.frozenBase'), base * 4);
  if (config.method === 'qlora') {
    const bitsPerWeight = config.bnb_4bit_use_double_quant ? 4 + 8 / 64 + 32 / (64 * 256) : 4 + 32 / 64;
    part(say('plan.part.nf4', { bits: bitsPerWeight }), (linearParams * bitsPerWeight) / 8);
    part(say('plan.part.otherBase'), Math.max(0, base - linearParams) * 4);
  }
  part(say(config.method === 'full' ? 'plan.part.fullState' : 'plan.part.adapterState'), trainable * 16);
  const seq = Math.max(1, Math.ceil(Math.min(lengths ? lengths.mean * 1.5 : config.max_seq_length, config.max_seq_length)));
  const tokensInFlight = config.micro_batch_size * seq;
  const perTokenPerLayer = 6 * spec.hiddenSize + 3 * spec.intermediateSize + spec.numHeads * seq;
  part(say('plan.part.activations'), tokensInFlight * spec.numLayers * perTokenPerLayer * 4);
  const outputs = task === 'classification' ? config.micro_batch_size * Math.max(1, labels.length) : tokensInFlight * 2;
  part(say('plan.part.logits'), outputs * 4 * 2);
  part(say('plan.part.runtime'), RUNTIME_OVERHEAD_BYTES);
  const memoryBytes = parts.reduce((n, p) => n + p.bytes, 0);
  if (memoryBytes > totalmem() * 0.8) warn('method', say('plan.memoryHigh', { bytes: memoryBytes, total: totalmem(), method: config.method }));

  // Time: optimizer steps × inputs per step × tokens per input ÷ tokens per second.
  const batch = config.micro_batch_size * config.gradient_accumulation_steps;
  const trainInputs = dataset ? Math.round(dataset.trainExamples * (lengths?.inputsPerExample ?? 1)) : 0;
  const steps = config.max_steps ?? Math.max(1, Math.ceil((trainInputs / batch) * config.num_train_epochs));
  const tokens = steps * batch * (lengths?.mean ?? 0);
  const { tokensPerSecond, timeFormula } = trainingThroughput(ctx, config, base);
  const seconds = dataset && lengths ? tokens / tokensPerSecond : null;
  const memoryFormula = say('plan.memoryFormulaTask');

  return {
    model: { architecture: spec.architecture, parameterCount: base, layers: spec.numLayers, hiddenSize: spec.hiddenSize },
    trainableParameters: trainable,
    totalParameters: total,
    trainableShare: total > 0 ? trainable / total : 0,
    targetedModules: targeted,
    targetedLayers,
    dataset,
    memory: { bytes: memoryBytes, parts, formula: memoryFormula.message, formulaPhrase: memoryFormula.phrase },
    time: { steps, tokens, seconds, formula: timeFormula.message, formulaPhrase: timeFormula.phrase },
    warnings,
  };
}
