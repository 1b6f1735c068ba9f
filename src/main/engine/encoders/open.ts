// An encoder opened for a task (sequence classification or regression, extractive QA, masked-LM pretraining): the
// Hugging Face folder read as its task model (model/families/bert/task.ts; a head the checkpoint lacks is created,
// seeded, and said so), the method's view of the program, a CPU training session, the writer of what a run produces
// and a forward that returns the task's outputs. This is what a task run, evaluation or prediction opens.
//   lora / qlora  LoRA on the targets; the head trained in full as PEFT's modules_to_save (task_type SEQ_CLS adds
//                 "classifier", "score"; QUESTION_ANS "qa_outputs"), saved under PEFT's keys
//                 (base_model.model.classifier.weight, …) with adapter_config.json's task_type and modules_to_save,
//                 and task_head.json (class, labels) beside it. qlora holds every other linear as NF4.
//   full          every weight trainable; writes the task model's folder (config.json with architectures,
//                 id2label / label2id), from random weights with fromScratch (masked-LM pretraining).
// The session runs on the executor asked for (executors/index.ts openExecutor: 'cpu', 'cuda', or 'auto' = CUDA when
// the addon sees a GPU); the device plan lowers encoder programs with their task losses. float64 graphs (tests
// against the reference) are the CPU executor's only.

import type { LoraSection } from '../../../common/api/runs.ts';
import { openModelFolder, readModelSpec, type ModelSpec } from '../../formats/model/index.ts';
import {
  adapterFromTensors,
  adapterTensors,
  loraConfigForRun,
  peftModulesToSave,
  readAdapter,
  writeAdapter,
  type TaskHead,
} from '../../formats/peft/index.ts';
import { adapterTaskRequest } from '../../formats/peft/task-request.ts';
import { countParams, type Program } from '../../model/ir.ts';
import { buildProgramFromSpec } from '../../model/families/index.ts';
import {
  encoderForTask,
  isEncoderSpec,
  labelNames,
  taskModelConfig,
  type EncoderTaskRequest,
} from '../../model/families/bert/task.ts';
import type { EncoderSpec } from '../../model/families/bert/spec.ts';
import { fullFineTuneProgram, initProgramWeights } from '../models/index.ts';
import { readProgramWeights } from '../models/load.ts';
import { quantizeProgram } from '../quant/program.ts';
import { isNf4, nf4StorageBytes, type Nf4Tensor } from '../quant/nf4.ts';
import { applyLora, modulesToSaveParams } from '../lora/model.ts';
import { createCpuTrainingSession } from '../executors/onnx/session.ts';
import { openExecutor, type ExecutorChoice, type ExecutorName, type OpenExecutorOptions } from '../executors/index.ts';
import { writeFullModel } from '../trainer/model-session.ts';
import type { Batch, TensorMap, TrainingSession } from '../session.ts';
import type { AdapterWriter } from '../trainer/checkpoint.ts';

export type { EncoderTaskRequest } from '../../model/families/bert/task.ts';

export interface OpenEncoderOptions {
  /** A Hugging Face encoder folder: a base or MLM checkpoint, or a task model (then `task` may be left out). */
  model: string;
  /** The task model to open it as; default the folder's own class (which must carry a task head). */
  task?: EncoderTaskRequest;
  method: 'lora' | 'qlora' | 'full';
  /** LoRA settings as a run config holds them; modules_to_save adds modules to the task's head. */
  lora?: LoraSection & { modules_to_save?: string[] };
  /** A trained adapter to start from (evaluation, prediction, resume): its LoRA, head and task are used. */
  adapter?: string;
  seed: number;
  threads?: number;
  /** Full method only: weights from config.json, initialised as transformers does (pretraining). */
  fromScratch?: boolean;
  bnb_4bit_use_double_quant?: boolean;
  /** float64 graphs, for tests against the reference (CPU executor only). */
  elem?: 'float32' | 'float64';
  /** Which executor runs the session (default 'cpu'); 'cuda' without a usable GPU is refused saying why. */
  executor?: ExecutorChoice;
  /** Largest micro-batch in tokens (batch × sequence length): the device sizes its activation slots for it (cuda). */
  capacityTokens?: number;
  /** The native addon or CUDA probe (tests inject a stand-in built for the program); default: the built addon. */
  executorOptions?: (program: Program) => Omit<OpenExecutorOptions, 'program'>;
}

/** A training session that also returns a forward's logits (both executors have one). */
export type EncoderTrainingSession = TrainingSession & {
  forward(batch: Batch): Promise<{ logits: Float32Array | Float64Array; nllPerSequence: Float64Array }>;
};

/** What a forward gives, per task (rows of a batch of B sequences of T tokens). */
export type EncoderOutputs =
  | {
      task: 'sequence_classification';
      labels: string[];
      logits: Float32Array /* (B, L) */;
      probabilities: Float32Array; /* (B, L) */
    }
  | { task: 'regression'; values: Float32Array /* (B) */ }
  | { task: 'question_answering'; start: Float32Array /* (B, T) */; end: Float32Array /* (B, T) */ }
  | { task: 'masked_lm'; logits: Float32Array /* (B·T, V) */ };

export interface EncoderSession {
  session: EncoderTrainingSession;
  spec: EncoderSpec;
  program: Program;
  /** Classification label names by id (null for other tasks). */
  labels: string[] | null;
  /** PEFT's task_type of the adapter a LoRA run writes (null for full fine-tuning and masked LM). */
  taskType: 'SEQ_CLS' | 'QUESTION_ANS' | null;
  /** The modules trained in full beside LoRA, as adapter_config.json lists them. */
  modulesToSave: string[];
  writeAdapter: AdapterWriter;
  trainableParameters: number;
  totalParameters: number;
  baseWeightBytes: number;
  /** E.g. the head was created because the checkpoint has none; a listed target matched nothing. */
  warnings: string[];
  executor: { name: ExecutorName; reason: string };
  forward(batch: Batch): Promise<EncoderOutputs>;
  dispose(): Promise<void>;
}

/**
 * Modules besides the task head that the checkpoint lacks (BERT's pooler under a masked-LM checkpoint): PEFT would
 * leave them random and frozen; they go to modules_to_save so they train with the head. Their last name part, as
 * PEFT's suffix match takes it ("pooler" wraps bert.pooler).
 */
async function createdModules(dir: string, retarget: (s: ModelSpec) => ModelSpec): Promise<string[]> {
  const folder = await openModelFolder(dir, { spec: retarget });
  await folder.close();
  return [...new Set(folder.created.filter((n) => /(^|\.)pooler\./.test(n)).map(() => 'pooler'))];
}

export async function openEncoderSession(o: OpenEncoderOptions): Promise<EncoderSession> {
  if (o.fromScratch && o.method !== 'full') throw new Error(`from_scratch needs method "full" (got "${o.method}")`);
  const adapter = o.adapter ? await readAdapter(o.adapter) : null;
  if (adapter && o.method === 'full')
    throw new Error(`${o.adapter}: an adapter is opened with method lora or qlora, not full`);
  const request = o.task ?? (adapter ? adapterTaskRequest(adapter) : undefined);
  const retarget = (s: ModelSpec): ModelSpec => (request ? (encoderForTask(s, request) as ModelSpec) : s);
  const { spec: fromConfig, config: hfConfig } = await readModelSpec(o.model);
  const spec = retarget(fromConfig);
  if (!isEncoderSpec(spec))
    throw new Error(
      `${o.model}: ${spec.architecture} is not an encoder; classification and question answering need BERT, DistilBERT, RoBERTa or XLM-RoBERTa`,
    );
  if (spec.head.task === 'base')
    throw new Error(
      `${o.model}: ${spec.architecture} has no task head; say which task to open it for (classification, question answering, masked LM)`,
    );
  const task = spec.head.task;
  const taskType =
    task === 'sequence_classification' ? 'SEQ_CLS' : task === 'question_answering' ? 'QUESTION_ANS' : null;
  const base = buildProgramFromSpec(spec as ModelSpec);

  let program: Program;
  let warnings: string[] = [];
  let modulesToSave: string[] = [];
  let lora = o.lora;
  if (adapter) {
    const c = adapter.config;
    lora = {
      r: c.r,
      lora_alpha: c.lora_alpha,
      lora_dropout: c.lora_dropout,
      bias: c.bias,
      use_rslora: c.use_rslora,
      target_modules: [...adapter.layers.keys()],
      modules_to_save: c.modules_to_save ?? [],
    };
  }
  if (o.method === 'full') program = fullFineTuneProgram(base);
  else {
    if (!lora) throw new Error(`method ${o.method} needs LoRA settings (r, lora_alpha, target_modules, …)`);
    const own = [...(lora.modules_to_save ?? []), ...(adapter ? [] : await createdModules(o.model, retarget))];
    modulesToSave = adapter ? own : (peftModulesToSave(taskType, [...new Set(own)]) ?? []);
    const saved = modulesToSaveParams(base, modulesToSave).params;
    const quantized = o.method === 'qlora' ? quantizeProgram(base) : base;
    // the head trains in full: it stays float (bitsandbytes skips modules_to_save too)
    const floatHead = {
      ...quantized,
      params: quantized.params.map((d) => (saved.has(d.name) ? { ...d, quant: undefined } : d)),
    };
    const attached = applyLora(floatHead, {
      r: lora.r,
      alpha: lora.lora_alpha,
      dropout: lora.lora_dropout,
      targetModules: lora.target_modules,
      bias: lora.bias,
      useRslora: lora.use_rslora,
      modulesToSave,
    });
    program = attached.program;
    warnings = attached.warnings;
  }

  // the executor is chosen before any weight is read: a device asked for and absent is refused at once
  const choice = o.executor ?? 'cpu';
  if (choice !== 'cpu' && o.elem === 'float64')
    throw new Error(`float64 graphs run on the CPU executor only (asked for "${choice}")`);
  const executor = openExecutor(choice, { ...o.executorOptions?.(program), program });
  let weights: Map<string, Float32Array | Nf4Tensor>;
  if (o.fromScratch)
    weights = initProgramWeights(program, { seed: o.seed, std: spec.initializerRange, numLayers: spec.numLayers });
  else {
    const folder = await openModelFolder(o.model, { spec: retarget, seed: o.seed });
    try {
      weights = await readProgramWeights(folder, program, { doubleQuant: o.bnb_4bit_use_double_quant ?? true });
      // a head the adapter brings replaces the created one, so say nothing about creating it then
      if (!adapter) warnings = [...folder.warnings, ...warnings];
    } finally {
      await folder.close();
    }
  }
  let baseWeightBytes = 0;
  for (const d of program.params) {
    const w = weights.get(d.name);
    if (!d.trainable && w) baseWeightBytes += isNf4(w) ? nf4StorageBytes(w) : w.byteLength;
  }
  const session: EncoderTrainingSession =
    executor.name === 'cpu'
      ? await createCpuTrainingSession({ program, weights, seed: o.seed, threads: o.threads, elem: o.elem })
      : withForward(
          await executor.createTrainingSession({
            program,
            weights,
            seed: o.seed,
            threads: o.threads,
            capacityTokens: o.capacityTokens ?? 16 * 512,
          }),
          executor.name,
        );
  if (adapter) session.setTrainables(adapterTensors(adapter) as TensorMap);

  const labels = task === 'sequence_classification' && spec.head.problemType !== 'regression' ? labelNames(spec) : null;
  const taskHead: TaskHead | null = taskType
    ? { architecture: spec.architecture, id2label: spec.head.id2label, problemType: spec.head.problemType }
    : null;
  let writer: AdapterWriter;
  if (o.method === 'full')
    writer = (dir, trainables) =>
      writeFullModel(dir, {
        modelDir: o.model,
        spec: spec as ModelSpec,
        hfConfig: taskModelConfig(hfConfig, spec),
        program,
        trainables,
        trainingTemplate: null,
      });
  else {
    const peftConfig = {
      ...loraConfigForRun(lora!, spec, o.model),
      task_type: taskType ?? 'CAUSAL_LM',
      modules_to_save: modulesToSave.length ? modulesToSave : null,
    };
    writer = async (dir: string, trainables: TensorMap) => {
      await writeAdapter(dir, { ...adapterFromTensors(peftConfig, trainables), taskHead });
    };
  }

  return {
    session,
    spec,
    program,
    labels,
    taskType,
    modulesToSave,
    writeAdapter: writer,
    trainableParameters: countParams(program, (d) => d.trainable),
    totalParameters: countParams(base),
    baseWeightBytes,
    warnings,
    executor: { name: executor.name, reason: executor.reason },
    forward: (batch) => encoderForward(session, spec, batch),
    dispose: () => session.dispose(),
  };
}

/** The executor's session, checked to return logits (a task's metrics and predictions read them). */
function withForward(session: TrainingSession, name: ExecutorName): EncoderTrainingSession {
  if (typeof (session as Partial<EncoderTrainingSession>).forward !== 'function')
    throw new Error(`the ${name} executor returns no logits, which an encoder task needs; use executor "cpu"`);
  return session as EncoderTrainingSession;
}

/** The batch with neutral targets where a task's loss needs them (a forward for prediction has none). */
function withTargets(spec: EncoderSpec, batch: Batch): Batch {
  const b = { ...batch };
  if (!b.labels) b.labels = new Int32Array(batch.B * batch.T).fill(-100);
  if (spec.head.task === 'question_answering') {
    b.spanStarts ??= new Int32Array(batch.B).fill(-1);
    b.spanEnds ??= new Int32Array(batch.B).fill(-1);
  }
  if (spec.head.problemType === 'regression') b.regressionTargets ??= new Float64Array(batch.B).fill(NaN);
  return b;
}

/** The task's outputs from the logits graph: pooled rows for classification, start/end columns for QA. */
export async function encoderForward(
  session: EncoderTrainingSession,
  spec: EncoderSpec,
  batch: Batch,
): Promise<EncoderOutputs> {
  const { logits } = await session.forward(withTargets(spec, batch));
  const { B, T } = batch;
  if (spec.head.task === 'question_answering') {
    const start = new Float32Array(B * T),
      end = new Float32Array(B * T);
    for (let r = 0; r < B * T; r++) {
      start[r] = logits[r * 2];
      end[r] = logits[r * 2 + 1];
    }
    return { task: 'question_answering', start, end };
  }
  if (spec.head.task === 'sequence_classification') {
    const L = spec.head.numLabels;
    const pooled = new Float32Array(B * L);
    for (let b = 0; b < B; b++) pooled.set(logits.subarray(b * T * L, b * T * L + L), b * L);
    if (spec.head.problemType === 'regression') return { task: 'regression', values: pooled };
    const probabilities = new Float32Array(B * L);
    for (let b = 0; b < B; b++) {
      const row = pooled.subarray(b * L, (b + 1) * L);
      const m = Math.max(...row);
      let z = 0;
      for (let j = 0; j < L; j++) z += Math.exp(row[j] - m);
      for (let j = 0; j < L; j++) probabilities[b * L + j] = Math.exp(row[j] - m) / z;
    }
    return { task: 'sequence_classification', labels: labelNames(spec), logits: pooled, probabilities };
  }
  return { task: 'masked_lm', logits: Float32Array.from(logits) };
}
